"""The package surface: light import, backend plugins, clear URL errors."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from typing import Any

import pytest

from azora_store import ConfigurationError, open_store
from azora_store.backends import ENTRY_POINT_GROUP, available_schemes, backend_class, register
from azora_store.backends.sqlite import SqliteBackend


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)


def test_import_loads_no_database_driver() -> None:
    result = run_python(
        "import sys, azora_store\n"
        "heavy = ('psycopg', 'psycopg2', 'peewee')\n"
        "print([m for m in sys.modules if m.split('.')[0] in heavy])")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_postgres_url_without_driver_says_what_to_install(tmp_path) -> None:
    # Hide psycopg as if the [pg] extra were not installed; SQLite keeps working.
    result = run_python(
        "import sys\n"
        "sys.modules['psycopg'] = None\n"
        "from azora_store import open_store, ConfigurationError\n"
        f"open_store('sqlite:///{tmp_path}/ok.db').migrate()\n"
        "try:\n"
        "    open_store('postgresql://postgres@127.0.0.1/x')\n"
        "except ConfigurationError as exc:\n"
        "    print(exc)\n")
    assert result.returncode == 0, result.stderr
    assert "pip install 'azora_store[pg]'" in result.stdout


@pytest.mark.parametrize("url, phrase", [
    ("garbage", "is not a database URL"),
    ("mysql://root@localhost/db", "no backend for URL scheme 'mysql'"),
    ("sqlite://azora.db", "three slashes"),
    ("sqlite:////no/such/dir/a.db", "does not exist"),
    ("sqlite:///a.db?journal=wal", "unknown option(s) journal"),
    ("sqlite:///a.db?busy_timeout=soon", "busy_timeout='soon'"),
    ("postgresql://u@h:99999/db", "not a valid database URL"),
    ("postgresql://u@h/db?pool=5", "unknown option(s) pool"),
    # Every option value is checked against what it accepts, and the error says what.
    ("sqlite:///a.db?synchronous=ful", "synchronous accepts one of full, extra, normal, off"),
    ("sqlite:///a.db?journal_mode=bogus",
     "journal_mode accepts one of wal, delete, truncate, persist, memory, off"),
    ("sqlite:///a.db?busy_timeout=-1", "busy_timeout accepts a whole number from 0 to"),
    ("sqlite:///a.db?busy_timeout=%EF%BC%91", "busy_timeout accepts a whole number"),
    ("sqlite:///a.db?cache_size=1e9", "cache_size accepts a whole number"),
    ("sqlite:///a.db?mmap_size=-5", "mmap_size accepts a whole number from 0 to"),
    ("postgresql://u@h/db?sslmode=requir",
     "sslmode accepts one of disable, allow, prefer, require, verify-ca, verify-full"),
    ("postgresql://u@h/db?max_connections=0", "max_connections accepts a whole number from 1"),
    ("postgresql://u@h/db?pool_timeout=nan", "pool_timeout accepts a number of seconds"),
    ("postgresql://u@h/db?connect_timeout=0", "connect_timeout accepts a whole number from 1"),
    ("postgresql://u@h/db?statement_timeout=-5", "statement_timeout accepts a whole number"),
    ("postgresql://u@h/db?stale_timeout=%2B300", "stale_timeout accepts a whole number"),
    ("postgresql://u@h/db?application_name=" + "x" * 64,
     "application_name accepts printable ASCII text of at most 63 characters"),
])
def test_bad_urls_say_what_to_do(url: str, phrase: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError) as raised:
        open_store(url)
    assert phrase in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("url, pragma, value", [
    ("sqlite:///a.db?synchronous=NORMAL", "synchronous", 1),
    ("sqlite:///a.db?journal_mode=Delete", "journal_mode", "delete"),
    ("sqlite:///a.db?busy_timeout=250", "busy_timeout", 250),
    ("sqlite:///a.db?cache_size=-2000", "cache_size", -2000),
])
def test_valid_options_take_effect(url: str, pragma: str, value: Any, tmp_path,
                                   monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store(url) as store:
        assert store.db.execute_sql(f"PRAGMA {pragma}").fetchone()[0] == value


def test_default_url_comes_from_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AZORA_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    with open_store() as store:
        assert store.url.endswith("env.db")
    monkeypatch.delenv("AZORA_DATABASE_URL")
    monkeypatch.chdir(tmp_path)
    with open_store() as store:
        assert store.url == "sqlite:///azora.db"


def test_built_in_backends_register_as_entry_points() -> None:
    names = {entry.name for entry in entry_points(group=ENTRY_POINT_GROUP)}
    assert {"sqlite", "postgresql"} <= names
    assert backend_class("sqlite") is SqliteBackend
    assert backend_class("postgresql").name == "postgresql"


def test_a_plugin_backend_is_found_by_its_scheme(tmp_path) -> None:
    class EdgeBackend(SqliteBackend):
        """A third-party backend: SQLite with another scheme and its own pragma."""

        name = "edge"

    register("edge", EdgeBackend)
    assert "edge" in available_schemes()
    with open_store(f"edge:///{tmp_path}/edge.db") as store:
        assert store.backend.name == "edge"
        assert store.migrate()


def test_a_broken_plugin_is_reported_clearly() -> None:
    register("broken", "no_such_module:Backend")
    with pytest.raises(ConfigurationError, match="failed to load"):
        open_store("broken:///x")


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run([sys.executable, "-m", "azora_store", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "azora_store" in result.stdout


def test_server_pids_are_the_other_sessions_on_the_database(db_url: str) -> None:
    """Load tests add these processes' CPU to the server's: Postgres lists the
    sessions serving the database, SQLite (embedded) none."""
    from azora_store import open_store

    with open_store(db_url) as store, open_store(db_url) as other:
        other.db.execute_sql("SELECT 1")  # a session of its own
        pids = store.backend.server_pids()
        if store.backend.name == "sqlite":
            assert pids == []
        else:
            mine = other.db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
            assert mine in pids
            assert store.db.execute_sql("SELECT pg_backend_pid()").fetchone()[0] not in pids
