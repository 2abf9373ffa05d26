"""Budget buckets: how a full-text index narrows job search by budget.

A job's budget (minor units, > 0) falls in the bucket "<digits>_<leading
digit>": 17,200 is "5_1", 51,700 is "5_5". Nine buckets per power of ten, so a
range's buckets cover it with at most one leading-digit step of slack at each
end. SQLite's FTS5 index holds each open job's bucket as a token, alone and
paired with the currency (a pair's doclist is short); a search with a selective
budget range adds "one of these buckets" to the text query, and the exact range
is still checked on the job's row. Postgres's vectors hold the pairs since
migration 0014, for its one unwindowed scan (see
``GinIndex.narrow``).
"""

from __future__ import annotations

#: Above this many buckets a range narrows too little to be worth the terms.
MAX_BUDGET_BUCKETS = 12


def budget_bucket(minor: int) -> str:
    digits = str(minor)
    return f"{len(digits)}_{digits[0]}"


def budget_bucket_sql(column: str) -> str:
    """The same bucket computed in SQL (SQLite and Postgres alike): the
    expression the frozen triggers of migrations 0012 (SQLite) and 0014
    (Postgres) spell out."""
    text = f"CAST({column} AS TEXT)"
    return f"(length({text}) || '_' || substr({text}, 1, 1))"


def budget_buckets(low: int | None, high: int | None) -> list[str] | None:
    """The buckets of every budget in [low, high], or None when the range is
    open-ended or spans more than ``MAX_BUDGET_BUCKETS`` of them."""
    if low is None or high is None or high < low:
        return None
    low = max(low, 1)
    if high < 1:
        return None
    digits, lead = len(str(low)), int(str(low)[0])
    last = (len(str(high)), int(str(high)[0]))
    buckets = []
    while (digits, lead) <= last:
        buckets.append(f"{digits}_{lead}")
        if len(buckets) > MAX_BUDGET_BUCKETS:
            return None
        digits, lead = (digits, lead + 1) if lead < 9 else (digits + 1, 1)
    return buckets


def bucket_span(low: int, high: int) -> tuple[int, int]:
    """The budgets [low', high'] that the buckets of [low, high] hold."""
    low, high = max(low, 1), max(high, 1)
    low_digits, high_digits = str(low), str(high)
    unit_low = 10 ** (len(low_digits) - 1)
    unit_high = 10 ** (len(high_digits) - 1)
    return int(low_digits[0]) * unit_low, (int(high_digits[0]) + 1) * unit_high - 1
