"""Rules kept by database triggers: updated_at, account balances, job search sync."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from azora_store.errors import InsufficientFunds
from azora_store.models import TABLES, Account, Job, KYCVerification, TransactionKind
from azora_store.support.clock import utcnow
from tests.factories import build_world, transfer
from tests.helpers import dump, sql

OLD = datetime(2020, 1, 1)
# service_sync keeps updated_at in every outbox statement instead (docs/outbox.md, "Schema").
UPDATED_AT_TABLES = [m._meta.table_name for m in TABLES
                     if "updated_at" in m._meta.fields and m._meta.table_name != "service_sync"]


def as_datetime(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def test_every_table_with_updated_at_has_the_trigger(store) -> None:
    triggers = store.backend.schema_snapshot()["triggers"]
    for table in UPDATED_AT_TABLES:
        assert f"trg_{table}_updated_at" in triggers, table


@pytest.mark.parametrize("model, column, value", [
    (Job, "title", "Renamed by raw SQL"),
    (KYCVerification, "rejection_reason", "blurred photo"),
])
def test_raw_update_bumps_updated_at(store, model, column, value) -> None:
    build_world(store)
    table = model._meta.table_name
    row_id = model.select(model.id).scalar()
    sql(store, f'UPDATE "{table}" SET updated_at = ? WHERE id = ?', OLD, row_id)
    assert as_datetime(sql(store, f'SELECT updated_at FROM "{table}" WHERE id = ?',
                           row_id)[0][0]) == OLD  # an explicit value is kept

    before = utcnow() - timedelta(seconds=1)
    sql(store, f'UPDATE "{table}" SET "{column}" = ? WHERE id = ?', value, row_id)
    bumped = as_datetime(sql(store, f'SELECT updated_at FROM "{table}" WHERE id = ?',
                             row_id)[0][0])
    assert before <= bumped <= utcnow() + timedelta(seconds=1)


def test_transfer_moves_balances_and_refuses_overdraft(store) -> None:
    world = build_world(store)
    assert Account.get_by_id(world.client_wallet.id).balance == Decimal("500.00")
    assert Account.get_by_id(world.external.id).balance == Decimal("-500.00")

    transfer(TransactionKind.ESCROW_FUND, world.client_wallet, world.escrow_account, "120.50",
             world.escrow)
    assert Account.get_by_id(world.client_wallet.id).balance == Decimal("379.50")
    assert Account.get_by_id(world.escrow_account.id).balance == Decimal("120.50")

    before = dump(store, "accounts"), dump(store, "transfers")
    with pytest.raises(InsufficientFunds), store.atomic():
        transfer(TransactionKind.ESCROW_RELEASE, world.escrow_account, world.client_wallet,
                 "120.51", world.escrow)
    assert (dump(store, "accounts"), dump(store, "transfers")) == before


def test_postings_of_every_transaction_sum_to_zero(store) -> None:
    world = build_world(store)
    transfer(TransactionKind.ESCROW_FUND, world.client_wallet, world.escrow_account, "40.00",
             world.escrow)
    rows = sql(store, "SELECT transaction_id, SUM(amount_minor), COUNT(*) FROM ledger_postings "
                      "GROUP BY transaction_id")
    assert len(rows) == 2
    assert all(total == 0 and legs == 2 for _, total, legs in rows)


def test_job_search_index_follows_open_jobs(store) -> None:
    """Only OPEN, not deleted jobs are searchable; the index follows every change."""
    world = build_world(store)
    job = world.job

    def found(word: str) -> bool:
        return job.id in search_ids(store, word)

    assert found("API")
    sql(store, "UPDATE jobs SET title = ? WHERE id = ?", "Design a logo", job.id)
    assert found("logo") and not found("API")
    sql(store, "UPDATE jobs SET status = 'CANCELLED' WHERE id = ?", job.id)
    assert not found("logo")
    sql(store, "UPDATE jobs SET status = 'OPEN' WHERE id = ?", job.id)
    assert found("logo")
    sql(store, "UPDATE jobs SET deleted_at = ? WHERE id = ?", OLD, job.id)
    assert not found("logo")


def search_ids(store, word: str) -> set[int]:
    """Raw full-text look-up per backend (the query layer wraps this properly)."""
    if store.backend.name == "sqlite":
        rows = sql(store, "SELECT -rowid FROM jobs_fts WHERE jobs_fts MATCH ?", word)
    else:
        rows = sql(store, "SELECT id FROM jobs WHERE status = 'OPEN' AND deleted_at IS NULL "
                          "AND search_vector @@ plainto_tsquery('english', ?)", word)
    return {row[0] for row in rows}
