DROP TRIGGER IF EXISTS trg_service_sync_notify ON service_sync;
DROP FUNCTION IF EXISTS azora_outbox_notify();
