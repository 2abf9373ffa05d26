"""The four target queries through the package, and the same SQL through the
raw driver in the same run (the ratio of their p50s is the ORM overhead)."""

from __future__ import annotations

from typing import Any

import pytest

from azora_store.plans import capture
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


def _replay(raw: Any, statements: list[tuple[str, Any, bool]]) -> Any:
    return lambda: [raw(sql, params, again) for sql, params, again in statements]


def _package_and_raw(request: pytest.FixtureRequest, calls: list[Any]) -> list[Any]:
    if request.node.callspec.params.get("through") == "package":
        return calls
    store, raw = request.getfixturevalue("store"), request.getfixturevalue("raw")
    return [_replay(raw, capture(store, call)) for call in calls]


@pytest.mark.parametrize("through", ["package", "raw"])
@pytest.mark.parametrize("page", [1, 2])
@pytest.mark.parametrize("case", SEARCH_CASES)
def test_search_jobs(measure, request, store, draws, case, page, through) -> None:
    calls = _search_calls(store, draws, case, page)
    if not calls:
        pytest.skip(f"no second pages for {case} at this scale")
    measure(f"search/{case}/p{page}", _package_and_raw(request, calls), raw=through == "raw")


@pytest.mark.parametrize("through", ["package", "raw"])
def test_user_stats(measure, request, store, draws, through) -> None:
    calls = [lambda u=user: user_stats(store, u) for user in draws.users]
    measure("user_stats", _package_and_raw(request, calls), raw=through == "raw")


@pytest.mark.parametrize("through", ["package", "raw"])
def test_sync_status(measure, request, store, through) -> None:
    calls = [lambda: sync_status(store)]
    measure("sync_status", _package_and_raw(request, calls), raw=through == "raw")


@pytest.mark.parametrize("through", ["package", "raw"])
@pytest.mark.parametrize("by", ["user", "document"])
def test_kyc_lookup(measure, request, store, draws, by, through) -> None:
    if by == "user":
        calls = [lambda u=user: kyc_lookup(store, user_id=u) for user in draws.kyc_users]
    else:
        calls = [lambda d=doc: kyc_lookup(store, document_number=d) for doc in draws.documents()]
    measure(f"kyc_lookup/{by}", _package_and_raw(request, calls), raw=through == "raw")
