"""Search over the whole space of accepted requests, one figure per class
(``benchmarks/space.py``): the gate reads each class, so the worst one gates."""

from __future__ import annotations

import pytest

from azora_store.queries import search_jobs
from benchmarks.space import CLASSES, SpaceDraws

DRAWS_PER_CLASS = 150


@pytest.fixture(scope="session")
def space(store) -> SpaceDraws:
    return SpaceDraws(store, DRAWS_PER_CLASS)


@pytest.mark.parametrize("cls", CLASSES)
def test_search_space(measure, replays, store, space, cls) -> None:
    calls = [lambda p=params: search_jobs(store, **p) for params in space.requests(cls)]
    measure(f"search/space/{cls}", calls, replays(calls))
