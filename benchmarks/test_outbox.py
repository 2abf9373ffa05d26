"""The outbox benchmarks: ``azora_store/bench/suite/test_outbox.py``."""

from azora_store.bench.suite.test_outbox import *  # noqa: F403
