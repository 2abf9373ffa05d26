"""``pytest benchmarks`` in a source checkout: the suite shipped in
``azora_store/bench/suite`` (what ``azora-store bench`` runs), with its plugin.

    pytest benchmarks --scale small               # seeds into .benchmarks/data once
    pytest benchmarks --scale large --db sqlite:////data/large.db   # one seeded database
"""

pytest_plugins = ["azora_store.bench.plugin"]
