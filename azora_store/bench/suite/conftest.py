"""Loads the benchmark fixtures and the threshold gate."""

pytest_plugins = ["azora_store.bench.plugin"]
