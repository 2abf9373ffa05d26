DROP TABLE "store_identity";
DELETE FROM "event_log" WHERE "source" <> '';
DROP INDEX "event_log_source_event_id";
ALTER TABLE "event_log" DROP COLUMN "source";
CREATE UNIQUE INDEX "event_log_event_id" ON "event_log" ("event_id");
CREATE TABLE "consumed_events_0001" ("consumer" VARCHAR(64) NOT NULL, "event_id" INTEGER NOT NULL, "processed_at" DATETIME NOT NULL, PRIMARY KEY ("consumer", "event_id"));
INSERT INTO "consumed_events_0001" ("consumer", "event_id", "processed_at") SELECT "consumer", "event_id", "processed_at" FROM "consumed_events" WHERE "source" = '';
DROP TABLE "consumed_events";
ALTER TABLE "consumed_events_0001" RENAME TO "consumed_events";
