"""The outbox throughput benchmarks: ``azora_store/bench/suite/test_throughput.py``."""

from azora_store.bench.suite.test_throughput import *  # noqa: F403
