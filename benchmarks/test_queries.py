"""The queries benchmarks: ``azora_store/bench/suite/test_queries.py``."""

from azora_store.bench.suite.test_queries import *  # noqa: F403
