"""Search over the whole space of accepted requests, one figure per class
(``azora_store/bench/space.py``): the gate reads each class, so the worst one gates.
And user stats and KYC look-ups for ids drawn uniformly over the whole table,
each timed once (cold pages), not a hot set repeated."""

from __future__ import annotations

import random

import pytest

from azora_store.bench.space import CLASSES, SpaceDraws
from azora_store.queries import kyc_lookup, search_jobs, user_stats

DRAWS_PER_CLASS = 150  # at least; half the rounds when more (each draw timed ~twice)


@pytest.fixture(scope="session")
def space(store, request) -> SpaceDraws:
    return SpaceDraws(store, max(DRAWS_PER_CLASS, request.config.getoption("--rounds") // 2))


@pytest.mark.parametrize("cls", CLASSES)
def test_search_space(measure, replays, store, space, cls) -> None:
    calls = [lambda p=params: search_jobs(store, **p) for params in space.requests(cls)]
    measure(f"search/space/{cls}", calls, replays(calls))


def _uniform(store, sql: str, count: int, seed: int = 5) -> list[int]:
    """``count`` values of a column drawn uniformly over the whole table (every
    row once at most), not over a hot set."""
    values = [row[0] for row in store.db.execute_sql(sql).fetchall()]
    return random.Random(seed).sample(values, min(count, len(values)))


def test_user_stats_cold(measure, replays, store, request) -> None:
    rounds = request.config.getoption("--rounds")
    users = _uniform(store, "SELECT id FROM users WHERE deleted_at IS NULL ORDER BY id",
                     2 * (rounds + 20))
    calls = [lambda u=user: user_stats(store, u) for user in users]
    measure("user_stats/cold", calls, replays(calls), cold=True)


def test_kyc_lookup_cold(measure, replays, store, request) -> None:
    rounds = request.config.getoption("--rounds")
    users = _uniform(store, "SELECT user_id FROM kyc_verifications ORDER BY user_id",
                     2 * (rounds + 20))
    calls = [lambda u=user: kyc_lookup(store, user_id=u) for user in users]
    measure("kyc_lookup/user/cold", calls, replays(calls), cold=True)
