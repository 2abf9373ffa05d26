"""AML checks: a provider's score (0-100), whether it was flagged, why, and the
rule and provider versions that produced it, optionally about one ledger
transaction. Checks are records of what a screening said: never edited."""

from __future__ import annotations

from ..errors import ValidationError
from ..models import AMLCheck, LedgerTransaction, SyncOperation
from ..workflow.service import Service, text


class AMLMixin(Service):
    def record_aml_check(self, user_id: int, score: int, flagged: bool, reason: str,
                         rule_version: str, provider: str,
                         ledger_transaction_id: int | None = None) -> AMLCheck:
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
            raise ValidationError("score must be a whole number from 0 to 100", field="score",
                                  rule="range")
        if not isinstance(flagged, bool):
            raise ValidationError("flagged must be true or false", field="flagged",
                                  rule="type")
        reason = text(reason, "reason", 2_000, required=False)
        rule_version = text(rule_version, "rule_version", 64)
        provider = text(provider, "provider", 64)
        with self.store.atomic():
            self._user(user_id)
            if ledger_transaction_id is not None:
                self._get(LedgerTransaction, ledger_transaction_id, "ledger_transaction_id")
            check = AMLCheck.create(user=user_id, score=score, flagged=flagged, reason=reason,
                                    rule_version=rule_version, provider=provider,
                                    ledger_transaction=ledger_transaction_id)
            self._emit("AMLCheck", check.id, SyncOperation.CREATE,
                       {"user_id": user_id, "score": score, "flagged": flagged,
                        "rule_version": rule_version, "provider": provider})
        return check

    def aml_checks(self, user_id: int) -> list[AMLCheck]:
        """The user's checks, newest first."""
        return list(AMLCheck.select().where(AMLCheck.user == user_id)
                    .order_by(AMLCheck.id.desc()))


__all__ = ["AMLMixin"]
