"""Compliance: ``store.compliance``.

- KYC records with the document number encrypted at rest (AES-GCM), found by
  an HMAC blind index, shown masked (``kyc.py``);
- AML screening results (``aml.py``);
- the append-only, hash-chained security event log and its verifier
  (``audit.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .aml import AMLMixin
from .audit import AuditMixin, ChainReport
from .kyc import KYCMixin, KYCRecord

if TYPE_CHECKING:
    from ..store import Store


class Compliance(KYCMixin, AMLMixin, AuditMixin):
    """KYC, AML checks and security events."""

    def __init__(self, store: Store):
        super().__init__(store)


__all__ = ["ChainReport", "Compliance", "KYCRecord"]
