"""``/dashboard``: the outbox seen and steered from a browser.

Server-rendered HTML with a few lines of vanilla JavaScript, no build step and
nothing fetched from elsewhere (it works offline). Sign-in is a form that
takes an API token and sets it in a cookie (``HttpOnly``, ``SameSite=Strict``,
``Secure`` behind HTTPS); the token never appears in a URL. Every request
authenticates the cookie's token like a bearer token (so revoking it signs the
browser out within the token cache's few seconds): ``read`` to look,
``operator`` to act.

Actions are POSTed forms carrying a CSRF token: an HMAC of the session's token,
which another site cannot compute (and ``SameSite=Strict`` keeps the cookie
off cross-site requests too). Each action goes through
``sync.operations.Operations`` and so is recorded as a security event.

The page is made of the same reads as the JSON routes: exact counters
(``sync_status``), the per-minute throughput series, one keyset page of dead
letters, blocked keys and delayed retries.

One job, so one module above 450 lines: one page, its markup beside the
handlers that fill it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import parse_qs, urlencode

import falcon

from ..errors import AzoraError, ValidationError
from ..models.sync import SyncStatus
from ..support.clock import utcnow
from ..sync.deadletters import MAX_ERROR_FILTER
from ..sync.operations import Actor, check_ids
from .auth import Principal
from .resources import Resource

COOKIE = "azora_dashboard"
SESSION_SECONDS = 8 * 3600
PAGE_SIZE = 50
FORM_LIMIT = 64 * 1024
STATUSES = [status.value for status in SyncStatus]
ACTIONS = {"retry": "retried", "retry_matching": "retried", "discard": "discarded",
           "run_now": "made claimable now"}


def csrf_for(token: str) -> str:
    """The CSRF token of a session: only who holds the session's token can make it."""
    return hmac.new(token.encode("utf-8", "surrogatepass"), b"azora-dashboard-csrf",
                    hashlib.sha256).hexdigest()


class Session:
    def __init__(self, token: str, principal: Principal):
        self.token = token
        self.principal = principal
        self.csrf = csrf_for(token)

    @property
    def can_act(self) -> bool:
        return "operator" in self.principal.scopes


class DashboardResource(Resource):
    """HTML pages: authenticated by the session cookie, not by the route table."""

    def session(self, req: falcon.Request) -> Session | None:
        token = req.cookies.get(COOKIE)
        if not token:
            return None
        principal = self.api.state.tokens.authenticate(token)
        return Session(token, principal) if principal is not None else None

    def form(self, req: falcon.Request) -> dict[str, list[str]]:
        media = (req.content_type or "").partition(";")[0].strip().lower()
        if media != "application/x-www-form-urlencoded":
            raise _Refused(415, "send the form as application/x-www-form-urlencoded")
        length = req.content_length or 0
        if length > FORM_LIMIT:
            raise _Refused(413, "the form is too large")
        raw = req.bounded_stream.read(FORM_LIMIT + 1)
        if len(raw) > FORM_LIMIT:
            raise _Refused(413, "the form is too large")
        try:
            return parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=1000)
        except (UnicodeDecodeError, ValueError):
            raise _Refused(400, "the form is not valid") from None


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _page(resp: falcon.Response, body: str, status: int = 200, title: str = "Outbox") -> None:
    nonce = secrets.token_urlsafe(16)
    resp.status = status
    resp.content_type = "text/html; charset=utf-8"
    resp.set_header("Cache-Control", "no-store")
    resp.set_header("X-Frame-Options", "DENY")
    resp.set_header("X-Content-Type-Options", "nosniff")
    resp.set_header("Referrer-Policy", "same-origin")
    resp.set_header("Content-Security-Policy",
                    f"default-src 'none'; style-src 'nonce-{nonce}'; "
                    f"script-src 'nonce-{nonce}'; img-src 'self' data:; form-action 'self'; "
                    "frame-ancestors 'none'; base-uri 'none'")
    resp.text = (f"<!doctype html><html lang=en><head><meta charset=utf-8>"
                 f"<meta name=viewport content='width=device-width, initial-scale=1'>"
                 f"<title>{escape(title)} · azora_store</title>"
                 f"<style nonce='{nonce}'>{CSS}</style></head><body>{body}"
                 f"<script nonce='{nonce}'>{JS}</script></body></html>")


def _refuse(resp: falcon.Response, status: int, message: str) -> None:
    _page(resp, f"<main><h1>Refused</h1><p class=error role=alert>{escape(message)}</p>"
                "<p><a href='/dashboard'>Back to the dashboard</a></p></main>", status,
          "Refused")


def _login_form(message: str = "") -> str:
    alert = f"<p class=error role=alert>{escape(message)}</p>" if message else ""
    return ("<main class=login><h1>azora_store · outbox</h1>"
            "<p>Sign in with an API token (scope <code>read</code> to look, "
            "<code>operator</code> to act). It is kept in an HttpOnly cookie for this "
            "browser session, never in a URL.</p>" + alert +
            "<form method=post action='/dashboard/login'>"
            "<label>Token <input type=password name=token id=token autocomplete=off "
            "required maxlength=200></label> <button type=submit id=sign-in>Sign in</button>"
            "</form></main>")


class Dashboard(DashboardResource):
    path = "/dashboard"

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        session = self.session(req)
        if session is None:
            _page(resp, _login_form(), title="Sign in")
            return
        if "read" not in session.principal.scopes:
            _page(resp, _login_form("this token lacks the 'read' scope"), 403, "Sign in")
            return
        service = req.get_param("service") or None
        error = req.get_param("error") or None
        before_raw = req.get_param("before")
        before = int(before_raw) if before_raw and before_raw.isascii() and \
            before_raw.isdigit() and len(before_raw) <= 18 and int(before_raw) > 0 else None
        notice = _notice(req.get_param("done"), req.get_param("count"))
        try:
            body = self.render(session, service, error, before, notice)
        except AzoraError as exc:
            if exc.code != "validation":
                raise
            body = self.render(session, None, None, None, f"filter refused: {exc}")
        _page(resp, body)

    def render(self, session: Session, service: str | None, error: str | None,
               before: int | None, notice: str = "", problem: str = "") -> str:
        store = self.api.state.store
        status = store.sync.status()
        page = store.sync.failed(service=service, error=error, limit=PAGE_SIZE, before=before)
        ops = self.api.state.operations
        blocked = ops.blocked_keys(20)
        delayed = ops.delayed(20)
        minutes = store.sync.throughput.last_hour()
        p = session.principal
        parts = [
            "<header><h1>azora_store · outbox</h1><span class=who>signed in as "
            f"<b id=who>{escape(p.name)}</b> ({escape(' '.join(sorted(p.scopes)))})</span>"
            "<form method=post action='/dashboard/logout' class=inline>"
            f"<input type=hidden name=csrf value='{session.csrf}'>"
            "<button type=submit>Sign out</button></form></header><main>"]
        if notice:
            parts.append(f"<p class=notice role=status id=notice>{escape(notice)}</p>")
        if problem:
            parts.append(f"<p class=error role=alert id=problem>{escape(problem)}</p>")
        parts.append(_counts(status))
        parts.append(_chart(minutes))
        parts.append(_failed(session, page, status.services, service, error))
        parts.append(_blocked(blocked))
        parts.append(_delayed(session, delayed))
        parts.append(f"<footer>measured {status.measured_at:%Y-%m-%d %H:%M:%S} UTC · "
                     "<a href='/dashboard'>refresh</a></footer></main>")
        return "".join(parts)


def _notice(done: str | None, count: str | None) -> str:
    if done not in ACTIONS or not count or not count.isascii() or not count.isdigit():
        return ""
    return f"{int(count)} event(s) {ACTIONS[done]}"


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "none"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _counts(status: Any) -> str:
    head = "".join(f"<th>{s}</th>" for s in STATUSES)
    rows = []
    for service, counts in status.services.items():
        cells = "".join(f"<td data-service='{escape(service)}' data-status='{s}'>{counts[s]}"
                        "</td>" for s in STATUSES)
        rows.append(f"<tr><th scope=row>{escape(service)}</th>{cells}</tr>")
    total = "".join(f"<td data-service='*' data-status='{s}'>{status.counts[s]}</td>"
                    for s in STATUSES)
    return ("<section><h2>Events per service and status</h2>"
            f"<table id=counts><thead><tr><th>service</th>{head}</tr></thead><tbody>"
            + "".join(rows) + f"</tbody><tfoot><tr><th>total</th>{total}</tr></tfoot></table>"
            f"<p>Oldest pending event: <b id=oldest>{_age(status.oldest_pending_age)}</b> old."
            " Exact counters, never a count over the outbox.</p></section>")


def _chart(minutes: list[tuple[datetime, int]]) -> str:
    """Completed events per minute, last hour, as inline SVG bars."""
    width, height, left, bottom = 720, 160, 48, 20
    peak = max((count for _, count in minutes), default=0) or 1
    bar = (width - left) / len(minutes)
    bars = []
    for n, (minute, count) in enumerate(minutes):
        h = (height - bottom - 10) * count / peak
        x = left + n * bar
        y = height - bottom - h
        bars.append(f"<rect x='{x:.1f}' y='{y:.1f}' width='{max(bar - 1, 1):.1f}' "
                    f"height='{h:.1f}' class=bar><title>{minute:%H:%M} UTC: {count}"
                    "</title></rect>")
    total = sum(count for _, count in minutes)
    first, last = minutes[0][0], minutes[-1][0]
    axis = (f"<line x1='{left}' y1='{height - bottom}' x2='{width}' y2='{height - bottom}' "
            "class=axis />"
            f"<text x='{left - 4}' y='14' text-anchor=end class=label>{peak}</text>"
            f"<text x='{left - 4}' y='{height - bottom}' text-anchor=end class=label>0</text>"
            f"<text x='{left}' y='{height - 4}' class=label>{first:%H:%M}</text>"
            f"<text x='{width}' y='{height - 4}' text-anchor=end class=label>{last:%H:%M} UTC"
            "</text>")
    return ("<section><h2>Completed per minute, last hour</h2>"
            f"<svg id=throughput viewBox='0 0 {width} {height}' role=img "
            f"aria-label='completed events per minute; {total} in the last hour' "
            f"data-total='{total}'>{axis}{''.join(bars)}</svg>"
            f"<p>{total} completed in the last hour (as workers record them).</p></section>")


def _options(services: Iterable[str], chosen: str | None) -> str:
    options = ["<option value=''>all services</option>"]
    for name in services:
        selected = " selected" if name == chosen else ""
        options.append(f"<option value='{escape(name)}'{selected}>{escape(name)}</option>")
    return "".join(options)


def _failed(session: Session, page: Any, services: Any, service: str | None,
            error: str | None) -> str:
    filters = ("<form method=get action='/dashboard' id=filter class=inline>"
               f"<select name=service id=filter-service>{_options(services, service)}</select>"
               f" <input name=error id=filter-error placeholder='error text' "
               f"maxlength={MAX_ERROR_FILTER} value='{escape(error or '')}'>"
               " <button type=submit id=apply-filter>Filter</button></form>")
    act = session.can_act
    rows = []
    for e in page.items:
        box = (f"<td><input type=checkbox name=ids value='{e.id}' class=pick "
               f"aria-label='select event {e.id}'></td>") if act else ""
        rows.append(
            f"<tr data-id='{e.id}'>{box}<td>{e.id}</td><td>{escape(e.service)}</td>"
            f"<td>{escape(e.entity_type)}:{escape(e.entity_id)}</td>"
            f"<td>{e.attempts}/{e.max_attempts}</td><td>{e.failed_at:%Y-%m-%d %H:%M:%S}</td>"
            f"<td class=err title='{escape(e.last_error or '')}'>"
            f"{escape((e.last_error or '')[:160])}</td></tr>")
    pick_all = "<th><input type=checkbox id=pick-all aria-label='select all'></th>" \
        if act else ""
    table = (f"<table id=failed><thead><tr>{pick_all}<th>id</th><th>service</th>"
             "<th>entity</th><th>attempts</th><th>failed at (UTC)</th><th>last error</th>"
             "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>") if rows else \
        "<p id=no-failed>No failed events match.</p>"
    more = ""
    if page.next_before is not None:
        query = {k: v for k, v in (("service", service), ("error", error)) if v}
        query["before"] = str(page.next_before)
        more = f"<p><a id=next-page href='/dashboard?{escape(urlencode(query))}'>next page</a></p>"
    if act and rows:
        hidden = (f"<input type=hidden name=csrf value='{session.csrf}'>"
                  f"<input type=hidden name=service value='{escape(service or '')}'>"
                  f"<input type=hidden name=error value='{escape(error or '')}'>")
        actions = ("<div class=actions>"
                   "<button name=action value=retry id=retry-selected>Retry selected</button> "
                   "<button name=action value=retry_matching id=retry-matching "
                   "data-confirm='Retry every failed event matching the filter?'>"
                   "Retry all matching filter</button> "
                   "<input name=reason id=reason maxlength=500 placeholder='reason to discard'> "
                   "<button name=action value=discard id=discard-selected class=danger "
                   "data-confirm='Discard the selected events for good?'>Discard selected"
                   "</button></div>")
        body = (f"<form method=post action='/dashboard/actions' id=failed-form>{hidden}"
                f"{actions}{table}</form>")
    else:
        body = table
    return (f"<section><h2>Failed events (dead letters)</h2>{filters}{body}{more}"
            "</section>")


def _blocked(keys: list[Any]) -> str:
    if not keys:
        return "<section><h2>Blocked ordering keys</h2><p id=no-blocked>None.</p></section>"
    rows = "".join(
        f"<tr><td>{escape(k.ordering_key)}</td><td>{k.waiting}</td>"
        f"<td>{'' if k.head_id is None else k.head_id}</td><td>{escape(k.head_status or '')}"
        f"</td><td class=err>{escape((k.head_error or '')[:160])}</td></tr>" for k in keys)
    return ("<section><h2>Blocked ordering keys</h2><table id=blocked><thead><tr>"
            "<th>key</th><th>waiting</th><th>head event</th><th>head status</th>"
            f"<th>head's last error</th></tr></thead><tbody>{rows}</tbody></table></section>")


def _delayed(session: Session, events: list[Any]) -> str:
    if not events:
        return "<section><h2>Delayed retries</h2><p id=no-delayed>None.</p></section>"
    now = utcnow()
    rows = []
    for e in events:
        button = (f"<td><form method=post action='/dashboard/actions' class=inline>"
                  f"<input type=hidden name=csrf value='{session.csrf}'>"
                  f"<input type=hidden name=ids value='{e.id}'>"
                  f"<button name=action value=run_now>Run now</button></form></td>"
                  if session.can_act else "")
        wait = max(0.0, (e.available_at - now).total_seconds())
        rows.append(f"<tr><td>{e.id}</td><td>{escape(e.service)}</td>"
                    f"<td>{escape(e.entity_type)}:{escape(e.entity_id)}</td>"
                    f"<td>{e.attempts}/{e.max_attempts}</td><td>in {_age(wait)}</td>"
                    f"<td class=err>{escape((e.last_error or '')[:160])}</td>{button}</tr>")
    act = "<th></th>" if session.can_act else ""
    return ("<section><h2>Delayed retries</h2><table id=delayed><thead><tr><th>id</th>"
            "<th>service</th><th>entity</th><th>attempts</th><th>due</th>"
            f"<th>last error</th>{act}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            "</section>")


class DashboardLogin(DashboardResource):
    path = "/dashboard/login"

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            token = (self.form(req).get("token") or [""])[0].strip()
        except _Refused as refused:
            _refuse(resp, refused.status, refused.message)
            return
        principal = self.api.state.tokens.authenticate(token) if token else None
        if principal is None:
            _page(resp, _login_form("that token is unknown or revoked"), 401, "Sign in")
            return
        if "read" not in principal.scopes:
            _page(resp, _login_form("this token lacks the 'read' scope"), 403, "Sign in")
            return
        resp.set_cookie(COOKIE, token, max_age=SESSION_SECONDS, path="/dashboard",
                        secure=_is_https(req), http_only=True, same_site="Strict")
        resp.status = 303
        resp.location = "/dashboard"


class DashboardLogout(DashboardResource):
    path = "/dashboard/logout"

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        session = self.session(req)
        try:
            form = self.form(req)
        except _Refused as refused:
            _refuse(resp, refused.status, refused.message)
            return
        if session is not None and not _csrf_ok(session, form):
            _refuse(resp, 403, "the form's CSRF token is missing or wrong")
            return
        resp.unset_cookie(COOKIE, path="/dashboard")
        resp.status = 303
        resp.location = "/dashboard"


class DashboardActions(DashboardResource):
    path = "/dashboard/actions"

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        session = self.session(req)
        if session is None:
            _refuse(resp, 401, "sign in first")
            return
        try:
            form = self.form(req)
        except _Refused as refused:
            _refuse(resp, refused.status, refused.message)
            return
        if not _csrf_ok(session, form):
            _refuse(resp, 403, "the form's CSRF token is missing or wrong")
            return
        if not session.can_act:
            _refuse(resp, 403, "this token lacks the 'operator' scope")
            return
        action = _one(form, "action")
        service, error = _one(form, "service") or None, _one(form, "error") or None
        who = Actor(session.principal.token_id, session.principal.name, req.remote_addr,
                    (req.user_agent or "")[:1000] or None, "dashboard")
        state = self.api.state
        try:
            with state.writes:
                count = self._act(action, form, service, error, who)
        except AzoraError as exc:
            if exc.code not in ("validation", "not_found"):
                raise
            body = Dashboard(self.api).render(session, service, error, None,
                                              problem=f"{action or 'action'} refused: {exc}")
            _page(resp, body, 422)
            return
        query = {k: v for k, v in (("service", service), ("error", error)) if v}
        query.update(done=action, count=str(count))
        resp.status = 303
        resp.location = "/dashboard?" + urlencode(query)

    def _act(self, action: str, form: dict[str, list[str]], service: str | None,
             error: str | None, who: Actor) -> int:
        ops = self.api.state.operations
        if action == "retry_matching":
            return ops.retry_matching(service, error, who)
        raw = form.get("ids") or []
        if not all(v.isascii() and v.isdigit() and len(v) <= 18 for v in raw):
            raise ValidationError("ids must be event ids", field="ids", rule="type")
        ids = check_ids([int(v) for v in raw]) if raw else check_ids([])
        if action == "retry":
            return ops.retry(ids, who)
        if action == "discard":
            return ops.discard(ids, _one(form, "reason"), who)
        if action == "run_now":
            return ops.run_now(ids, who)
        raise ValidationError(f"action must be one of {', '.join(ACTIONS)}", field="action",
                              rule="enum")


def _one(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def _csrf_ok(session: Session, form: dict[str, list[str]]) -> bool:
    return hmac.compare_digest(_one(form, "csrf").encode(), session.csrf.encode())


def _is_https(req: falcon.Request) -> bool:
    return req.scheme == "https" or \
        (req.get_header("X-Forwarded-Proto") or "").lower() == "https"


CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{display:flex;gap:1em;align-items:center;padding:.6em 1.2em;background:#1d2330;color:#fff}
header h1{font-size:1.1em;margin:0;flex:1}
main{padding:1em 1.2em;max-width:1200px}
main.login{max-width:520px;margin:4em auto;background:#fff;padding:2em;border-radius:8px}
section{background:#fff;border-radius:8px;padding:.8em 1.2em;margin-bottom:1em}
h2{font-size:1.05em;margin:.2em 0 .6em}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.3em .5em;border-bottom:1px solid #e3e6ea;vertical-align:top}
#counts td,#counts thead th+th{text-align:right}
td.err{font-family:ui-monospace,monospace;font-size:12px;color:#8a1c1c;max-width:420px;
overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.inline{display:inline}
.actions{margin:.6em 0}
button{padding:.3em .8em;border:1px solid #8892a0;border-radius:4px;background:#fff;cursor:pointer}
button.danger{border-color:#b42318;color:#b42318}
.notice{background:#e7f6ec;padding:.5em 1em;border-radius:6px}
.error{background:#fdecea;color:#8a1c1c;padding:.5em 1em;border-radius:6px}
svg{width:100%;max-width:720px;height:auto}
.bar{fill:#2f6fde}.axis{stroke:#8892a0}.label{font-size:11px;fill:#5b6472}
footer{color:#5b6472;font-size:12px}
"""

JS = """
(function(){
  var all=document.getElementById('pick-all');
  if(all){all.addEventListener('change',function(){
    document.querySelectorAll('input.pick').forEach(function(b){b.checked=all.checked;});});}
  document.querySelectorAll('button[data-confirm]').forEach(function(b){
    b.addEventListener('click',function(ev){
      if(b.value==='discard'){var r=document.getElementById('reason');
        if(!r.value.trim()){ev.preventDefault();r.focus();r.placeholder='a reason is required';
          return;}}
      if(!window.confirm(b.getAttribute('data-confirm'))){ev.preventDefault();}});});
})();
"""

DASHBOARD_RESOURCES: tuple[type[DashboardResource], ...] = (
    Dashboard, DashboardLogin, DashboardLogout, DashboardActions)

__all__ = ["COOKIE", "DASHBOARD_RESOURCES", "csrf_for"]
