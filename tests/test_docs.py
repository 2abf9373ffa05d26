"""The docs are kept honest by tests (as sqlite-utils' tests/test_docs.py does):

- docs/cli.md is what the commands' --help prints (it is generated: a drift
  means someone changed a command without ``make docs-cli``);
- every command is described in a hand-written page or the README, not only
  in the generated reference;
- the README's relative links resolve (mkdocs --strict checks the pages);
- every Python example in the README and in docs/ runs, on both backends.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest

from azora_store import open_store
from azora_store.cli import cli
from azora_store.models import User

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
EXAMPLE_URL = '"sqlite:///azora.db"'  # what every example opens; the test swaps it


def _load_generator() -> Any:
    spec = importlib.util.spec_from_file_location("cli_reference",
                                                  ROOT / "scripts" / "cli_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generator = _load_generator()


def hand_written_pages() -> dict[str, str]:
    pages = {p.name: p.read_text() for p in sorted(DOCS.glob("*.md")) if p.name != "cli.md"}
    pages["README.md"] = README.read_text()
    return pages


def test_cli_reference_is_current() -> None:
    expected = generator.render()
    current = generator.TARGET.read_text()
    assert current == expected, "docs/cli.md differs from the commands' --help: run `make docs-cli`"


def test_cli_reference_lists_every_command() -> None:
    text = generator.TARGET.read_text()
    paths = [path for path, _ in generator.commands()]
    assert len(paths) > 20
    for path in paths:
        assert f"\n## {path}\n" in text, path


@pytest.mark.parametrize("path", [path for path, _ in generator.commands(cli)])
def test_every_command_is_described_in_a_hand_written_page(path: str) -> None:
    found = [name for name, text in hand_written_pages().items() if path in text]
    assert found, f"`{path}` appears only in the generated reference: describe it in a docs page"


def test_the_readme_fits_a_few_screens() -> None:
    assert len(README.read_text().splitlines()) <= 220


def test_readme_links_resolve() -> None:
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text())
    local = [link for link in links if "://" not in link]
    assert local, "the README links to no docs page"
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, f"README links to missing files: {missing}"


def python_examples(page: Path) -> str:
    """The page's ```python blocks, in order, as one program."""
    return "\n".join(re.findall(r"```python\n(.*?)```", page.read_text(), re.S))


EXAMPLE_PAGES = [page for page in [README, *sorted(DOCS.glob("*.md"))] if python_examples(page)]


def test_the_example_pages_are_found() -> None:
    names = {page.name for page in EXAMPLE_PAGES}
    assert {"README.md", "workflows.md", "outbox.md", "search.md"} <= names


@pytest.mark.parametrize("page", EXAMPLE_PAGES, ids=lambda page: page.name)
def test_python_examples_run(page: Path, empty_url: str, tmp_path, monkeypatch) -> None:
    source = python_examples(page)
    assert EXAMPLE_URL in source, f"{page.name}'s example should open {EXAMPLE_URL}"
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "__example__"}
    try:
        exec(compile(source.replace(EXAMPLE_URL, repr(empty_url)), str(page), "exec"),
             namespace)
    finally:
        if namespace.get("store") is not None:
            namespace["store"].close()
    assert not list(tmp_path.glob("azora.db*")), "the example opened the default database"
    with open_store(empty_url) as store:  # every example starts by making a user
        assert not store.migrations.pending()
        assert User.select().count() >= 1
