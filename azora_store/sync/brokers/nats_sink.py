"""The ``nats`` sync handler: publish outbox events to NATS JetStream.

    --route notifications=nats:nats://127.0.0.1:4222?stream=AZORA&prefix=azora

Subject: ``PREFIX.SERVICE.ENTITY_TYPE.ORDERING_KEY`` (each part made a safe
token). ``Nats-Msg-Id`` is SOURCE:EVENT_ID, so a publish repeated within the
stream's duplicate window is dropped by the server (its PubAck says
``duplicate``, which counts as delivered). An event is delivered only once
its PubAck arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...errors import ConfigurationError
from ...support import extras
from ..outbox import Event
from .common import (
    BatchSink,
    BrokerURL,
    Deferred,
    Diagnosis,
    LoopThread,
    Outage,
    Result,
    body,
    identity,
    max_redelivery_gap,
    token,
    waves,
    window_check,
)

if TYPE_CHECKING:
    from ...store import Store

DEFAULT_URL = "nats://127.0.0.1:4222"
OPTIONS = {"stream": "stream name, default AZORA", "prefix": "subject prefix, default azora",
           "create": "create the stream if missing, default true",
           "duplicate_window": "seconds; set on the stream (default: the worker's gap)",
           "timeout": "seconds to wait for acks, default 5"}
MIN_WINDOW = 120.0  # NATS's own default


class NatsSink(BatchSink):
    name = "nats"
    transactional = False
    tracks_consumption = False  # the broker and the consumer deduplicate

    def __init__(self, argument: str | None = None):
        self.url = BrokerURL.parse(argument, DEFAULT_URL, ("nats", "tls"), OPTIONS, "nats")
        self.stream = self.url.options.get("stream", "AZORA")
        self.prefix = self.url.options.get("prefix", "azora")
        for what, value in (("stream", self.stream), ("prefix", self.prefix)):
            if not value or token(value) != value:
                raise ConfigurationError(f"nats URL option {what} must be letters, digits, "
                                         f"'_' or '-', got {value!r}")
        self.create = self.url.flag("create", True, "nats")
        self.window = self.url.number("duplicate_window", 0, 1, "nats") or None
        self.timeout = self.url.number("timeout", 5.0, 0.1, "nats")
        extras.check(("nats",), "the nats sync handler")
        self.gap = max_redelivery_gap(None)
        self.outage = Outage(f"nats {self.url.redacted} stream {self.stream}")
        self._loop: LoopThread | None = None
        self._nc: Any = None
        self._js: Any = None
        self._ready = False
        self.window_warning: str | None = None

    def subject(self, event: Event) -> str:
        return (f"{self.prefix}.{token(event.service)}.{token(event.entity_type)}."
                f"{token(event.ordering_key)}")

    # -- worker interface ---------------------------------------------------------

    def start(self, config: Any) -> None:
        """Called by the worker before the first batch: learn its redelivery gap,
        connect, create or check the stream (a failure is logged once and the
        first batch is deferred; the worker keeps running)."""
        self.gap = max_redelivery_gap(config)
        self._ensure_loop()
        try:
            self._loop.run(self._prepare(), timeout=15)
        except Exception as exc:
            self._ready = False
            self.outage.down(describe(exc))

    async def _prepare(self) -> None:
        await self._connect()
        await self._ensure_stream()

    def close(self) -> None:
        if self._loop is not None:
            if self._nc is not None:
                with contextlib.suppress(Exception):  # a broken connection: nothing to save
                    self._loop.run(self._nc.close(), timeout=5)
            self._loop.close()
            self._loop = self._nc = self._js = None

    def deliver_batch(self, events: Sequence[Event], store: Store) -> list[Result]:
        waiting = self.outage.waiting()
        if waiting is not None:
            return [waiting] * len(events)
        source = store.backend.source_identity()
        try:
            self._ensure_loop()
            results = self._loop.run(self._publish(events, source),
                                     timeout=self.timeout * (len(waves(events)) + 1) + 10)
        except Exception as exc:
            self._ready = False
            return [self.outage.down(describe(exc))] * len(events)
        deferred = [r for r in results if isinstance(r, Deferred)]
        if not deferred:
            self.outage.up()
        return results

    # -- inside the loop ----------------------------------------------------------

    def _ensure_loop(self) -> None:
        if self._loop is None:
            self._loop = LoopThread("azora-nats")

    async def _connect(self) -> None:
        import nats

        if self._nc is not None and not self._nc.is_closed:
            if self._nc.is_connected:
                return
            raise ConnectionError("not connected (reconnecting)")
        self._nc = None
        self._nc = await asyncio.wait_for(nats.connect(
            servers=[self.url.server], connect_timeout=1, allow_reconnect=True,
            max_reconnect_attempts=-1, reconnect_time_wait=0.5, name="azora-store sync",
            error_cb=_quiet, disconnected_cb=_quiet_cb, reconnected_cb=_quiet_cb,
            closed_cb=_quiet_cb), timeout=2)
        self._js = self._nc.jetstream(timeout=self.timeout)
        self._ready = False

    async def _ensure_stream(self) -> None:
        """Create the stream, or check the one there; say once if its duplicate
        window is shorter than the worker's redelivery gap."""
        from nats.js.errors import NotFoundError

        if self._ready:
            return
        wanted = self.window or max(MIN_WINDOW, self.gap)
        try:
            info = await self._js.stream_info(self.stream)
        except NotFoundError:
            if not self.create:
                raise StreamMissing(f"stream {self.stream} does not exist (create it with "
                                    f"subjects {self.prefix}.>, or drop create=false)") from None
            info = await self._js.add_stream(name=self.stream, subjects=[f"{self.prefix}.>"],
                                             duplicate_window=wanted)
        if self.window is not None and info.config.duplicate_window != self.window:
            info.config.duplicate_window = self.window
            info = await self._js.update_stream(info.config)
        warning = window_check(info.config.duplicate_window or MIN_WINDOW, self.gap,
                               f"nats stream {self.stream}")
        if warning and warning != self.window_warning:
            from .common import log

            log.warning(warning + "; set ?duplicate_window= on the route to change it")
        self.window_warning = warning
        self._ready = True

    async def _publish(self, events: Sequence[Event], source: str) -> list[Result]:
        from nats.js.errors import NoStreamResponseError

        await self._prepare()
        results: list[Result] = [None] * len(events)
        stopped: set[str] = set()  # keys with an event not acked: later ones wait
        for wave in waves(events):
            futures: dict[int, asyncio.Future] = {}
            for position in wave:
                event = events[position]
                if event.ordering_key in stopped:
                    results[position] = Deferred(0.0, "an earlier event of its key failed")
                    continue
                futures[position] = await self._js.publish_async(
                    self.subject(event), body(source, event),
                    headers={"Nats-Msg-Id": identity(source, event)})
            if futures:
                _, pending = await asyncio.wait(futures.values(), timeout=self.timeout)
                for future in pending:
                    future.cancel()  # frees its slot; a late ack is a duplicate later
            down: dict[str, Deferred] = {}  # one outage per reason and round, not per event
            for position, future in futures.items():
                if future.cancelled():
                    reason = f"no ack within {self.timeout:g}s (broker slow or unreachable)"
                    results[position] = down.get(reason) or down.setdefault(
                        reason, self.outage.down(reason))
                elif isinstance(future.exception(), NoStreamResponseError):
                    self._ready = False
                    reason = (f"no stream takes subjects {self.prefix}.> (stream deleted or "
                              "its subjects changed)")
                    results[position] = down.get(reason) or down.setdefault(
                        reason, self.outage.down(reason))
                elif future.exception() is not None:
                    results[position] = future.exception()
                if results[position] is not None:
                    stopped.add(events[position].ordering_key)
        return results

    # -- doctor -------------------------------------------------------------------

    def diagnose(self, config: Any) -> Diagnosis:
        """Reachable? Stream present? Duplicate window vs the worker's gap?"""
        report = Diagnosis([("server", self.url.redacted), ("stream", self.stream),
                            ("subjects", f"{self.prefix}.SERVICE.ENTITY_TYPE.KEY")])
        gap = max_redelivery_gap(config)
        report.rows.append(("redelivery gap", f"{gap:.0f}s (lease + housekeeping + max backoff)"))
        self._ensure_loop()
        try:
            info = self._loop.run(self._stream_info(), timeout=10)
        except Exception as exc:
            report.rows.append(("reachable", "no"))
            report.problems.append(f"nats {self.url.redacted}: {describe(exc)}")
            return report
        finally:
            self.close()
        report.rows.append(("reachable", "yes"))
        if info is None:
            report.rows.append(("stream present", "no"))
            (report.warnings if self.create else report.problems).append(
                f"nats stream {self.stream} does not exist"
                + (" (the worker creates it at start)" if self.create else ""))
            return report
        window = info.config.duplicate_window or MIN_WINDOW
        report.rows += [("stream present", f"yes ({info.state.messages:,} messages)"),
                        ("duplicate window", f"{window:.0f}s")]
        warning = window_check(window, gap, f"nats stream {self.stream}")
        if warning:
            report.warnings.append(warning)
        return report

    async def _stream_info(self) -> Any:
        from nats.js.errors import NotFoundError

        await self._connect()
        try:
            return await self._js.stream_info(self.stream)
        except NotFoundError:
            return None


class StreamMissing(Exception):
    pass


def describe(exc: BaseException) -> str:
    """One line for a driver error (nats-py's messages are often empty)."""
    text = str(exc).strip()
    name = type(exc).__name__
    if isinstance(exc, TimeoutError):
        return "unreachable or not answering (timed out)"
    if name in ("NoServersError", "ConnectionRefusedError") or isinstance(exc, OSError):
        return f"unreachable ({text or name})"
    if "Authorization" in text or "authorization" in text:
        return f"refused the connection: {text}"
    return f"{name}: {text}" if text else name


async def _quiet(_exc: Exception) -> None:
    """nats-py prints reconnect errors itself unless given a callback; the sink
    reports outages once through its own log line."""


async def _quiet_cb() -> None:
    pass


__all__ = ["NatsSink"]
