DROP INDEX "ix_service_sync_failed_service";
DROP INDEX "ix_service_sync_failed";
