"""Every storage test runs on SQLite and on PostgreSQL.

- SQLite: the schema is migrated once into a template file; each test gets a
  copy in its own tmp directory.
- PostgreSQL: the schema is migrated once into a template database; each test
  gets ``CREATE DATABASE ... TEMPLATE`` (the procrastinate pattern), dropped
  afterwards. The server is $AZORA_TEST_PG_URL (default: the local one).
  Unreachable, the Postgres tests skip with the reason, except when CI=true:
  then they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from azora_store import open_store
from azora_store.store import Store

PG_URL = os.environ.get("AZORA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BACKENDS = ("sqlite", "postgresql")
RUN_ID = uuid.uuid4().hex[:8]


def pg_url_for(database: str) -> str:
    """The test server's URL with another database name."""
    parts = urlsplit(PG_URL)
    return urlunsplit(parts._replace(path="/" + database))


class PostgresServer:
    """Creates and drops databases on the test server."""

    def __init__(self) -> None:
        import psycopg

        self.conn = psycopg.connect(PG_URL, autocommit=True, connect_timeout=5)

    def create(self, name: str, template: str | None = None) -> str:
        self.drop(name)
        clause = f' TEMPLATE "{template}" STRATEGY WAL_LOG' if template else ""
        self.conn.execute(f'CREATE DATABASE "{name}"{clause}')
        return pg_url_for(name)

    def drop(self, name: str) -> None:
        self.conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_pg_error: list[str] = []


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer()
    except Exception as exc:
        reason = f"PostgreSQL is unreachable at {PG_URL}: {exc}".splitlines()[0]
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: Postgres tests must run, not skip)")
        pytest.skip(f"{reason}; start it or set AZORA_TEST_PG_URL")
    yield server
    server.conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("template") / "template.db"
    with open_store(f"sqlite:///{path}") as store:
        store.migrate()
    return str(path)


@pytest.fixture(scope="session")
def pg_template(pg_server: PostgresServer) -> Iterator[str]:
    name = f"azora_tpl_{RUN_ID}"
    url = pg_server.create(name)
    with open_store(url) as store:
        store.migrate()
    yield name
    pg_server.drop(name)


def _fresh_url(request: pytest.FixtureRequest, backend: str, tmp_path, migrated: bool
               ) -> Iterator[str]:
    if backend == "sqlite":
        path = tmp_path / f"{'migrated' if migrated else 'empty'}.db"
        if migrated:
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    template = request.getfixturevalue("pg_template") if migrated else None
    name = f"azora_t_{RUN_ID}_{uuid.uuid4().hex[:8]}"
    url = server.create(name, template)
    try:
        yield url
    finally:
        server.drop(name)


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(request: pytest.FixtureRequest, backend_name: str, tmp_path) -> Iterator[str]:
    """A fresh database at the newest schema, on each backend."""
    yield from _fresh_url(request, backend_name, tmp_path, migrated=True)


@pytest.fixture
def empty_url(request: pytest.FixtureRequest, backend_name: str, tmp_path) -> Iterator[str]:
    """A fresh empty database (no schema), on each backend."""
    yield from _fresh_url(request, backend_name, tmp_path, migrated=False)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with open_store(db_url) as opened:
        yield opened


@pytest.fixture(autouse=True)
def field_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh field-encryption key for every test (KYC encrypts with it)."""
    from azora_store.crypto import KEY_ENV, KEY_FILE_ENV, default_cipher, generate_key

    key = generate_key()
    monkeypatch.setenv(KEY_ENV, key)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    default_cipher.cache_clear()
    yield key
    default_cipher.cache_clear()
