"""The double-entry ledger: accounts, postings, and what an escrow holds.

Every money movement goes through ``post``: one ``LedgerTransaction`` and its
``Transfer`` rows, each moving a positive amount from one account to another
(a database trigger applies it to both balances; a CHECK keeps every balance
except EXTERNAL at zero or above). Nothing is stored twice: an escrow's
funded, released and refunded figures are sums of its transfers by kind, and
what it still holds is its account's balance.

Accounts: one WALLET per user and currency, one ESCROW account per escrow,
one PLATFORM and one EXTERNAL account per currency (EXTERNAL is the world
outside: deposits come from it, withdrawals go to it). No fees are charged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from peewee import fn

from ..errors import InsufficientFunds
from ..models import (
    Account,
    AccountKind,
    Escrow,
    LedgerTransaction,
    SyncOperation,
    TransactionKind,
    Transfer,
)
from ..money import check_currency, from_minor
from ..workflow.service import Service, money
from . import idempotency

if TYPE_CHECKING:
    from ..store import Store

ZERO = Decimal("0.00")
Leg = tuple[Account, Account, Decimal]


@dataclass(frozen=True)
class MoneyResult:
    """The outcome of a money operation; rebuilt from JSON when a key is replayed."""

    operation: str
    amount: Decimal  # total moved
    currency: str
    transaction_ids: tuple[int, ...] = ()
    account_id: int | None = None
    escrow_id: int | None = None
    milestone_id: int | None = None
    dispute_id: int | None = None
    status: str | None = None  # of the escrow (or dispute) after the operation
    to_freelancer: Decimal = ZERO
    to_client: Decimal = ZERO
    replayed: bool = field(default=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("replayed")
        data["transaction_ids"] = list(self.transaction_ids)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], replayed: bool = False) -> MoneyResult:
        values = dict(data)
        for name in ("amount", "to_freelancer", "to_client"):
            values[name] = Decimal(str(values[name]))
        values["transaction_ids"] = tuple(values["transaction_ids"])
        return cls(**values, replayed=replayed)


@dataclass(frozen=True)
class EscrowFigures:
    """Where an escrow's money went. ``funded == released + refunded + remaining``
    always; ``committed`` is what unreleased milestones claim of ``remaining``."""

    escrow_id: int
    currency: str
    status: str
    funded: Decimal
    released: Decimal
    refunded: Decimal
    remaining: Decimal
    committed: Decimal

    @property
    def available(self) -> Decimal:
        """What may still be refunded or given to a new milestone."""
        return self.remaining - self.committed


@dataclass(frozen=True)
class LedgerCheck:
    """A whole-ledger audit: ids of whatever breaks a rule (empty lists: all good)."""

    transactions: int
    unbalanced: list[int]  # ledger transactions whose postings do not sum to zero
    negative: list[int]  # non-EXTERNAL accounts below zero
    escrow_mismatches: list[int]  # funded != released + refunded + remaining

    @property
    def ok(self) -> bool:
        return not (self.unbalanced or self.negative or self.escrow_mismatches)


ESCROW_SUMS_SQL = """SELECT e.id, a.balance_minor,
  COALESCE((SELECT SUM(t.amount_minor) FROM transfers t
             WHERE t.to_account_id = a.id AND t.kind = 'ESCROW_FUND'), 0),
  COALESCE((SELECT SUM(t.amount_minor) FROM transfers t
             WHERE t.from_account_id = a.id AND t.kind IN ('ESCROW_RELEASE', 'ESCROW_REFUND')), 0)
FROM escrows e JOIN accounts a ON a.escrow_id = e.id ORDER BY e.id"""


# -- accounts ------------------------------------------------------------------------


def _get_or_create(store: Store, where: Any, lock: bool, **values: Any) -> Account:
    query = Account.select().where(where)
    if lock:
        query = store.backend.lock_rows(query)
    found = query.first()
    if found is not None:
        return found
    # A concurrent creator may win: insert-or-ignore, then read whichever row exists.
    Account.insert(**values).on_conflict_ignore().execute()
    return query.get()


def wallet(store: Store, user_id: int, currency: str, *, lock: bool = False) -> Account:
    """The user's wallet in ``currency`` (created on first use); ``lock`` holds its
    row until commit, so its balance may be checked before money leaves it."""
    return _get_or_create(store, (Account.kind == AccountKind.WALLET)
                          & (Account.owner == user_id) & (Account.currency == currency),
                          lock, kind=AccountKind.WALLET, owner=user_id, currency=currency)


def system_account(store: Store, kind: AccountKind, currency: str,
                   cache: dict[tuple[str, str], Account] | None = None) -> Account:
    """The PLATFORM or EXTERNAL account of a currency, never locked here (only the
    transfer trigger touches it, last). With ``cache``, it is remembered once the
    transaction that saw it commits: these rows never change."""
    found = None if cache is None else cache.get((str(kind), currency))
    if found is None:
        found = _get_or_create(store, (Account.kind == kind) & (Account.currency == currency),
                               False, kind=kind, currency=currency)
        if cache is not None:
            store.db.after_commit(lambda: cache.setdefault((str(kind), currency), found))
    return found


def escrow_account(escrow_id: int) -> Account:
    """An escrow's account; its balance is what the escrow holds (read it under the
    escrow's row lock: only escrow workflows, which take that lock, move it)."""
    return Account.select().where(Account.escrow == escrow_id).get()


def lock_accounts(store: Store, accounts: Sequence[Account]) -> dict[int, Decimal]:
    """Lock accounts in id order and return their current balances."""
    ids = sorted({account.id for account in accounts})
    query = (Account.select(Account.id, Account.balance).where(Account.id.in_(ids))
             .order_by(Account.id))
    return {row.id: row.balance for row in store.backend.lock_rows(query)}


def require_funds(balance: Decimal, amount: Decimal, what: str) -> None:
    if balance < amount:
        raise InsufficientFunds(f"{what} holds {balance}, less than the {amount} asked for",
                                field="amount", rule="balance")


def post(kind: TransactionKind, legs: Sequence[Leg], *, escrow_id: int | None = None,
         milestone_id: int | None = None, memo: str = "") -> int:
    """Write one ledger transaction and its transfers; returns the transaction id."""
    entry = LedgerTransaction.create(kind=kind, escrow=escrow_id, milestone=milestone_id,
                                     memo=memo)
    Transfer.insert_many([
        {"transaction": entry.id, "kind": kind, "from_account": source.id,
         "to_account": target.id, "amount": amount, "currency": source.currency}
        for source, target, amount in legs]).execute()
    return entry.id


# -- escrow figures ------------------------------------------------------------------


def escrow_figures(escrow: Escrow) -> EscrowFigures:
    """Sums of the escrow's transfers by kind, its balance, and what its
    unreleased milestones claim. Cheap: index look-ups on its own account."""
    from ..models import Milestone, MilestoneStatus

    account = escrow_account(escrow.id)
    sums = dict(Transfer.select(Transfer.kind, fn.SUM(Transfer.amount).coerce(False))
                .where(((Transfer.to_account == account.id)
                        & (Transfer.kind == TransactionKind.ESCROW_FUND))
                       | ((Transfer.from_account == account.id)
                          & Transfer.kind.in_([TransactionKind.ESCROW_RELEASE,
                                               TransactionKind.ESCROW_REFUND])))
                .group_by(Transfer.kind).tuples())
    committed = (Milestone.select(fn.SUM(Milestone.amount).coerce(False))
                 .where((Milestone.escrow == escrow.id)
                        & Milestone.status.in_([MilestoneStatus.PENDING,
                                                MilestoneStatus.SUBMITTED])).scalar())

    def total(kind: TransactionKind) -> Decimal:
        return from_minor(int(sums.get(kind.value) or 0))

    return EscrowFigures(escrow.id, str(escrow.currency), str(escrow.status),
                         total(TransactionKind.ESCROW_FUND),
                         total(TransactionKind.ESCROW_RELEASE),
                         total(TransactionKind.ESCROW_REFUND), account.balance,
                         from_minor(int(committed or 0)))


# -- the workflows -----------------------------------------------------------------


class LedgerMixin(Service):
    def __init__(self, store: Store):
        super().__init__(store)
        self._system_accounts: dict[tuple[str, str], Account] = {}

    def deposit(self, user_id: int, amount: Decimal | str, currency: str, *,
                idempotency_key: str) -> MoneyResult:
        """Money arriving from outside (EXTERNAL -> the user's wallet)."""
        return self._external("deposit", user_id, amount, currency, idempotency_key)

    def withdraw(self, user_id: int, amount: Decimal | str, currency: str, *,
                 idempotency_key: str) -> MoneyResult:
        """Money leaving the platform (the user's wallet -> EXTERNAL)."""
        return self._external("withdraw", user_id, amount, currency, idempotency_key)

    def _external(self, operation: str, user_id: int, amount: Decimal | str, currency: str,
                  idempotency_key: str) -> MoneyResult:
        amount = money(amount, "amount")
        currency = check_currency(currency)
        request = {"user_id": user_id, "amount": amount, "currency": currency}
        incoming = operation == "deposit"
        return idempotency.run(self.store, operation, idempotency_key, request, MoneyResult,
                               lambda: self._move_external(user_id, amount, currency, incoming))

    def _move_external(self, user_id: int, amount: Decimal, currency: str,
                       incoming: bool) -> MoneyResult:
        self._user(user_id)
        account = wallet(self.store, user_id, currency, lock=True)
        if not incoming:
            require_funds(account.balance, amount, f"the {currency} wallet of user {user_id}")
        external = system_account(self.store, AccountKind.EXTERNAL, currency,
                                  self._system_accounts)
        kind = TransactionKind.DEPOSIT if incoming else TransactionKind.WITHDRAWAL
        leg = (external, account, amount) if incoming else (account, external, amount)
        tx_id = post(kind, [leg])
        self._emit("LedgerTransaction", tx_id, SyncOperation.CREATE,
                   {"kind": kind.value, "user_id": user_id, "amount": amount,
                    "currency": currency})
        return MoneyResult(kind.value.lower(), amount, currency, (tx_id,), account_id=account.id)

    def balance(self, user_id: int, currency: str) -> Decimal:
        """The user's wallet balance in ``currency`` (zero if there is no wallet)."""
        currency = check_currency(currency)
        found = (Account.select(Account.balance)
                 .where((Account.kind == AccountKind.WALLET) & (Account.owner == user_id)
                        & (Account.currency == currency)).first())
        return found.balance if found else ZERO

    def escrow_figures(self, escrow_id: int) -> EscrowFigures:
        """Funded, released, refunded, remaining and committed amounts of an escrow."""
        return escrow_figures(self._get(Escrow, escrow_id))

    def check_ledger(self) -> LedgerCheck:
        """Audit the whole ledger (reads every transfer: an operator's tool)."""
        db = self.store.db
        unbalanced = [row[0] for row in db.execute_sql(
            "SELECT transaction_id FROM ledger_postings GROUP BY transaction_id "
            "HAVING SUM(amount_minor) <> 0 ORDER BY 1")]
        negative = [row[0] for row in db.execute_sql(
            "SELECT id FROM accounts WHERE balance_minor < 0 AND kind <> 'EXTERNAL' ORDER BY 1")]
        mismatches = [escrow_id for escrow_id, remaining, funded, paid_out
                      in db.execute_sql(ESCROW_SUMS_SQL) if funded != paid_out + remaining]
        transactions = LedgerTransaction.select().count()
        return LedgerCheck(transactions, unbalanced, negative, mismatches)


__all__ = ["EscrowFigures", "LedgerCheck", "LedgerMixin", "MoneyResult", "escrow_account",
           "escrow_figures", "lock_accounts", "post", "require_funds", "system_account", "wallet"]
