"""What both broker sinks share: results, the message shape, a private event
loop, outage bookkeeping and the redelivery gap the broker must deduplicate."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from ...errors import ConfigurationError
from ..outbox import Event

if TYPE_CHECKING:
    from ...store import Store

log = logging.getLogger("azora_store.sync")
T = TypeVar("T")

DEFER_FIRST = 1.0  # seconds a deferred batch waits first, doubling per failed try
DEFER_CAP = 30.0  # ... up to this


@dataclass(frozen=True)
class Deferred:
    """The sink could not take the event now (broker down or refusing): the
    worker gives it back after ``delay`` seconds without spending an attempt."""

    delay: float
    reason: str


#: Per event: None = delivered (acked), Deferred, or the exception of a failed
#: delivery (an attempt spent, retried with backoff, dead-lettered at the end).
Result = None | Deferred | BaseException


class BatchSink:
    """What both sinks share: one event at a time through ``deliver_batch``."""

    def deliver_batch(self, events: Sequence[Event], store: Store) -> list[Result]:
        raise NotImplementedError

    def __call__(self, event: Event, store: Store) -> None:
        """Deliver one event (callers without batch support); raise if not acked."""
        from ..handlers import HandlerError

        result = self.deliver_batch([event], store)[0]
        if isinstance(result, Deferred):
            raise HandlerError(result.reason)
        if result is not None:
            raise result


def max_redelivery_gap(config: Any) -> float:
    """An upper bound on the time between two publishes of one event by workers:
    the lease that must expire when a worker dies after publishing, the
    housekeeping round that rescues it, and the longest retry or deferral delay
    (an ack that timed out is published again after it). The broker's
    duplicate window must cover it to drop every repeat itself."""
    return (getattr(config, "lease", 30.0) + getattr(config, "housekeeping_every", 1.0)
            + max(getattr(config, "backoff_cap", 3600.0), DEFER_CAP))


def identity(source: str, event: Event) -> str:
    """The event's identity across every database: SOURCE:EVENT_ID."""
    return f"{source}:{event.id}"


_text = json.encoder.encode_basestring_ascii  # a JSON string literal (C-accelerated)


def body(source: str, event: Event) -> bytes:
    """The message body: the event as JSON, with its source. Built by hand: the
    payload's JSON text is spliced in as the database returned it and
    ``created_at`` is taken as stored, since decoding and re-encoding them cost
    ~100 us an event, more than the publish itself."""
    created = event.raw_created_at()
    created = created.isoformat() if hasattr(created, "isoformat") else \
        str(created).replace(" ", "T", 1)
    return (f'{{"source":{_text(source)},"id":{int(event.id)},"service":{_text(event.service)},'
            f'"entity_type":{_text(event.entity_type)},"entity_id":{_text(event.entity_id)},'
            f'"operation":{_text(event.operation)},"ordering_key":{_text(event.ordering_key)},'
            f'"created_at":{_text(created)},"payload":{event.payload_json()}}}').encode()


_TOKEN_UNSAFE = re.compile(r"[^A-Za-z0-9_\-:=]")


def token(text: str) -> str:
    """``text`` as one subject / routing-key token (no dots, wildcards, spaces)."""
    return _TOKEN_UNSAFE.sub("_", text) or "_"


def waves(events: Sequence[Event]) -> list[list[int]]:
    """Positions of ``events`` in publish rounds: round n holds the n-th event of
    each ordering key, so two events of one key are never in flight together."""
    rounds: list[list[int]] = []
    seen: dict[str, int] = {}
    for position, event in enumerate(events):
        n = seen.get(event.ordering_key, 0)
        seen[event.ordering_key] = n + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(position)
    return rounds


@dataclass
class BrokerURL:
    """``scheme://[user:password@]host:port[/path]?option=value``: the driver's
    URL plus our options (validated by the sink)."""

    server: str
    path: str
    options: dict[str, str]

    @classmethod
    def parse(cls, raw: str | None, default: str, schemes: tuple[str, ...],
              known: dict[str, str], handler: str) -> BrokerURL:
        raw = raw or default
        parts = urlsplit(raw)
        if parts.scheme not in schemes or not parts.hostname:
            raise ConfigurationError(
                f"the {handler} handler needs a {schemes[0]}:// URL, e.g. "
                f"--route SERVICE={handler}:{default}; got {raw!r}")
        options = dict(parse_qsl(parts.query, keep_blank_values=True))
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise ConfigurationError(
                f"{handler} URL option {unknown[0]!r} is unknown: known are "
                + ", ".join(f"{k} ({v})" for k, v in known.items()))
        server = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        return cls(server, parts.path, options)

    @property
    def redacted(self) -> str:
        parts = urlsplit(self.server)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}"

    def number(self, name: str, default: float, minimum: float, handler: str) -> float:
        raw = self.options.get(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise ConfigurationError(f"{handler} URL option {name} must be a number of at "
                                     f"least {minimum:g}, got {raw!r}")
        return value

    def flag(self, name: str, default: bool, handler: str) -> bool:
        raw = self.options.get(name)
        if raw is None:
            return default
        if raw.lower() in ("1", "true", "yes"):
            return True
        if raw.lower() in ("0", "false", "no"):
            return False
        raise ConfigurationError(f"{handler} URL option {name} must be true or false, "
                                 f"got {raw!r}")


class LoopThread:
    """A private asyncio loop in a daemon thread: the worker stays synchronous,
    the driver's connection (heartbeats, reconnects) lives on between batches."""

    def __init__(self, name: str):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


@dataclass
class Outage:
    """Whether the broker is usable, how long to defer, and one log line per
    new reason (not one per event or per batch)."""

    what: str
    failures: int = 0
    reason: str = ""
    next_try: float = 0.0
    logged_at: float = field(default=0.0)

    def delay(self) -> float:
        return min(DEFER_CAP, DEFER_FIRST * 2 ** max(self.failures - 1, 0))

    def down(self, reason: str) -> Deferred:
        self.failures += 1
        delay = self.delay()
        self.next_try = time.monotonic() + delay
        now = time.monotonic()
        if reason != self.reason or now - self.logged_at > 60:
            log.error("%s: %s; events deferred %.0fs, no attempt spent", self.what, reason,
                      delay)
            self.logged_at = now
        self.reason = reason
        return Deferred(delay, f"{self.what}: {reason}")

    def waiting(self) -> Deferred | None:
        """Deferred while the last failure's delay runs (no connection attempt)."""
        if self.failures and time.monotonic() < self.next_try:
            return Deferred(max(self.next_try - time.monotonic(), 0.1),
                            f"{self.what}: {self.reason}")
        return None

    def up(self) -> None:
        if self.failures:
            log.warning("%s: back after %d failed attempt(s)", self.what, self.failures)
        self.failures, self.reason = 0, ""


@dataclass
class Diagnosis:
    """What ``doctor --route`` prints for one broker route."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def window_check(window: float, gap: float, what: str) -> str | None:
    """A warning when the broker's duplicate window is shorter than the gap."""
    if window >= gap:
        return None
    return (f"{what} duplicate window {window:.0f}s is shorter than the worker's longest "
            f"redelivery gap {gap:.0f}s (lease + housekeeping + max backoff): a repeat after "
            f"that reaches consumers, which drop it by (source, event id)")
