-- Dead letters, newest first, for `sync failed` and GET /api/sync/failed:
-- a keyset page walks one of these partial indexes backwards (only FAILED
-- rows are in them, so they stay small and cost nothing on the hot path).
CREATE INDEX "ix_service_sync_failed" ON "service_sync" ("id") WHERE ("status" = 'FAILED');
CREATE INDEX "ix_service_sync_failed_service" ON "service_sync" ("service", "id") WHERE ("status" = 'FAILED');
