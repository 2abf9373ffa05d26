"""The seed's shape: scales, the fixed time span, tables in load order and
the helpers every builder shares (numpy, timestamps, chunks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..support.extras import require

END = datetime(2026, 11, 1)  # fixed, so the same seed gives the same timestamps
START = END - timedelta(days=730)
CHUNK = 200_000
OUTBOX_CHUNK = 1_000_000  # events per INSERT ... SELECT (one transaction each)
# Outbox event kinds. The service and status of event i depend on i only
# through i % 2, i % 100, the kind (i * 40503 + salt) % KINDS and whether it is
# finished: all repeat every KINDS events, which ``_counters_sql`` relies on.
KINDS = 1_000
CURRENCY_WEIGHTS = (0.60, 0.12, 0.08, 0.06, 0.05, 0.04, 0.03, 0.02)
FIRST = ("amara", "kofi", "zanele", "tunde", "wanjiru", "lindiwe", "chidi", "fatima", "joseph",
         "nadia", "samuel", "grace", "ibrahim", "thandi", "omar", "ama", "peter", "lerato")
LAST = ("okafor", "mensah", "dlamini", "abebe", "kamau", "nkosi", "adeyemi", "hassan",
        "mwangi", "owusu", "banda", "diallo", "achieng", "moyo", "sithole", "ndlovu")
DOMAINS = ("example.org", "mail.example", "azora.test", "post.example")


@dataclass(frozen=True)
class Scale:
    users: int
    jobs: int
    applications: int
    outbox: int


SCALES: dict[str, Scale] = {
    "tiny": Scale(users=1_000, jobs=1_000, applications=3_000, outbox=10_000),
    "small": Scale(users=20_000, jobs=20_000, applications=60_000, outbox=200_000),
    "medium": Scale(users=200_000, jobs=200_000, applications=600_000, outbox=2_000_000),
    "large": Scale(users=1_000_000, jobs=1_000_000, applications=3_000_000, outbox=10_000_000),
}

# Tables written by the seed, in dependency order.
TABLES = ("users", "courses", "enrollments", "jobs", "job_skills", "applications", "escrows",
          "accounts", "ledger_transactions", "transfers", "reviews", "skill_verifications",
          "kyc_verifications", "aml_checks", "user_counters", "service_sync", "sync_counters")
# Each table's random stream is numbered by its place in this frozen list, so
# that a table added to TABLES later does not change the rows of the others.
STREAMS = ("users", "courses", "enrollments", "jobs", "job_skills", "applications", "escrows",
           "accounts", "ledger_transactions", "transfers", "reviews", "skill_verifications",
           "kyc_verifications", "aml_checks")
OUTBOX_TABLES = TABLES[-2:]  # loaded last (by count of the rest), maybe concurrently


@dataclass
class SeedSummary:
    scale: str
    seed: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    total_seconds: float = 0.0


Report = Callable[[str, int, int], None]  # table, rows so far, rows expected


def _numpy() -> Any:
    return require("numpy", "the seed generator")


def zipf_weights(n: int, exponent: float) -> Any:
    np = _numpy()
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def _stamp(np: Any, seconds: Any) -> list[str]:
    """Seconds after START -> 'YYYY-MM-DD HH:MM:SS.ffffff' (what peewee writes).

    Built as fixed-width characters with integer arithmetic: the day from a
    table of the few distinct dates, the time of day digit by digit.
    ``np.datetime_as_string`` took 0.7 s per million, a tenth of a large seed."""
    micros = (np.asarray(seconds) * 1e6).astype("int64")
    if micros.min(initial=0) < 0:
        raise ValueError("seed timestamps start at START")
    days, of_day = np.divmod(micros, 86_400_000_000)
    first = np.datetime64(START.date(), "D")
    dates = np.datetime_as_string(first + np.arange(days.max(initial=0) + 1)).astype("U10")
    text = np.empty((len(micros), 26), dtype=np.uint32)
    text[:, :10] = dates.view(np.uint32).reshape(-1, 10)[days]
    text[:, 10], text[:, 13], text[:, 16], text[:, 19] = ord(" "), ord(":"), ord(":"), ord(".")
    for position, unit, modulus, digits in ((11, 3_600_000_000, 24, 2), (14, 60_000_000, 60, 2),
                                            (17, 1_000_000, 60, 2), (20, 1, 1_000_000, 6)):
        value = of_day // unit % modulus
        for place in range(digits):
            text[:, position + digits - 1 - place] = ord("0") + value // 10 ** place % 10
    return text.view("U26").ravel().tolist()



def document_number(user_id: int) -> str:
    """The seeded document number of a user (benchmarks look users up by it)."""
    return f"A{(user_id * 2_654_435_761) % 10**8:08d}"


def _chunked(rows: list[tuple]) -> Iterator[list[tuple]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start:start + CHUNK]
