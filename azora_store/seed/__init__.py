"""``azora-store seed``: a deterministic marketplace at a chosen scale.

The same ``--seed`` gives the same rows (ids, texts, amounts, timestamps) on
either backend, so query results can be compared across backends. Shape:

- skills follow a Zipf-like popularity over 500 skills, ~3 per job (1 to 5);
- jobs: 20% OPEN (more among recent jobs), 10% IN_PROGRESS, 60% COMPLETED,
  10% CANCELLED; budgets log-uniform from 50 to 50,000; eight currencies;
- ~3 applications per job, the hired freelancer's accepted, the rest rejected;
- every hired job has a funded escrow, released for completed jobs, with the
  deposit, funding and release transfers in the ledger (balances consistent);
- reviews for ~73% of completed jobs per party; KYC for 80% of users (document
  numbers encrypted with the configured field key);
- outbox events: the newest 3% unfinished (pending, failed, stuck), the rest
  completed, with exact counters.

Rows are generated as numpy column arrays, chunk by chunk, and written through
the backend's bulk path (SQLite: executemany in big transactions; Postgres:
COPY) with secondary indexes and triggers dropped during the load and rebuilt
after it. Large (1M users, 1M jobs, 3M applications, 10M events) is meant for
benchmarks run by hand.
"""

from .common import END, SCALES, START, TABLES, Scale, SeedSummary, document_number, zipf_weights
from .seeder import Seeder

__all__ = ["END", "SCALES", "START", "TABLES", "Scale", "SeedSummary", "Seeder",
           "document_number", "zipf_weights"]
