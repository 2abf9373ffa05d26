"""The benchmark suite ``azora-store bench`` runs (pytest-benchmark tests)."""
