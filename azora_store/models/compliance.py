"""Compliance: KYC (one record per user, document number encrypted), AML
checks, and the append-only, hash-chained security event log."""

from __future__ import annotations

from enum import StrEnum

from peewee import (
    AutoField,
    BigAutoField,
    BlobField,
    BooleanField,
    CharField,
    DateTimeField,
    ModelIndex,
    TextField,
)

from .base import BaseModel
from .fields import (
    CheckedCharField,
    CheckedIntegerField,
    EnumField,
    ForeignKey,
    between,
    created_at,
    not_blank,
    updated_at,
)
from .ledger import LedgerTransaction
from .users import User


class KYCStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class RiskLevel(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"


class DocumentType(StrEnum):
    PASSPORT = "PASSPORT"
    NATIONAL_ID = "NATIONAL_ID"
    DRIVERS_LICENSE = "DRIVERS_LICENSE"
    RESIDENCE_PERMIT = "RESIDENCE_PERMIT"


class Severity(StrEnum):
    INFO = "INFO"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class KYCVerification(BaseModel):
    """The document number is never stored in clear: ``document_ciphertext``
    is AES-GCM, ``document_index`` an HMAC blind index for exact look-up, and
    ``document_masked`` the only form ever shown."""

    id = AutoField()
    user = ForeignKey(User, unique=True, backref="kyc")
    status = EnumField(KYCStatus, default=KYCStatus.PENDING)
    risk_level = EnumField(RiskLevel, null=True)
    document_type = EnumField(DocumentType)
    country = CharField(max_length=2, null=True)
    document_ciphertext = BlobField()
    document_index = CheckedCharField(max_length=64, rules=[not_blank()])
    document_masked = CharField(max_length=32)
    key_id = CharField(max_length=32)
    rejection_reason = TextField(default="")
    reviewer = ForeignKey(User, null=True, backref="+", index=False)
    submitted_at = created_at()
    reviewed_at = DateTimeField(null=True)
    expires_at = DateTimeField(null=True)
    created_at = created_at()
    updated_at = updated_at()

    class Meta:
        table_name = "kyc_verifications"


KYCVerification.add_index(ModelIndex(KYCVerification, (KYCVerification.document_index,),
                                     name="ix_kyc_verifications_document_index"))
# kyc_lookup by user reads this index alone (migration 0024): one leaf when cold.
KYCVerification.add_index(ModelIndex(KYCVerification, (
    KYCVerification.user, KYCVerification.status, KYCVerification.risk_level,
    KYCVerification.document_type, KYCVerification.document_masked, KYCVerification.country,
    KYCVerification.submitted_at, KYCVerification.reviewed_at, KYCVerification.expires_at),
    name="ix_kyc_verifications_user"))


class AMLCheck(BaseModel):
    id = BigAutoField()
    user = ForeignKey(User, backref="aml_checks")
    ledger_transaction = ForeignKey(LedgerTransaction, null=True, backref="aml_checks",
                                    index=False)
    score = CheckedIntegerField(rules=[between(0, 100)])
    flagged = BooleanField(default=False)
    reason = TextField(default="")
    rule_version = CheckedCharField(max_length=64, rules=[not_blank()])
    provider = CheckedCharField(max_length=64, rules=[not_blank()])
    created_at = created_at()

    class Meta:
        table_name = "aml_checks"


class SecurityEvent(BaseModel):
    """Append-only (the database refuses UPDATE and DELETE) and hash-chained:
    ``hash`` covers this row's content and ``prev_hash``, so editing or
    removing any row breaks every link after it."""

    id = BigAutoField()
    user = ForeignKey(User, null=True, backref="security_events")
    event_type = CheckedCharField(max_length=64, rules=[not_blank()])
    severity = EnumField(Severity, default=Severity.INFO)
    ip_address = CharField(max_length=45, null=True)
    user_agent = TextField(null=True)
    details = TextField(default="{}")  # canonical JSON text: hashed byte for byte
    created_at = created_at()
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64, unique=True)

    class Meta:
        table_name = "security_events"
