ALTER TABLE "consumed_events" ADD COLUMN "source" VARCHAR(64) NOT NULL DEFAULT '';
ALTER TABLE "consumed_events" DROP CONSTRAINT "consumed_events_pkey";
ALTER TABLE "consumed_events" ADD CONSTRAINT "consumed_events_pkey" PRIMARY KEY ("consumer", "source", "event_id");
ALTER TABLE "event_log" ADD COLUMN "source" VARCHAR(64) NOT NULL DEFAULT '';
DROP INDEX "event_log_event_id";
CREATE UNIQUE INDEX "event_log_source_event_id" ON "event_log" ("source", "event_id");
CREATE TABLE "store_identity" ("source" VARCHAR(64) NOT NULL PRIMARY KEY);
INSERT INTO "store_identity" ("source") VALUES (replace(gen_random_uuid()::text, '-', ''));
CREATE TABLE "consumer_positions" ("consumer" VARCHAR(200) NOT NULL PRIMARY KEY, "position" BIGINT NOT NULL, "saved_at" TIMESTAMP NOT NULL);
