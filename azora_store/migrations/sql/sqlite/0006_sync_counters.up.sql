-- 0006_sync_counters (up, sqlite): frozen; never edit, add a migration.

CREATE TRIGGER trg_service_sync_count_insert AFTER INSERT ON service_sync
BEGIN
    INSERT OR IGNORE INTO sync_counters (service, status, count) VALUES (NEW.service, NEW.status, 0);
    UPDATE sync_counters SET count = count + 1 WHERE service = NEW.service AND status = NEW.status;
END;

CREATE TRIGGER trg_service_sync_count_update AFTER UPDATE OF status ON service_sync
WHEN OLD.status IS NOT NEW.status AND OLD.service IS NEW.service
BEGIN
    INSERT OR IGNORE INTO sync_counters (service, status, count) VALUES (NEW.service, NEW.status, 0);
    UPDATE sync_counters SET count = count + -1 WHERE service = OLD.service AND status = OLD.status;
    UPDATE sync_counters SET count = count + 1 WHERE service = NEW.service AND status = NEW.status;
END;

CREATE TRIGGER trg_service_sync_count_move AFTER UPDATE OF service ON service_sync
WHEN OLD.service IS NOT NEW.service
BEGIN
    INSERT OR IGNORE INTO sync_counters (service, status, count) VALUES (NEW.service, NEW.status, 0);
    UPDATE sync_counters SET count = count + -1 WHERE service = OLD.service AND status = OLD.status;
    UPDATE sync_counters SET count = count + 1 WHERE service = NEW.service AND status = NEW.status;
END;

CREATE TRIGGER trg_service_sync_count_delete AFTER DELETE ON service_sync
BEGIN
    UPDATE sync_counters SET count = count + -1 WHERE service = OLD.service AND status = OLD.status;
END;
