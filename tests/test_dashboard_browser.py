"""``/dashboard`` in a real headless Chromium (Playwright driving Debian's
``/usr/bin/chromium``), served over HTTP from a thread, on both backends:
sign in, counts equal ``sync status --json``, filter the dead letters, retry
one and see it leave the list; a read-only token sees no action and is
refused by the action routes; a form without the CSRF token is refused, and so
is a sign-in forged by another site."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.conftest import IN_CI
from tests.dashboard_world import build, serving
from tests.helpers import sql

pytestmark = pytest.mark.slow  # a browser per module, a served store per test
CHROMIUM = os.environ.get("AZORA_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if IN_CI:
            pytest.fail("playwright is not installed (pip install -e '.[dev]')")
        pytest.skip("playwright is not installed")
    if not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        yield launched
        launched.close()


@pytest.fixture
def world(store):
    return build(store)


@pytest.fixture
def site(world) -> Iterator[str]:
    with serving(world.store) as base:
        yield base


def sign_in(browser, base: str, token: str):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/dashboard")
    page.fill("#token", token)
    page.click("#sign-in")
    page.wait_for_selector("#counts")
    return context, page


def test_sign_in_counts_filter_and_retry_one(browser, world, site, db_url) -> None:
    context, page = sign_in(browser, site, world.operator)
    assert "token=" not in page.url and world.operator not in page.url
    cookie = next(c for c in context.cookies() if c["name"] == "azora_dashboard")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # not readable from JavaScript

    # The counts are the exact counters: what `sync status --json` prints.
    status = json.loads(subprocess.run(
        [sys.executable, "-m", "azora_store", "sync", "status", "--json", "--db", db_url],
        check=True, capture_output=True, text=True, timeout=60).stdout)
    cells = page.eval_on_selector_all(
        "#counts td", "cells => cells.map(c => [c.dataset.service, c.dataset.status, "
                      "Number(c.textContent)])")
    shown = {(service, st): n for service, st, n in cells}
    expected = {(service, st): n for service, counts in status["services"].items()
                for st, n in counts.items()}
    expected |= {("*", st): n for st, n in status["counts"].items()}
    assert shown == expected
    assert shown[("*", "FAILED")] == len(world.failed) > 0
    assert int(page.get_attribute("#throughput", "data-total")) > 0

    # Filter: billing events whose error mentions "timeout", any case.
    page.select_option("#filter-service", "billing")
    page.fill("#filter-error", "TIMEOUT")
    page.click("#apply-filter")
    page.wait_for_load_state()
    ids = [int(i) for i in page.eval_on_selector_all("#failed tbody tr",
                                                     "rows => rows.map(r => r.dataset.id)")]
    assert ids == [world.failed[3], world.failed[1]]

    # Retry one: it leaves the list, the other stays; a security event says who.
    page.check(f"tr[data-id='{ids[0]}'] input.pick")
    page.click("#retry-selected")
    page.wait_for_selector("#notice")
    assert page.text_content("#notice") == "1 event(s) retried"
    left = [int(i) for i in page.eval_on_selector_all("#failed tbody tr",
                                                      "rows => rows.map(r => r.dataset.id)")]
    assert left == [ids[1]]
    store = world.store
    assert sql(store, "SELECT status FROM service_sync WHERE id = ?", ids[0]) == [("PENDING",)]
    events = sql(store, "SELECT event_type, details FROM security_events ORDER BY id")
    kind, details = events[-1]
    assert kind == "sync.retry"
    assert json.loads(details).items() >= {"ids": [ids[0]], "token_name": "ops-on-call",
                                           "via": "dashboard", "count": 1}.items()
    context.close()


def test_read_only_token_sees_no_actions_and_is_refused(browser, world, site) -> None:
    context, page = sign_in(browser, site, world.reader)
    assert page.locator("#failed tbody tr").count() == len(world.failed)
    for selector in ("#retry-selected", "#retry-matching", "#discard-selected",
                     "input.pick", "#pick-all", "button[value=run_now]"):
        assert page.locator(selector).count() == 0, selector
    # Its own CSRF token does not make up for the missing scope.
    csrf = page.get_attribute("input[name=csrf]", "value")
    response = context.request.post(f"{site}/dashboard/actions", form={
        "csrf": csrf, "action": "retry", "ids": str(world.failed[0])})
    assert response.status == 403
    context.close()
    for path, body in [("/api/sync/retry", {"ids": [world.failed[0]]}),
                       ("/api/sync/retry-matching", {}),
                       ("/api/sync/discard", {"ids": [world.failed[0]], "reason": "x"}),
                       ("/api/sync/run-now", {"ids": [world.delayed]})]:
        request = urllib.request.Request(
            site + path, data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {world.reader}",
                     "Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403, path
    assert world.store.sync.status().counts["FAILED"] == len(world.failed)


def test_a_forged_form_without_the_csrf_token_is_refused(browser, world, site) -> None:
    context, page = sign_in(browser, site, world.operator)
    target = world.failed[0]
    # The signed-in browser submits a form some page built: no CSRF token.
    page.evaluate("""([id]) => {
        const f = document.createElement('form');
        f.method = 'post'; f.action = '/dashboard/actions';
        for (const [k, v] of [['action', 'discard'], ['ids', id], ['reason', 'forged']]) {
            const i = document.createElement('input'); i.type = 'hidden';
            i.name = k; i.value = v; f.appendChild(i);
        }
        document.body.appendChild(f); f.submit();
    }""", [str(target)])
    page.wait_for_selector("text=CSRF token is missing or wrong")
    assert world.store.sync.failed(limit=500).items[-1].id == target  # still there
    # A wrong token is no better.
    response = context.request.post(f"{site}/dashboard/actions", form={
        "csrf": "0" * 64, "action": "discard", "ids": str(target), "reason": "forged"})
    assert response.status == 403
    assert sql(world.store, "SELECT COUNT(*) FROM service_sync WHERE id = ?", target) == [(1,)]
    context.close()


def test_a_forged_cross_site_sign_in_is_refused(browser, world, site) -> None:
    """Login CSRF: another site's page signs the browser in with the attacker's
    token (the operator would then act in the attacker's session). The browser
    holds the sign-in page's pre-session cookie, but the forged form cannot
    know its value and the cookie (SameSite=Strict) is not sent along."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site}/dashboard")  # the sign-in page is open: its cookie is set
    assert any(c["name"] == "azora_login_csrf" for c in context.cookies())
    evil = "http://evil.example/"
    page.route(evil, lambda route: route.fulfill(status=200, content_type="text/html", body=(
        f"<form method=post action='{site}/dashboard/login'>"
        f"<input name=token value='{world.reader}'><input name=csrf value='guessed'></form>"
        "<script>document.forms[0].submit()</script>")))
    page.goto(evil)
    page.wait_for_url(f"{site}/dashboard/login")
    page.wait_for_selector("text=another site")
    assert not [c for c in context.cookies() if c["name"] == "azora_dashboard"]
    page.goto(f"{site}/dashboard")
    assert page.locator("#token").count() == 1  # still signed out
    # The genuine form, from the dashboard's own page, still signs in.
    page.fill("#token", world.operator)
    page.click("#sign-in")
    page.wait_for_selector("#counts")
    assert page.text_content("#who") == "ops-on-call"
    context.close()


def test_discard_with_a_reason_and_run_now(browser, world, site) -> None:
    context, page = sign_in(browser, site, world.operator)
    target = world.failed[4]
    # The page's script runs under its Content-Security-Policy: select all, then none.
    page.click("#pick-all")
    assert page.eval_on_selector_all("input.pick", "boxes => boxes.every(b => b.checked)")
    page.click("#pick-all")
    assert page.eval_on_selector_all("input.pick", "boxes => !boxes.some(b => b.checked)")
    page.check(f"tr[data-id='{target}'] input.pick")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    page.click("#discard-selected")  # no reason yet: the script asks for one, nothing sent
    assert page.locator(f"tr[data-id='{target}']").count() == 1
    assert page.locator("#problem").count() == 0 and dialogs == []
    page.fill("#reason", "customer deleted upstream")
    page.click("#discard-selected")
    page.wait_for_selector("#notice")
    assert dialogs == ["Discard the selected events for good?"]
    assert page.text_content("#notice") == "1 event(s) discarded"
    assert page.locator(f"tr[data-id='{target}']").count() == 0
    kind, details = sql(world.store, "SELECT event_type, details FROM security_events "
                                     "ORDER BY id DESC LIMIT 1")[0]
    assert kind == "sync.discard"
    assert json.loads(details)["reason"] == "customer deleted upstream"

    page.click("#delayed button[value=run_now]")
    page.wait_for_selector("#notice")
    assert page.text_content("#notice") == "1 event(s) made claimable now"
    assert page.locator("#no-delayed").count() == 1
    context.close()
