-- 0006_sync_counters (down, postgresql): frozen; never edit, add a migration.

DROP TRIGGER IF EXISTS trg_service_sync_count_insert ON service_sync;

DROP TRIGGER IF EXISTS trg_service_sync_count_update ON service_sync;

DROP TRIGGER IF EXISTS trg_service_sync_count_delete ON service_sync;

DROP TRIGGER IF EXISTS trg_service_sync_count_truncate ON service_sync;

DROP FUNCTION IF EXISTS azora_count_sync_insert();

DROP FUNCTION IF EXISTS azora_count_sync_update();

DROP FUNCTION IF EXISTS azora_count_sync_delete();

DROP FUNCTION IF EXISTS azora_count_sync_truncate();

ALTER TABLE service_sync RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, autovacuum_vacuum_cost_delay, autovacuum_analyze_scale_factor);
