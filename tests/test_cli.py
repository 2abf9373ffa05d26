"""The CLI: each command works on both backends and has an example in its help
(tests/test_docs.py checks that each one is documented)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from azora_store.cli import cli

MIGRATIONS = len(list((Path(__file__).resolve().parents[1] / "azora_store" / "migrations")
                      .glob("0*.py")))
# Migrations after 0005_job_search: what ``migrate down --to 0005_job_search`` reverts.
AFTER_0005 = len([path for path in (Path(__file__).resolve().parents[1] / "azora_store"
                                    / "migrations").glob("[0-9][0-9][0-9][0-9]_*.py")
                  if path.name > "0005_job_search.py"])


def all_commands(group: click.Group = cli, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}".strip()
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(all_commands(command, path))
    return found


@pytest.mark.parametrize("path, command", all_commands(), ids=lambda v: str(v))
def test_every_command_has_help_with_an_example(path: str, command: click.Command) -> None:
    result = CliRunner().invoke(cli, [*path.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`azora-store {path} --help` shows no example"
    if not isinstance(command, click.Group):
        assert "--db URL" in result.output


def test_init_status_down_doctor(empty_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["init", "--db", empty_url])
    assert result.exit_code == 0, result.output
    assert f"applied {MIGRATIONS} migration(s)" in result.output

    result = runner.invoke(cli, ["init", "--db", empty_url])
    assert "up to date" in result.output

    result = runner.invoke(cli, ["migrate", "status", "--db", empty_url])
    assert result.exit_code == 0 and result.output.count("[x]") == MIGRATIONS

    # --yes: the newest migration (0019) drops store_identity, which holds a row.
    result = runner.invoke(cli, ["migrate", "down", "--yes", "--db", empty_url])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["migrate", "status", "--db", empty_url])
    assert result.exit_code == 1 and "pending" in result.output

    result = runner.invoke(cli, ["doctor", "--db", empty_url])
    assert result.exit_code == 1 and "1 migration(s) pending" in result.output

    result = runner.invoke(cli, ["migrate", "up", "--db", empty_url])
    assert result.exit_code == 0
    result = runner.invoke(cli, ["doctor", "--db", empty_url])
    assert result.exit_code == 0, result.output
    assert "pending         none" in result.output


def test_errors_are_one_line_with_exit_status(tmp_path) -> None:
    result = CliRunner().invoke(cli, ["init", "--db", "nope://x"])
    assert result.exit_code == 2
    assert result.output.startswith("error: no backend for URL scheme 'nope'")
    result = CliRunner().invoke(cli, ["doctor", "--db", f"sqlite:///{tmp_path}/none.db"])
    assert result.exit_code == 1 and "there is no SQLite database at" in result.output
    assert f"create it with `azora-store init --db sqlite:///{tmp_path}/none.db`" in \
        result.output
    assert not (tmp_path / "none.db").exists()


def test_migrate_new_writes_a_skeleton(tmp_path, monkeypatch) -> None:
    import azora_store.migrations as migrations

    monkeypatch.setattr(migrations, "DIRECTORY", str(tmp_path))
    monkeypatch.setattr(migrations.Migrations.__init__, "__defaults__", (str(tmp_path),))
    result = CliRunner().invoke(cli, ["migrate", "new", "add badges",
                                      "--db", f"sqlite:///{tmp_path}/x.db"])
    assert result.exit_code == 0, result.output
    created = Path(result.output.strip())
    assert created.name == "0001_add_badges.py"
    assert "def down(migrator, db)" in created.read_text()


def test_doctor_warns_about_a_setting_that_breaks_a_promise(tmp_path: Path) -> None:
    """The backend names its risky settings; doctor reports the ones in force."""
    from azora_store import open_store
    from azora_store.doctor import diagnose

    with open_store(f"sqlite:///{tmp_path / 'risky.db'}") as store:
        store.migrate()
        assert not [w for w in diagnose(store).warnings if w.startswith("foreign_keys")]
        store.db.execute_sql("PRAGMA foreign_keys = OFF")
        warnings = diagnose(store).warnings
    assert "foreign_keys=0: foreign keys are not enforced" in warnings


def test_doctor_warns_when_the_searched_tables_outgrow_the_server_cache(store) -> None:
    """On Postgres, a jobs table bigger than shared_buffers is named (checked
    here against a 1-byte cache: the test server's real one is far bigger than
    its tables); SQLite has only the operating system's cache."""
    from azora_store.doctor import SEARCHED_TABLES, diagnose
    from azora_store.models import Job, User

    with store.atomic():
        client = User.create(email="c@example.org", full_name="C")
        Job.create(client=client, title="Data pipeline", budget=100, currency="USD")
    warned = store.backend.cache_warnings(SEARCHED_TABLES, cache_bytes=1)
    if store.backend.name == "postgresql":
        assert [w.split(" is ")[0] for w in warned] == ["jobs"]  # job_skills is empty
        assert "shared_buffers" in warned[0]
    else:
        assert warned == []
    assert not [w for w in diagnose(store).warnings if "shared_buffers" in w]


# -- migrate down asks before dropping tables (issue 13, item 1) ---------------------------


def _with_a_token_and_a_user(url: str) -> None:
    from azora_store import open_store
    from azora_store.api.auth import Tokens

    assert CliRunner().invoke(cli, ["init", "--db", url]).exit_code == 0
    with open_store(url) as store:
        Tokens(store).create("kept", ["read"])
        store.market.create_user("ann@example.org", "Ann")


def _applied(url: str) -> int:
    result = CliRunner().invoke(cli, ["migrate", "status", "--db", url])
    return result.output.count("[x]")


@pytest.mark.parametrize("how", [["--steps", "50"], ["--to", "0005_job_search"], ["--all"],
                                 ["--to", "0001_initial"]])
def test_down_that_drops_tables_lists_them_and_refuses_without_a_terminal(
        empty_url: str, how: list[str]) -> None:
    _with_a_token_and_a_user(empty_url)
    result = CliRunner().invoke(cli, ["migrate", "down", *how, "--db", empty_url])
    assert result.exit_code == 2, result.output
    assert "drops table api_tokens: 1 row" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: migrate down would drop ")
    assert "run it again with --yes" in result.stderr
    if how[0] in ("--all", "--steps"):
        assert "0001_initial" in result.stderr and "users                    1 row" in \
            result.stderr
    assert _applied(empty_url) == MIGRATIONS  # nothing reverted


def test_down_with_yes_drops_without_asking_and_a_plain_revert_never_asks(
        empty_url: str) -> None:
    _with_a_token_and_a_user(empty_url)
    result = CliRunner().invoke(cli, ["migrate", "down", "--to", "0014_search_budget_pairs",
                                      "--yes", "--db", empty_url])  # 0015 onwards drop tables
    assert result.exit_code == 0
    assert f"reverted {MIGRATIONS - 12} migration(s)" in result.output
    result = CliRunner().invoke(cli, ["migrate", "down", "--db", empty_url])  # 0014: no table
    assert result.exit_code == 0 and "reverted 1 migration(s)" in result.output
    result = CliRunner().invoke(cli, ["migrate", "down", "--to", "0005_job_search", "--yes",
                                      "--db", empty_url])
    assert result.exit_code == 0, result.output
    assert _applied(empty_url) == 5  # 0006 .. 0019 reverted


def test_a_revert_confirmed_for_another_plan_reverts_nothing(store) -> None:
    """Another runner changed what is applied between the question and the answer."""
    from azora_store.errors import Conflict

    plan = [revert.name for revert in store.migrations.down_plan(steps=2)]
    with pytest.raises(Conflict, match="nothing was reverted"):
        store.migrations.down(steps=3, expect=plan)
    assert not store.migrations.pending()
    assert store.migrations.down(steps=2, expect=plan) == plan


def _down_on_a_terminal(url: str, answer: str) -> subprocess.CompletedProcess:
    """``migrate down --to 0005_job_search`` with a pseudo-terminal as stdin,
    answering the question with ``answer``."""
    main, terminal = os.openpty()
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "azora_store", "migrate", "down", "--to", "0005_job_search",
             "--db", url], stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        os.close(terminal)
        os.write(main, f"{answer}\n".encode())  # the terminal holds it until read
        out, err = child.communicate(timeout=120)
    finally:
        os.close(main)
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


def test_down_asks_on_a_terminal_and_keeps_everything_unless_told_yes(empty_url: str) -> None:
    _with_a_token_and_a_user(empty_url)
    refused = _down_on_a_terminal(empty_url, "n")
    assert refused.returncode == 1 and "Aborted" in refused.stderr, refused
    assert "drops table api_tokens: 1 row" in refused.stderr
    assert "drops table store_secrets: 1 row" in refused.stderr
    assert "drops table user_counters: 1 row" in refused.stderr  # the user's counters
    assert "drops table sync_throughput: 0 rows" in refused.stderr
    # api_tokens, store_secrets, store_identity, user_counters (1 row each),
    # consumer_positions, sync_throughput (empty)
    assert "Drop 6 table(s) holding 4 rows" in refused.stderr
    assert _applied(empty_url) == MIGRATIONS
    accepted = _down_on_a_terminal(empty_url, "y")
    assert accepted.returncode == 0, accepted
    assert f"reverted {MIGRATIONS - 5} migration(s)" in accepted.stdout  # down to 0005
    assert _applied(empty_url) == 5


# -- read-only commands never create a database (item 8) -----------------------------------

NO_DATABASE_NEEDED = [
    ["sync", "status"], ["sync", "status", "--json"], ["sync", "retry-failed"],
    ["sync", "prune", "--older-than", "7d"], ["sync", "worker", "--exit-when-idle"],
    ["audit", "verify"], ["token", "list"], ["token", "revoke", "x"],
    ["token", "create", "--name", "x", "--scope", "read"], ["doctor"], ["migrate", "status"],
    ["migrate", "down"], ["market", "release-due"], ["serve", "--port", "1"],
    ["bench", "-k", "nothing"],
]


@pytest.fixture
def missing_url(request: pytest.FixtureRequest, backend_name: str, tmp_path: Path) -> str:
    """A URL naming a database that does not exist (a typo)."""
    if backend_name == "sqlite":
        return f"sqlite:///{tmp_path / 'typo.db'}"
    from tests.conftest import RUN_ID, pg_url_for

    request.getfixturevalue("pg_server")  # skips (or fails in CI) without a server
    return pg_url_for(f"azora_typo_{RUN_ID}")


@pytest.mark.parametrize("command", NO_DATABASE_NEEDED, ids=" ".join)
def test_commands_on_a_missing_database_say_so_and_create_nothing(
        missing_url: str, backend_name: str, tmp_path: Path, command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--db", missing_url])
    assert result.exit_code == 1, result.output
    if command == ["doctor"] and backend_name == "postgresql":  # reached the server: a report
        assert "PROBLEM: there is no database 'azora_typo_" in result.stdout
        return
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: there is no ")
    if backend_name == "sqlite":
        assert f"no SQLite database at {tmp_path / 'typo.db'}" in result.stderr
        assert list(tmp_path.iterdir()) == []
    else:
        assert "no database 'azora_typo_" in result.stderr


def test_the_commands_that_create_a_database_still_do(tmp_path: Path) -> None:
    for command in (["init"], ["migrate", "up"]):
        path = tmp_path / f"{command[-1]}.db"
        result = CliRunner().invoke(cli, [*command, "--db", f"sqlite:///{path}"])
        assert result.exit_code == 0, result.output
        assert path.exists()


# -- missing extras are one line naming the extra (item 6) -----------------------------------

EXTRA_COMMANDS = [
    (("gunicorn",), ["serve"], "azora-store serve needs gunicorn", "server"),
    (("falcon",), ["serve"], "azora-store serve needs falcon", "server"),
    (("prometheus_client",), ["serve"], "azora-store serve needs prometheus_client", "server"),
    (("pytest", "pytest_benchmark"), ["bench"], "azora-store bench needs pytest", "bench"),
    (("pytest_benchmark",), ["bench", "--db", "sqlite:///{db}"],
     "azora-store bench needs pytest_benchmark", "bench"),
    (("numpy",), ["seed", "--scale", "tiny"], "azora-store seed needs numpy", "seed"),
    (("matplotlib",), ["bench", "--db", "sqlite:///{db}", "--plot", "{db}-plots"],
     "azora-store bench --plot needs matplotlib", "plots"),
]


@pytest.mark.parametrize("hidden, command, phrase, extra", EXTRA_COMMANDS,
                         ids=[" ".join(c[0]) + " " + c[1][0] for c in EXTRA_COMMANDS])
def test_a_missing_extra_is_one_line_naming_it(tmp_path: Path, hidden: tuple[str, ...],
                                               command: list[str], phrase: str,
                                               extra: str) -> None:
    """As if the extra were not installed: every process of the run (the bench's
    pytest too) finds the modules missing."""
    from azora_store import open_store

    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in hidden))
    db = tmp_path / "azora.db"
    with open_store(f"sqlite:///{db}") as store:
        store.migrate()
    fresh = tmp_path / "fresh.db"
    args = [arg.format(db=db) for arg in command]
    if "--db" not in args:
        args += ["--db", f"sqlite:///{fresh if command[0] == 'seed' else db}"]
    result = subprocess.run([sys.executable, "-m", "azora_store", *args],
                            env={**os.environ, "PYTHONPATH": str(site)}, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2, result
    assert result.stderr == (f"error: {phrase}, which is not installed: "
                             f"pip install 'azora_store[{extra}]'\n")
    assert not fresh.exists()  # seed checks before it creates the schema


# -- settings weaker than documented, empty plans (items 7 and 10) ---------------------------


def test_doctor_warns_about_a_setting_weaker_than_documented(db_url: str,
                                                              backend_name: str) -> None:
    from azora_store import open_store

    if backend_name == "sqlite":
        url, expected = f"{db_url}?synchronous=normal&journal_mode=truncate", [
            "WARNING: synchronous=normal: weaker than the documented full",
            "WARNING: journal_mode=truncate: not the documented wal"]
    else:
        url, expected = db_url, ["WARNING: synchronous_commit=off: committed transactions"]
        with open_store(db_url) as store:
            name = store.backend.url.database
            store.db.execute_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    result = CliRunner().invoke(cli, ["doctor", "--db", url])
    assert result.exit_code == 0, result.output
    for line in expected:
        assert line in result.output
    assert "OK: nothing to report" not in result.output


def test_doctor_shows_no_empty_plan_heading_on_an_empty_database(db_url: str) -> None:
    result = CliRunner().invoke(cli, ["doctor", "--db", db_url])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    headings = [n for n, line in enumerate(lines) if line.startswith("plan of ")]
    assert len(headings) == 12  # plans._calls: 5 OPEN searches, 4 other-status ones, 3 more
    for n in headings:
        assert lines[n + 1].startswith("  "), f"{lines[n]!r} has nothing under it"
    assert "no statement  answered without SQL" in result.output  # the skill searches
