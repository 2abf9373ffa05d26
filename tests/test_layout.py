"""The package's shape: which module may import which, traits, shipped files."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

from playhouse.pool import PooledDatabase

import azora_store

PACKAGE = Path(azora_store.__file__).parent
ROOT = PACKAGE.parent


def imported_modules(path: Path) -> set[str]:
    """The absolute names of the package modules ``path`` imports."""
    package = ["azora_store", *path.parent.relative_to(PACKAGE).parts]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_compliance_and_market_do_not_import_each_other():
    """Both build on azora_store.workflow; neither domain imports the other."""
    for domain, other in (("compliance", "azora_store.market"),
                          ("market", "azora_store.compliance")):
        for path in sorted((PACKAGE / domain).glob("*.py")):
            crossing = {name for name in imported_modules(path)
                        if name == other or name.startswith(other + ".")}
            assert not crossing, (path.name, crossing)
    for path in sorted((PACKAGE / "workflow").glob("*.py")):
        assert not {name for name in imported_modules(path)
                    if name.startswith(("azora_store.market", "azora_store.compliance"))}, path


def test_imported_modules_resolves_relative_imports():
    names = imported_modules(PACKAGE / "compliance" / "kyc.py")
    assert "azora_store.workflow.service" in names and "azora_store.errors" in names


def test_pools_connections_says_what_the_database_does(store):
    assert store.backend.pools_connections == isinstance(store.db, PooledDatabase)


def test_type_hints_ship_with_the_package():
    assert (PACKAGE / "py.typed").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["azora_store"]


def test_the_bench_suite_ships_with_the_package(tmp_path: Path) -> None:
    """azora-store bench runs a suite inside the package (pip install
    'azora_store[bench]' is enough), collected from any working directory."""
    from azora_store.bench.command import SUITE

    assert SUITE.is_relative_to(PACKAGE) and (SUITE / "conftest.py").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "bench/thresholds.toml" in config["tool"]["setuptools"]["package-data"]["azora_store"]
    assert "pytest-benchmark>=5.1" in config["project"]["optional-dependencies"]["bench"]
    result = subprocess.run([sys.executable, "-m", "pytest", str(SUITE), "--collect-only",
                             "-q", "-p", "no:cacheprovider", "--scale", "tiny"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test_queries.py::test_user_stats[sqlite]" in result.stdout


#: What a newcomer sees first in the package root; helpers live in subpackages
#: (support/, search/, doctor/, bench/, ...).
ROOT_MODULES = ["__init__.py", "__main__.py", "cli.py", "crypto.py", "errors.py", "money.py",
                "queries.py", "store.py"]


def test_the_package_root_holds_only_the_entry_points():
    assert sorted(path.name for path in PACKAGE.glob("*.py")) == ROOT_MODULES


def test_support_helpers_import_no_domain():
    """support/ sits below every domain: none of its modules imports one."""
    domains = tuple(f"azora_store.{name}" for name in (
        "market", "compliance", "sync", "search", "api", "seed", "bench", "workflow"))
    for path in sorted((PACKAGE / "support").glob("*.py")):
        assert not {name for name in imported_modules(path) if name.startswith(domains)}, path


#: Modules another change is splitting right now (remove once it lands).
SPLIT_PENDING: set[str] = set()


def test_a_module_above_450_lines_says_why_it_is_one_job():
    """Small modules with one job: a longer one says in its docstring why it
    is one job (scripts/module_sizes.py lists them). Frozen migrations aside."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from module_sizes import LIMIT, module_lines, one_job
    finally:
        sys.path.pop(0)
    unexplained = [relative for relative, count in module_lines(PACKAGE)
                   if count > LIMIT and relative not in SPLIT_PENDING
                   and not one_job(ROOT / relative)]
    assert not unexplained, unexplained
