"""The latency benchmarks: ``azora_store/bench/suite/test_latency.py``."""

from azora_store.bench.suite.test_latency import *  # noqa: F403
