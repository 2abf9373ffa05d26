"""Escrows with their ledger transfers, and reviews."""

from __future__ import annotations

from typing import Any

from ..money import CURRENCIES
from .common import (
    END,
    _chunked,
)


class MoneyBuilder:
    """Escrows with their ledger transfers, and reviews.

    A part of :class:`~azora_store.seed.Seeder`: it
    reads the draws and settings the Seeder keeps (``self.np``, ``self.scale``...)."""

    def _money(self) -> None:
        """Escrows for hired jobs, their accounts, and the deposit -> fund ->
        release transfers, with every balance computed here (the balance trigger
        is off during the load)."""
        jobs = self.jobs
        budgets, currencies, clients, freelancers, statuses, stamps = (jobs[name] for name in (
            "budget", "currency", "client", "freelancer", "status", "stamps"))
        accounts: list[tuple] = [(number, "EXTERNAL", None, None, currency)
                                 for number, currency in enumerate(CURRENCIES, start=1)]
        external = {currency: number for number, currency in enumerate(CURRENCIES, start=1)}
        balance = [0] * (len(accounts) + 1)  # by account id
        wallets: dict[tuple[int, str], int] = {}

        def wallet(owner: int, currency: str) -> int:
            number = wallets.get((owner, currency))
            if number is None:
                number = wallets[(owner, currency)] = len(accounts) + 1
                accounts.append((number, "WALLET", owner, None, currency))
                balance.append(0)
            return number

        escrows: list[tuple] = []
        transactions: list[tuple] = []
        transfers: list[tuple] = []

        def move(kind: str, escrow: int | None, source: int, target: int, amount: int,
                 currency: str, stamp: str) -> None:
            tx = len(transactions) + 1
            transactions.append((tx, kind, escrow, "", stamp))
            transfers.append((tx, tx, kind, source, target, amount, currency, stamp))
            balance[source] -= amount
            balance[target] += amount

        for j, freelancer in enumerate(freelancers):
            if not freelancer:
                continue
            amount, currency, client = budgets[j], currencies[j], clients[j]
            released, stamp = statuses[j] == "COMPLETED", stamps[j]
            number = len(escrows) + 1
            escrows.append((number, j + 1, client, freelancer, amount, currency,
                            "RELEASED" if released else "FUNDED", stamp, stamp))
            held = len(accounts) + 1
            accounts.append((held, "ESCROW", None, number, currency))
            balance.append(0)
            paying = wallet(client, currency)
            move("DEPOSIT", None, external[currency], paying, amount, currency, stamp)
            move("ESCROW_FUND", number, paying, held, amount, currency, stamp)
            if released:
                move("ESCROW_RELEASE", number, held, wallet(freelancer, currency), amount,
                     currency, stamp)
        now = str(END)
        account_rows = [(*account, balance[account[0]], now, now) for account in accounts]
        self._load("escrows", ("id", "job_id", "client_id", "freelancer_id", "amount_minor",
                               "currency", "status", "created_at", "updated_at"),
                   iter(_chunked(escrows)), len(escrows))
        self._load("accounts", ("id", "kind", "owner_id", "escrow_id", "currency",
                                "balance_minor", "created_at", "updated_at"),
                   iter(_chunked(account_rows)), len(account_rows))
        self._load("ledger_transactions", ("id", "kind", "escrow_id", "memo", "created_at"),
                   iter(_chunked(transactions)), len(transactions))
        self._load("transfers", ("id", "transaction_id", "kind", "from_account_id",
                                 "to_account_id", "amount_minor", "currency", "created_at"),
                   iter(_chunked(transfers)), len(transfers))

    def _reviews(self) -> None:
        rng, jobs = self.rng("reviews"), self.jobs
        done = [j for j in range(self.scale.jobs) if jobs["status"][j] == "COMPLETED"]
        by_client, by_freelancer = rng.random(len(done)) < 0.8, rng.random(len(done)) < 0.67
        ratings = rng.choice(5, (len(done), 2), p=(0.05, 0.05, 0.10, 0.25, 0.55)) + 1
        self._note_reviewees(done, by_client, by_freelancer, ratings)
        by_client, by_freelancer = by_client.tolist(), by_freelancer.tolist()
        ratings, rows = ratings.tolist(), []
        for k, j in enumerate(done):
            client, freelancer, stamp = jobs["client"][j], jobs["freelancer"][j], jobs["closed"][j]
            if by_client[k]:
                rows.append((len(rows) + 1, j + 1, client, freelancer, ratings[k][0], "", stamp))
            if by_freelancer[k]:
                rows.append((len(rows) + 1, j + 1, freelancer, client, ratings[k][1], "", stamp))
        self._load("reviews", ("id", "job_id", "reviewer_id", "reviewee_id", "rating", "comment",
                               "created_at"), iter(_chunked(rows)), len(rows))

    def _note_reviewees(self, done: list[int], by_client: Any, by_freelancer: Any,
                        ratings: Any) -> None:
        """Who each review is about and its rating (numpy), for the counters:
        the client rates the freelancer, the freelancer the client."""
        np, jobs = self.np, self.job_arrays
        done_ = np.asarray(done, dtype=np.int64)
        self.reviewed = {
            "reviewee": np.concatenate([jobs["freelancer"][done_][by_client],
                                        jobs["client"][done_][by_freelancer]]),
            "rating": np.concatenate([ratings[by_client, 0], ratings[by_freelancer, 1]])}
