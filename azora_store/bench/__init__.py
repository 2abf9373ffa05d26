"""The benchmark suite and its tools, shipped so ``azora-store bench`` works
after ``pip install 'azora_store[bench]'``: the pytest plugin (``plugin``), the
tests (``suite/``), the threshold gate (``gate``, ``thresholds.toml``) and the
stand-alone measurements run with ``python -m azora_store.bench.<name>``."""
