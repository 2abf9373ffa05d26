-- Wake idle outbox workers: one NOTIFY per inserting statement, which
-- Postgres folds into one notification per transaction, sent at commit.
CREATE FUNCTION azora_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('azora_outbox', '');
    RETURN NULL;
END;
$$;

-- (OR REPLACE: the script splitter reads a bare CREATE TRIGGER as SQLite's,
-- which ends at END.)
CREATE OR REPLACE TRIGGER trg_service_sync_notify AFTER INSERT ON service_sync
    FOR EACH STATEMENT EXECUTE FUNCTION azora_outbox_notify();
