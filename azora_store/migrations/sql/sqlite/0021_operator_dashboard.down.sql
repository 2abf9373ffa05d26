-- Back to three scopes: 'operator' is taken out of every token's scopes; a token
-- that held only 'operator' keeps scope 'read' but is revoked (it never could read).
CREATE TABLE "api_tokens_old" ("id" INTEGER NOT NULL PRIMARY KEY, "name" VARCHAR(100) NOT NULL CONSTRAINT "ck_api_tokens_name_not_blank" CHECK (length(trim("name")) > 0), "token_hash" VARCHAR(64) NOT NULL, "scopes" VARCHAR(21) NOT NULL CONSTRAINT "ck_api_tokens_scopes_enum" CHECK ("scopes" IN ('compliance', 'read', 'write', 'compliance read', 'compliance write', 'read write', 'compliance read write')), "created_at" DATETIME NOT NULL, "last_used_at" DATETIME, "revoked_at" DATETIME);
INSERT INTO "api_tokens_old" ("id", "name", "token_hash", "scopes", "created_at", "last_used_at", "revoked_at") SELECT "id", "name", "token_hash", COALESCE(NULLIF(TRIM(REPLACE(' ' || "scopes" || ' ', ' operator ', ' ')), ''), 'read'), "created_at", "last_used_at", CASE WHEN "scopes" = 'operator' THEN COALESCE("revoked_at", CURRENT_TIMESTAMP) ELSE "revoked_at" END FROM "api_tokens";
DROP TABLE "api_tokens";
ALTER TABLE "api_tokens_old" RENAME TO "api_tokens";
CREATE UNIQUE INDEX "api_tokens_token_hash" ON "api_tokens" ("token_hash");
