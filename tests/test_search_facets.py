"""Budget buckets (azora_store.search.facets): every budget in a range falls in
one of the range's buckets, in Python and in SQL alike."""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st

from azora_store.search.facets import (
    MAX_BUDGET_BUCKETS,
    budget_bucket,
    budget_bucket_sql,
    budget_buckets,
)


def test_buckets_are_digit_count_and_leading_digit():
    assert budget_bucket(17_200) == "5_1"
    assert budget_bucket(99) == "2_9"
    assert budget_buckets(17_200, 51_700) == ["5_1", "5_2", "5_3", "5_4", "5_5"]
    assert budget_buckets(85_000, 120_000) == ["5_8", "5_9", "6_1"]
    assert budget_buckets(500, 500) == ["3_5"]


def test_open_wide_or_inverted_ranges_do_not_narrow():
    assert budget_buckets(None, 5_000) is None
    assert budget_buckets(5_000, None) is None
    assert budget_buckets(10, 10_000_000) is None  # more than MAX_BUDGET_BUCKETS
    assert budget_buckets(6_000, 5_000) is None
    assert len(budget_buckets(1_000, 5_999) or []) <= MAX_BUDGET_BUCKETS


@given(st.integers(1, 10**12), st.integers(1, 10**12), st.integers(0, 10**12))
def test_every_budget_in_the_range_is_in_its_buckets(a, b, offset):
    low, high = min(a, b), max(a, b)
    buckets = budget_buckets(low, high)
    if buckets is None:
        return
    value = low + offset % (high - low + 1)
    assert budget_bucket(value) in buckets


def test_sql_computes_the_same_bucket():
    connection = sqlite3.connect(":memory:")
    for value in (1, 9, 10, 17_200, 99_999, 123_456_789_012):
        sql = f"SELECT {budget_bucket_sql('v.b')} FROM (SELECT ? AS b) AS v"
        assert connection.execute(sql, (value,)).fetchone()[0] == budget_bucket(value)
