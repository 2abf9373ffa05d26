"""Lines per module of the package, as the table in docs/architecture.md.

    python scripts/module_sizes.py                 # print the table
    python scripts/module_sizes.py --write         # refresh it in docs/architecture.md
    python scripts/module_sizes.py --root DIR      # another checkout's azora_store/

A module above ``LIMIT`` lines must say in its docstring why it is one job
(``tests/test_layout.py`` checks that); the table marks those with their
reason's first words.
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
LIMIT = 450
START, END = "<!-- module-sizes:start -->", "<!-- module-sizes:end -->"


def module_lines(package: Path) -> list[tuple[str, int]]:
    """(path relative to the package's parent, line count) of every module,
    migrations excepted (frozen, one file per schema version)."""
    rows = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package.parent).as_posix()
        if "/migrations/0" in relative:
            continue
        rows.append((relative, len(path.read_text(encoding="utf-8").splitlines())))
    return rows


def one_job(path: Path) -> str:
    """The sentence of the module docstring that says why it is one job, or ""."""
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    flat = " ".join(docstring.split())
    found = re.search(r"[^.]*\bone job\b[^.]*\.", flat, re.IGNORECASE)
    return found.group(0).strip() if found else ""


def table(package: Path) -> str:
    rows = module_lines(package)
    lines = ["| module | lines | |", "|---|---:|---|"]
    for relative, count in rows:
        note = ""
        if count > LIMIT:
            reason = one_job(package.parent / relative)
            note = (re.sub(r"^one job[^:]*:\s*", "one job: ", reason, flags=re.IGNORECASE)
                    if reason else f"above {LIMIT}, no reason given")
        lines.append(f"| `{relative}` | {count:,} | {note} |")
    total = sum(count for _, count in rows)
    lines.append(f"| **{len(rows)} modules** | **{total:,}** | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT,
                        help="the checkout whose azora_store/ to measure")
    parser.add_argument("--write", action="store_true",
                        help=f"replace the table between the markers in {DOC.name}")
    args = parser.parse_args()
    text = table(args.root / "azora_store")
    if not args.write:
        print(text)
        return
    doc = DOC.read_text(encoding="utf-8")
    before, _, rest = doc.partition(START)
    _, _, after = rest.partition(END)
    DOC.write_text(f"{before}{START}\n{text}\n{END}{after}", encoding="utf-8")


if __name__ == "__main__":
    main()
