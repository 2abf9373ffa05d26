-- The operator scope (dashboard and sync actions): SQLite cannot alter a CHECK,
-- so api_tokens is rebuilt with the wider scope list and copied over.
CREATE TABLE "api_tokens_new" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(100) NOT NULL CONSTRAINT "ck_api_tokens_name_not_blank" CHECK (length(trim("name")) > 0), "token_hash" VARCHAR(64) NOT NULL, "scopes" VARCHAR(30) NOT NULL CONSTRAINT "ck_api_tokens_scopes_enum" CHECK ("scopes" IN ('compliance', 'operator', 'read', 'write', 'compliance operator', 'compliance read', 'compliance write', 'operator read', 'operator write', 'read write', 'compliance operator read', 'compliance operator write', 'compliance read write', 'operator read write', 'compliance operator read write')), "created_at" DATETIME NOT NULL, "last_used_at" DATETIME, "revoked_at" DATETIME);
INSERT INTO "api_tokens_new" ("id", "name", "token_hash", "scopes", "created_at", "last_used_at", "revoked_at") SELECT "id", "name", "token_hash", "scopes", "created_at", "last_used_at", "revoked_at" FROM "api_tokens";
DROP TABLE "api_tokens";
ALTER TABLE "api_tokens_new" RENAME TO "api_tokens";
CREATE UNIQUE INDEX "api_tokens_token_hash" ON "api_tokens" ("token_hash");
