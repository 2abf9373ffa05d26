"""KYC: submit, approve, reject, expire, look up.

The document number never reaches the database or a log in clear: it is
encrypted with AES-GCM (``crypto.FieldCipher``, purpose-bound), found again
through an HMAC blind index, and shown only masked (``*****4567``). Events and
results carry the masked copy only. The key comes from ``AZORA_FIELD_KEY`` or
``AZORA_FIELD_KEY_FILE``; without one, ``submit_kyc`` raises a
``ConfigurationError`` saying how to make a key (nothing falls back to a
built-in key).

Graph: PENDING -> APPROVED | REJECTED | EXPIRED; APPROVED -> EXPIRED;
REJECTED or EXPIRED -> PENDING (a new submission replaces the document).
Approving and rejecting take an ADMIN reviewer other than the subject.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..crypto import FieldCipher, check_document_number, default_cipher, mask
from ..errors import Forbidden, NotFound, ValidationError
from ..models import (
    DocumentType,
    KYCStatus,
    KYCVerification,
    RiskLevel,
    SyncOperation,
    UserRole,
)
from ..support.clock import utcnow
from ..workflow.service import Service, check_id, enum_value, text
from ..workflow.transitions import KYC, move, record

PURPOSE = b"kyc.document_number"
DEFAULT_VALIDITY = timedelta(days=365)


@dataclass(frozen=True)
class KYCRecord:
    """What may be shown of a KYC record: never the document number itself."""

    id: int
    user_id: int
    status: str
    risk_level: str | None
    document_type: str
    document_masked: str
    country: str | None
    key_id: str
    submitted_at: datetime
    reviewed_at: datetime | None
    expires_at: datetime | None
    rejection_reason: str

    @classmethod
    def of(cls, row: KYCVerification) -> KYCRecord:
        return cls(row.id, row.user_id, str(row.status),
                   None if row.risk_level is None else str(row.risk_level),
                   str(row.document_type), row.document_masked, row.country, row.key_id,
                   row.submitted_at, row.reviewed_at, row.expires_at, row.rejection_reason)

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _country(value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value.strip()) != 2 or not value.strip().isalpha():
        raise ValidationError("country must be a two-letter ISO 3166 code such as 'KE'",
                              field="country", rule="format")
    return value.strip().upper()


class KYCMixin(Service):
    _cipher: FieldCipher | None = None

    @property
    def cipher(self) -> FieldCipher:
        """The field cipher: set explicitly, else the process-wide one from the
        environment (``ConfigurationError`` when no key is configured)."""
        return self._cipher or default_cipher()

    @cipher.setter
    def cipher(self, value: FieldCipher | None) -> None:
        self._cipher = value

    def _document_fields(self, document_number: str) -> dict[str, Any]:
        check_document_number(document_number)
        cipher = self.cipher
        return {"document_ciphertext": cipher.encrypt(document_number, PURPOSE),
                "document_index": cipher.blind_index(document_number, PURPOSE),
                "document_masked": mask(document_number), "key_id": cipher.key_id}

    def submit_kyc(self, user_id: int, document_type: DocumentType | str,
                   document_number: str, country: str | None = None) -> KYCRecord:
        """A user's (first or renewed) submission: PENDING until reviewed."""
        document_type = enum_value(DocumentType, document_type, "document_type")
        fields = {"document_type": document_type, "country": _country(country),
                  **self._document_fields(document_number)}
        with self.store.atomic():
            self._user(user_id)
            row = self.store.backend.lock_rows(
                KYCVerification.select().where(KYCVerification.user == user_id)).first()
            if row is None:
                row = KYCVerification.create(user=user_id, **fields)
                record(KYC, row.id, None, KYCStatus.PENDING, user_id, "submitted")
                operation = SyncOperation.CREATE
            else:
                move(KYC, row, KYCStatus.PENDING, user_id, "submitted again",
                     detail="a record under review or approved is not replaced",
                     risk_level=None, reviewer=None, reviewed_at=None, expires_at=None,
                     rejection_reason="", submitted_at=utcnow(), **fields)
                operation = SyncOperation.UPDATE
            self._emit_kyc(row, operation)
        return KYCRecord.of(row)

    def _emit_kyc(self, row: KYCVerification, operation: SyncOperation) -> None:
        self._emit("KYC", row.id, operation,
                   {"user_id": row.user_id, "status": str(row.status),
                    "risk_level": None if row.risk_level is None else str(row.risk_level),
                    "document_type": str(row.document_type),
                    "document_masked": row.document_masked})

    def _review(self, kyc_id: int, reviewer_id: int, status: KYCStatus, reason: str,
                **changes: Any) -> KYCRecord:
        with self.store.atomic():
            row = self._get(KYCVerification, kyc_id, "kyc_id", lock=True)
            reviewer = self._user(reviewer_id, "reviewer_id")
            if reviewer.role != UserRole.ADMIN or reviewer.id == row.user_id:
                raise Forbidden(f"user {reviewer_id} may not review this KYC record (an ADMIN "
                                "other than its subject reviews)", field="reviewer_id",
                                rule="role")
            move(KYC, row, status, reviewer_id, reason, reviewer=reviewer_id,
                 reviewed_at=utcnow(), **changes)
            self._emit_kyc(row, SyncOperation.UPDATE)
        return KYCRecord.of(row)

    def approve_kyc(self, kyc_id: int, reviewer_id: int,
                    risk_level: RiskLevel | str = RiskLevel.LOW,
                    valid_for: timedelta = DEFAULT_VALIDITY) -> KYCRecord:
        risk = enum_value(RiskLevel, risk_level, "risk_level")
        return self._review(kyc_id, reviewer_id, KYCStatus.APPROVED, "approved",
                            risk_level=risk, expires_at=utcnow() + valid_for)

    def reject_kyc(self, kyc_id: int, reviewer_id: int, reason: str) -> KYCRecord:
        reason = text(reason, "reason", 2_000)
        return self._review(kyc_id, reviewer_id, KYCStatus.REJECTED, reason,
                            rejection_reason=reason)

    def expire_kyc(self, kyc_id: int, reason: str = "expired") -> KYCRecord:
        with self.store.atomic():
            row = self._get(KYCVerification, kyc_id, "kyc_id", lock=True)
            move(KYC, row, KYCStatus.EXPIRED, None, reason)
            self._emit_kyc(row, SyncOperation.UPDATE)
        return KYCRecord.of(row)

    def expire_due_kyc(self, now: datetime | None = None) -> list[int]:
        """Expire every APPROVED record whose ``expires_at`` has passed."""
        now = now or utcnow()
        due = [row.id for row in KYCVerification.select(KYCVerification.id).where(
            (KYCVerification.status == KYCStatus.APPROVED)
            & (KYCVerification.expires_at <= now))]
        for kyc_id in due:
            self.expire_kyc(kyc_id)
        return due

    # -- reads -----------------------------------------------------------------------

    def kyc_lookup(self, user_id: int) -> KYCRecord:
        """The user's KYC record (masked), or NotFound. One index probe."""
        check_id(user_id, "user_id")
        row = KYCVerification.select().where(KYCVerification.user == user_id).first()
        if row is None:
            raise NotFound(f"user {user_id} has no KYC record", field="user_id",
                           rule="exists")
        return KYCRecord.of(row)

    def document_index(self, document_number: str) -> str:
        """The blind index records of this document number hold (the number is
        checked first)."""
        check_document_number(document_number)
        return self.cipher.blind_index(document_number, PURPOSE)

    def kyc_find(self, document_number: str) -> list[KYCRecord]:
        """Every record holding this document number (through the blind index)."""
        index = self.document_index(document_number)
        rows = KYCVerification.select().where(KYCVerification.document_index == index)
        return [KYCRecord.of(row) for row in rows.order_by(KYCVerification.id)]

    def reveal_document_number(self, kyc_id: int) -> str:
        """Decrypt a record's document number (for a compliance officer's eyes only:
        never log it)."""
        row = self._get(KYCVerification, kyc_id, "kyc_id")
        return self.cipher.decrypt(row.document_ciphertext, PURPOSE)


__all__ = ["PURPOSE", "KYCMixin", "KYCRecord"]
