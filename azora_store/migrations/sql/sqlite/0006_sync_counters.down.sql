-- 0006_sync_counters (down, sqlite): frozen; never edit, add a migration.

DROP TRIGGER IF EXISTS trg_service_sync_count_insert;

DROP TRIGGER IF EXISTS trg_service_sync_count_update;

DROP TRIGGER IF EXISTS trg_service_sync_count_move;

DROP TRIGGER IF EXISTS trg_service_sync_count_delete;
