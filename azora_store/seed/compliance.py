"""Skill verifications, KYC records and AML checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .common import (
    END,
    _chunked,
    _stamp,
    document_number,
    zipf_weights,
)
from .words import SKILLS


class ComplianceBuilder:
    """Skill verifications, KYC records and AML checks.

    A part of :class:`~azora_store.seed.Seeder`: it
    reads the draws and settings the Seeder keeps (``self.np``, ``self.scale``...)."""

    def _skill_verifications(self) -> None:
        np, rng = self.np, self.rng("skill_verifications")
        wanted = self.scale.users // 10
        pairs = np.unique(rng.integers(0, self.scale.users, wanted) * len(SKILLS)
                          + rng.choice(len(SKILLS), wanted, p=zipf_weights(len(SKILLS), 1.07)))
        levels = rng.choice(np.array(["BEGINNER", "INTERMEDIATE", "ADVANCED", "EXPERT"]),
                            len(pairs))
        score = rng.integers(40, 101, len(pairs))
        now = str(END)
        rows = [(i + 1, int(p // len(SKILLS)) + 1, SKILLS[int(p % len(SKILLS))], str(levels[i]),
                 int(score[i]), "", now, now, now) for i, p in enumerate(pairs.tolist())]
        self._load("skill_verifications", ("id", "user_id", "skill", "level", "score",
                                           "evidence", "verified_at", "created_at",
                                           "updated_at"), iter(_chunked(rows)), len(rows))

    def _kyc(self) -> None:
        from ..compliance.kyc import PURPOSE as KYC_PURPOSE
        from ..crypto import mask

        np, rng = self.np, self.rng("kyc_verifications")
        chosen = self._kyc_users(rng)
        n = len(chosen)
        status = rng.choice(np.array(["APPROVED", "PENDING", "REJECTED", "EXPIRED"]), n,
                            p=(0.70, 0.15, 0.10, 0.05))
        risk = rng.choice(np.array(["LOW", "MEDIUM", "HIGH"]), n, p=(0.8, 0.15, 0.05))
        kind = rng.choice(np.array(["PASSPORT", "NATIONAL_ID", "DRIVERS_LICENSE"]), n)
        country = rng.choice(np.array(["ZA", "NG", "KE", "GH", "EG", "GB", "US"]), n)
        stamps = _stamp(np, self.user_created[chosen - 1] + 3_600)
        chosen, status, risk, kind, country = (column.tolist() for column in (
            chosen, status, risk, kind, country))
        cipher, purpose = self.cipher, KYC_PURPOSE

        def chunks() -> Iterator[list[tuple]]:
            for a, b in self._spans(n):
                rows = []
                for i in range(a, b):
                    user = chosen[i]
                    number = document_number(user)
                    state = status[i]
                    reviewed = stamps[i] if state != "PENDING" else None
                    rows.append((i + 1, user, state, risk[i] if reviewed else None,
                                 kind[i], country[i], cipher.encrypt(number, purpose),
                                 cipher.blind_index(number, purpose), mask(number),
                                 cipher.key_id, "", stamps[i], reviewed, stamps[i], stamps[i]))
                yield rows

        self._load("kyc_verifications", (
            "id", "user_id", "status", "risk_level", "document_type", "country",
            "document_ciphertext", "document_index", "document_masked", "key_id",
            "rejection_reason", "submitted_at", "reviewed_at", "created_at", "updated_at"),
            chunks(), n)

    def _kyc_users(self, rng: Any) -> Any:
        """The 80% of users with a KYC record (the table's first draw)."""
        return self.np.flatnonzero(rng.random(self.scale.users) < 0.8) + 1

    def _aml(self) -> None:
        rng = self.rng("aml_checks")
        n = max(10, self.scale.users // 20)
        user = rng.integers(1, self.scale.users + 1, n)
        score = rng.integers(0, 101, n)
        now = str(END)
        rows = [(i + 1, int(user[i]), int(score[i]), bool(score[i] >= 80),
                 "velocity" if score[i] >= 80 else "", "rules-2026.10", "internal", now)
                for i in range(n)]
        self._load("aml_checks", ("id", "user_id", "score", "flagged", "reason", "rule_version",
                                  "provider", "created_at"), iter(_chunked(rows)), n)
