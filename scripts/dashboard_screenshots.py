"""Screenshots of ``/dashboard`` for the docs (docs/img/dashboard-*.png).

Builds the tests' dashboard world (dead letters, a blocked key, a delayed
retry, an hour of throughput) in a temporary SQLite database, serves it, and
photographs it in headless Chromium (Playwright driving /usr/bin/chromium):
signed in as an operator, filtered, and as a read-only token.

    .venv/bin/python scripts/dashboard_screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from azora_store import open_store  # noqa: E402
from tests.dashboard_world import build, serving  # noqa: E402

OUT = ROOT / "docs" / "img"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, open_store(f"sqlite:///{tmp}/shots.db") as store:
        store.migrate()
        world = build(store, copies=4)
        with serving(store) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=["--no-sandbox", "--disable-gpu"])
            for name, token, query in [("operator", world.operator, ""),
                                       ("filtered", world.operator,
                                        "?service=billing&error=timeout"),
                                       ("read-only", world.reader, "")]:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(f"{base}/dashboard")
                page.fill("#token", token)
                page.click("#sign-in")
                page.wait_for_selector("#counts")
                if query:
                    page.goto(f"{base}/dashboard{query}")
                path = OUT / f"dashboard-{name}.png"
                page.screenshot(path=str(path), full_page=True)
                print(f"wrote {path.relative_to(ROOT)}")
                page.close()
            browser.close()


if __name__ == "__main__":
    main()
