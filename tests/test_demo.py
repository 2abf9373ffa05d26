"""``azora-store demo``: the whole story on a fresh database, on both backends."""

from __future__ import annotations

import stat
from pathlib import Path

from click.testing import CliRunner

from azora_store import open_store
from azora_store.cli import cli
from azora_store.crypto import KEY_ENV
from tests.test_ledger import assert_ledger_invariants

KEY_LINES = [
    "1. Users",
    "Kofi: PASSPORT *****5678 (GH) -> APPROVED, risk LOW",
    "look-up by document number finds user #2",
    "the same request replayed with its key: no second deposit",
    "skills: postgresql, python, rest apis",
    "hired Kofi: job IN_PROGRESS, Zanele's application REJECTED",
    "400.00 USD released to Kofi's wallet; the escrow still holds 800.00 USD",
    "escrow FROZEN",
    "a release attempt is refused: escrow 1 is FROZEN by an open dispute",
    "resolved as a split: 500.00 USD to Kofi, 300.00 USD back to Amara; escrow SETTLED",
    "funded 1,200.00 USD = released 900.00 USD + refunded 300.00 USD + remaining 0.00 USD",
    "7. Job COMPLETED; reviews: Amara -> Kofi 4/5, Kofi -> Amara 5/5",
    "audit chain OK: 3 event(s)",
    "Balances: Amara 600.00 USD, Kofi 900.00 USD; ledger balanced",
    "sync status:",
]


def test_demo_tells_the_whole_story(empty_url: str) -> None:
    result = CliRunner().invoke(cli, ["demo", "--db", empty_url])
    assert result.exit_code == 0, result.output
    for line in KEY_LINES:
        assert line in result.output, line
    assert "A12345678" not in result.output and "A1234-5678" not in result.output
    table = result.output.split("sync status:")[1].splitlines()
    total = next(line.split() for line in table if line.strip().startswith("total"))
    assert total[1] == "0" and int(total[3]) > 40  # nothing pending, all delivered
    with open_store(empty_url) as store:
        assert_ledger_invariants(store)
        assert store.compliance.verify_chain().ok
        assert store.sync.status().counts["PENDING"] == 0

    again = CliRunner().invoke(cli, ["demo", "--db", empty_url])
    assert again.exit_code == 1 and "already has users" in again.output
    reset = CliRunner().invoke(cli, ["demo", "--db", empty_url, "--reset"])
    assert reset.exit_code == 0, reset.output
    assert "ledger balanced" in reset.output


def test_demo_makes_a_throwaway_key_when_none_is_set(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(KEY_ENV)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = CliRunner().invoke(cli, ["demo", "--db", url])
    assert result.exit_code == 0, result.output
    key_file = tmp_path / "demo.db.key"
    assert f"generated a throwaway key in {key_file}" in result.output
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "ledger balanced" in result.output
