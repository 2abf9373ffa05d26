"""The space benchmarks: ``azora_store/bench/suite/test_space.py``."""

from azora_store.bench.suite.test_space import *  # noqa: F403
