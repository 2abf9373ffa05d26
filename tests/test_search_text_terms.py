"""Text search plans chosen from the text's own terms (issue 14): the title tier
read through the title alone (SQLite), one statement over all ids when the
terms' shares expect few matches (Postgres). Whatever the plan, the pages are
the oracle's, on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from azora_store.models import Job, User
from azora_store.queries import search_jobs
from azora_store.search import text as text_plans
from azora_store.search.plans import capture

T0 = datetime(2026, 2, 1, 9, 0, 0)

# (id, title, description); ids over several 4,096-id window units.
JOBS = [
    (1, "Alpha gamma", "beta notes"),
    (2, "Alpha", ""),
    (3, "Report", "alpha gamma delta"),
    (4200, "Alpha gamma delta", ""),
    (4300, "Gamma", "alpha"),
    (9000, "Delta work", "alpha gamma"),
    (13000, "Alpha delta", "gamma beta"),
    (21000, "Alpha gamma delta audit", "beta"),
    (30000, "Other", "nothing here"),
    *[(40000 + n, f"Filler {n}", "common words only") for n in range(40)],
]

QUERIES = ["alpha", "alpha gamma", "alpha gamma delta", "alpha -beta", "gamma -beta delta",
           "alpha zzxqv", "common words", "delta alpha gamma audit"]


def oracle(text: str) -> list[int]:
    words = text.split()
    wanted = [w for w in words if not w.startswith("-")]
    banned = [w[1:] for w in words if w.startswith("-")]

    def has(value: str, word: str) -> bool:
        return word in value.lower().split()

    tiers: list[list[int]] = [[], []]
    for job_id, title, description in JOBS:
        both = f"{title} {description}"
        if not all(has(both, w) for w in wanted) or any(has(both, w) for w in banned):
            continue
        tiers[0 if all(has(title, w) for w in wanted) else 1].append(job_id)
    return sorted(tiers[0], reverse=True) + sorted(tiers[1], reverse=True)


def every_page(store, text: str, limit: int) -> list[int]:
    found, cursor = [], None
    for _ in range(100):
        page = search_jobs(store, text=text, limit=limit, cursor=cursor)
        found += [hit.id for hit in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    return found


@pytest.fixture
def jobs(store) -> None:
    with store.atomic():
        client = User.create(email="terms@example.org", full_name="Terry")
        for n, (job_id, title, description) in enumerate(JOBS):
            Job.create(id=job_id, client=client, title=title, description=description,
                       budget=Decimal("100.00"), currency="USD",
                       created_at=T0 + timedelta(minutes=n))
    if store.backend.name == "postgresql":
        store.db.execute_sql("ANALYZE jobs")  # the terms' shares come from the statistics
    store.queries._stats_at = 0.0


@pytest.mark.parametrize("terms_skip", [text_plans.TEXT_TERMS_SKIP, 0, 10**9],
                         ids=["chosen", "windows", "one-statement"])
def test_text_pages_match_the_oracle_whatever_the_plan(store, jobs, monkeypatch,
                                                       terms_skip) -> None:
    monkeypatch.setattr(text_plans, "TEXT_TERMS_SKIP", terms_skip)
    for text in QUERIES:
        want = oracle(text)
        for limit in (1, 2, 3, 100):
            assert every_page(store, text, limit) == want, (text, limit)


def test_an_excluded_word_in_the_description_drops_a_title_match(store, jobs) -> None:
    # "Alpha gamma" (1) holds beta in its description: not a match at all, though
    # its title has alpha and not beta.
    assert [hit.id for hit in search_jobs(store, text="alpha -beta", limit=100).items] == (
        oracle("alpha -beta"))
    assert 1 not in oracle("alpha -beta") and 2 in oracle("alpha -beta")


def test_rare_terms_read_all_ids_in_one_statement_on_postgres(store, jobs) -> None:
    statements = capture(store, lambda: search_jobs(store, text="alpha gamma delta audit",
                                                    limit=20))
    searches = [sql for sql, _, _ in statements if "@@" in sql or "MATCH" in sql]
    if store.backend.fulltext.window_ids:
        # GIN: one statement ranks both tiers, no window of ids
        assert len(searches) == 1, searches
        assert "ids " not in str([params for _, params, _ in statements])
    else:
        # FTS5: the title tier reads the title column alone
        assert any("title : (" in str(params) and "{title description}" not in str(params)
                   for _, params, _ in statements), statements
