-- kyc_lookup by user answered from one index (every column it returns).
CREATE INDEX "ix_kyc_verifications_user" ON "kyc_verifications" ("user_id", "status", "risk_level", "document_type", "document_masked", "country", "submitted_at", "reviewed_at", "expires_at");
