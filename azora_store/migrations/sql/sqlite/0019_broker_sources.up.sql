CREATE TABLE "consumed_events_0019" ("consumer" VARCHAR(64) NOT NULL, "source" VARCHAR(64) NOT NULL DEFAULT '', "event_id" INTEGER NOT NULL, "processed_at" DATETIME NOT NULL, PRIMARY KEY ("consumer", "source", "event_id"));
INSERT INTO "consumed_events_0019" ("consumer", "source", "event_id", "processed_at") SELECT "consumer", '', "event_id", "processed_at" FROM "consumed_events";
DROP TABLE "consumed_events";
ALTER TABLE "consumed_events_0019" RENAME TO "consumed_events";
ALTER TABLE "event_log" ADD COLUMN "source" VARCHAR(64) NOT NULL DEFAULT '';
DROP INDEX "event_log_event_id";
CREATE UNIQUE INDEX "event_log_source_event_id" ON "event_log" ("source", "event_id");
CREATE TABLE "store_identity" ("source" VARCHAR(64) NOT NULL PRIMARY KEY);
INSERT INTO "store_identity" ("source") VALUES (lower(hex(randomblob(16))));
