-- The operator scope (dashboard and sync actions): a wider column and scope list.
ALTER TABLE "api_tokens" DROP CONSTRAINT "ck_api_tokens_scopes_enum";
ALTER TABLE "api_tokens" ALTER COLUMN "scopes" TYPE VARCHAR(30);
ALTER TABLE "api_tokens" ADD CONSTRAINT "ck_api_tokens_scopes_enum" CHECK ("scopes" IN ('compliance', 'operator', 'read', 'write', 'compliance operator', 'compliance read', 'compliance write', 'operator read', 'operator write', 'read write', 'compliance operator read', 'compliance operator write', 'compliance read write', 'operator read write', 'compliance operator read write'));
