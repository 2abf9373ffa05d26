DROP TABLE "store_identity";
DELETE FROM "event_log" WHERE "source" <> '';
DROP INDEX "event_log_source_event_id";
ALTER TABLE "event_log" DROP COLUMN "source";
CREATE UNIQUE INDEX "event_log_event_id" ON "event_log" ("event_id");
DELETE FROM "consumed_events" WHERE "source" <> '';
ALTER TABLE "consumed_events" DROP CONSTRAINT "consumed_events_pkey";
ALTER TABLE "consumed_events" DROP COLUMN "source";
ALTER TABLE "consumed_events" ADD CONSTRAINT "consumed_events_pkey" PRIMARY KEY ("consumer", "event_id");
