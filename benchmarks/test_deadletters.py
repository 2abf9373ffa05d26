"""The deadletters benchmarks: ``azora_store/bench/suite/test_deadletters.py``."""

from azora_store.bench.suite.test_deadletters import *  # noqa: F403
