"""The CLI: each command works on both backends and has an example in its help
(tests/test_docs.py checks that each one is documented)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from azora_store.cli import cli

MIGRATIONS = len(list((Path(__file__).resolve().parents[1] / "azora_store" / "migrations")
                      .glob("0*.py")))


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

    result = runner.invoke(cli, ["migrate", "down", "--db", empty_url])
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


def test_destructive_down_asks_first(empty_url: str) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["init", "--db", empty_url])
    result = runner.invoke(cli, ["migrate", "down", "--all", "--db", empty_url], input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    result = runner.invoke(cli, ["migrate", "status", "--db", empty_url])
    assert result.exit_code == 0


def test_errors_are_one_line_with_exit_status(tmp_path) -> None:
    result = CliRunner().invoke(cli, ["init", "--db", "nope://x"])
    assert result.exit_code == 2
    assert result.output.startswith("error: no backend for URL scheme 'nope'")
    result = CliRunner().invoke(cli, ["doctor", "--db", f"sqlite:///{tmp_path}/none.db"])
    assert result.exit_code == 1 and "run `azora-store init`" in result.output
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
