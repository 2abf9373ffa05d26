"""A double-entry ledger in which no money is ever created or lost.

Each ``Transfer`` moves a positive amount from one account to another, so
every ledger transaction balances by construction (the same design as
TigerBeetle's transfers): the postings view lists each transfer as a debit
leg and a credit leg that sum to zero. A database trigger applies every
transfer to both account balances in the same statement, and a CHECK keeps
every balance at zero or above except the EXTERNAL account that stands for
money outside the platform. Transfers and ledger transactions are
append-only (triggers refuse UPDATE and DELETE).
"""

from __future__ import annotations

from enum import StrEnum

from peewee import BigAutoField, CharField, ModelIndex, TextField

from ..errors import InsufficientFunds
from .base import BaseModel, json_field
from .fields import (
    BalanceField,
    CheckedCharField,
    CompositeForeignKey,
    EnumField,
    ForeignKey,
    MoneyField,
    TableCheck,
    created_at,
    not_blank,
    updated_at,
)
from .marketplace import Currency, Escrow, Milestone
from .users import User


class AccountKind(StrEnum):
    WALLET = "WALLET"  # a user's money on the platform
    ESCROW = "ESCROW"  # money held for one job
    PLATFORM = "PLATFORM"  # the platform's own revenue (fees)
    EXTERNAL = "EXTERNAL"  # the outside world: deposits come from it, withdrawals go to it


class TransactionKind(StrEnum):
    DEPOSIT = "DEPOSIT"
    WITHDRAWAL = "WITHDRAWAL"
    ESCROW_FUND = "ESCROW_FUND"
    ESCROW_RELEASE = "ESCROW_RELEASE"
    ESCROW_REFUND = "ESCROW_REFUND"
    FEE = "FEE"


class Account(BaseModel):
    id = BigAutoField()
    kind = EnumField(AccountKind)
    owner = ForeignKey(User, null=True, backref="accounts", index=False)
    escrow = ForeignKey(Escrow, null=True, unique=True, backref="accounts")
    currency = EnumField(Currency)
    balance = BalanceField(default=0)
    created_at = created_at()
    updated_at = updated_at()

    class Meta:
        table_name = "accounts"
        constraints = [
            TableCheck("ck_accounts_balance_non_negative",
                       "balance_minor >= 0 OR kind = 'EXTERNAL'",
                       "balance", "must not go below zero", error=InsufficientFunds),
            TableCheck("ck_accounts_wallet_owner", "(kind = 'WALLET') = (owner_id IS NOT NULL)",
                       "owner", "is required for a WALLET account and only for one"),
            TableCheck("ck_accounts_escrow_link", "(kind = 'ESCROW') = (escrow_id IS NOT NULL)",
                       "escrow", "is required for an ESCROW account and only for one"),
        ]


# One wallet per user and currency; one platform and one external account per currency.
Account.add_index(ModelIndex(Account, (Account.owner, Account.currency), unique=True,
                             name="uq_accounts_wallet",
                             where=Account.kind == AccountKind.WALLET))
Account.add_index(ModelIndex(Account, (Account.kind, Account.currency), unique=True,
                             name="uq_accounts_system",
                             where=Account.kind.in_([AccountKind.PLATFORM,
                                                     AccountKind.EXTERNAL])))
# Target of the composite foreign keys that make a transfer's currency match its accounts.
Account.add_index(ModelIndex(Account, (Account.id, Account.currency), unique=True,
                             name="uq_accounts_id_currency"))


class LedgerTransaction(BaseModel):
    """One business event in the ledger (a deposit, an escrow release, ...)."""

    id = BigAutoField()
    kind = EnumField(TransactionKind)
    escrow = ForeignKey(Escrow, null=True, backref="ledger_transactions")
    milestone = ForeignKey(Milestone, null=True, backref="ledger_transactions", index=False)
    memo = TextField(default="")
    created_at = created_at()

    class Meta:
        table_name = "ledger_transactions"


class Transfer(BaseModel):
    id = BigAutoField()
    transaction = ForeignKey(LedgerTransaction, backref="transfers")
    kind = EnumField(TransactionKind)  # copied from the transaction for covering indexes
    from_account = ForeignKey(Account, backref="transfers_out")
    to_account = ForeignKey(Account, backref="transfers_in", index=False)
    amount = MoneyField()
    currency = EnumField(Currency)
    created_at = created_at()

    class Meta:
        table_name = "transfers"
        constraints = [
            TableCheck("ck_transfers_distinct_accounts", "from_account_id <> to_account_id",
                       "to_account", "must differ from from_account"),
            CompositeForeignKey("fk_transfers_from_currency", ("from_account_id", "currency"),
                                "accounts", ("id", "currency"), "currency",
                                "must be the currency of from_account"),
            CompositeForeignKey("fk_transfers_to_currency", ("to_account_id", "currency"),
                                "accounts", ("id", "currency"), "currency",
                                "must be the currency of to_account"),
        ]


# Earnings (releases into a wallet) are summed from this index alone.
Transfer.add_index(ModelIndex(Transfer, (Transfer.to_account, Transfer.kind, Transfer.amount),
                              name="ix_transfers_to_kind_amount"))


class IdempotencyKey(BaseModel):
    """The first result of a money operation, replayed for a repeated key."""

    id = BigAutoField()
    scope = CheckedCharField(max_length=64, rules=[not_blank()])
    key = CheckedCharField(max_length=200, rules=[not_blank()])
    request_hash = CharField(max_length=64)
    response = json_field()
    created_at = created_at()

    class Meta:
        table_name = "idempotency_keys"


IdempotencyKey.add_index(ModelIndex(IdempotencyKey, (IdempotencyKey.scope, IdempotencyKey.key),
                                    unique=True, name="uq_idempotency_keys_scope_key"))
