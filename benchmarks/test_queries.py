"""The four target queries through the package, timed interleaved with the
same SQL replayed through the raw driver (the ratio of their p50s is the ORM
overhead)."""

from __future__ import annotations

from typing import Any

import pytest

from azora_store.queries import kyc_lookup, search_jobs, sync_status, user_stats

SEARCH_CASES = ["recent", "skill", "skill2", "text", "text+skill", "budget", "skill+budget",
                "text+skill2+budget+currency"]


def _search_calls(store: Any, draws: Any, case: str, page: int) -> list[Any]:
    calls = []
    for params in draws.search(case):
        if page == 2:
            cursor = search_jobs(store, **params).next_cursor
            if cursor is None:
                continue
            params = {**params, "cursor": cursor}
        calls.append(lambda p=params: search_jobs(store, **p))
    return calls


@pytest.mark.parametrize("page", [1, 2])
@pytest.mark.parametrize("case", SEARCH_CASES)
def test_search_jobs(measure, replays, store, draws, case, page) -> None:
    calls = _search_calls(store, draws, case, page)
    if not calls:
        pytest.skip(f"no second pages for {case} at this scale")
    measure(f"search/{case}/p{page}", calls, replays(calls))


def test_user_stats(measure, replays, store, draws) -> None:
    calls = [lambda u=user: user_stats(store, u) for user in draws.users]
    measure("user_stats", calls, replays(calls))


def test_sync_status(measure, replays, store) -> None:
    calls = [lambda: sync_status(store)]
    measure("sync_status", calls, replays(calls))


@pytest.mark.parametrize("by", ["user", "document"])
def test_kyc_lookup(measure, replays, store, draws, by) -> None:
    if by == "user":
        calls = [lambda u=user: kyc_lookup(store, user_id=u) for user in draws.kyc_users]
    else:
        calls = [lambda d=doc: kyc_lookup(store, document_number=d) for doc in draws.documents()]
    measure(f"kyc_lookup/{by}", calls, replays(calls))
