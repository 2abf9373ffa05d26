DROP INDEX "ix_kyc_verifications_user";
