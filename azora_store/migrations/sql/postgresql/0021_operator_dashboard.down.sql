-- Back to three scopes: 'operator' is taken out of every token's scopes; a token
-- that held only 'operator' keeps scope 'read' but is revoked (it never could read).
ALTER TABLE "api_tokens" DROP CONSTRAINT "ck_api_tokens_scopes_enum";
UPDATE "api_tokens" SET "revoked_at" = COALESCE("revoked_at", LOCALTIMESTAMP AT TIME ZONE 'UTC') WHERE "scopes" = 'operator';
UPDATE "api_tokens" SET "scopes" = COALESCE(NULLIF(TRIM(REPLACE(' ' || "scopes" || ' ', ' operator ', ' ')), ''), 'read') WHERE "scopes" LIKE '%operator%';
ALTER TABLE "api_tokens" ALTER COLUMN "scopes" TYPE VARCHAR(21);
ALTER TABLE "api_tokens" ADD CONSTRAINT "ck_api_tokens_scopes_enum" CHECK ("scopes" IN ('compliance', 'read', 'write', 'compliance read', 'compliance write', 'read write', 'compliance read write'));
