-- 0006_sync_counters (up, postgresql): frozen; never edit, add a migration.

CREATE FUNCTION azora_count_sync_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_counter_deltas (service, status, delta)
    SELECT service, status, SUM(delta) FROM (SELECT service, status, 1 AS delta FROM new_rows) AS deltas
    GROUP BY service, status HAVING SUM(delta) <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION azora_count_sync_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_counter_deltas (service, status, delta)
    SELECT service, status, SUM(delta) FROM (SELECT service, status, -1 AS delta FROM old_rows UNION ALL SELECT service, status, 1 FROM new_rows) AS deltas
    GROUP BY service, status HAVING SUM(delta) <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION azora_count_sync_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_counter_deltas (service, status, delta)
    SELECT service, status, SUM(delta) FROM (SELECT service, status, -1 AS delta FROM old_rows) AS deltas
    GROUP BY service, status HAVING SUM(delta) <> 0;
    RETURN NULL;
END $$;

CREATE FUNCTION azora_count_sync_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM sync_counters;
    DELETE FROM sync_counter_deltas;
    RETURN NULL;
END $$;

CREATE TRIGGER trg_service_sync_count_insert AFTER INSERT ON service_sync REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION azora_count_sync_insert();

CREATE TRIGGER trg_service_sync_count_update AFTER UPDATE ON service_sync REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION azora_count_sync_update();

CREATE TRIGGER trg_service_sync_count_delete AFTER DELETE ON service_sync REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION azora_count_sync_delete();

CREATE TRIGGER trg_service_sync_count_truncate AFTER TRUNCATE ON service_sync FOR EACH STATEMENT EXECUTE FUNCTION azora_count_sync_truncate();

ALTER TABLE service_sync SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 100000, autovacuum_vacuum_cost_delay = 0, autovacuum_analyze_scale_factor = 0.02);
