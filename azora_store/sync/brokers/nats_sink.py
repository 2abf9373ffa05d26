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
import json
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
    Flight,
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
        self._acks: PubAcks | None = None
        self._ready = False
        self.window_warning: str | None = None
        self._subjects: dict[tuple[str, str], str] = {}  # (service, type) -> "PREFIX.S.T."

    def subject(self, event: Event) -> str:
        """PREFIX.SERVICE.ENTITY_TYPE.KEY; the first three parts are cached per
        (service, entity type), as a backlog has few of them and many keys."""
        kind = (event.service, event.entity_type)
        head = self._subjects.get(kind)
        if head is None:
            if len(self._subjects) > 1024:
                self._subjects.clear()
            head = self._subjects[kind] = (f"{self.prefix}.{token(event.service)}."
                                           f"{token(event.entity_type)}.")
        return head + token(event.ordering_key)

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

    def submit_batch(self, events: Sequence[Event], store: Store) -> Flight:
        """Publish ``events`` on the sink's loop and return at once: the worker
        claims its next batch while the acks come back (``Flight.results()``)."""
        waiting = self.outage.waiting()
        if waiting is not None:
            return Flight.landed([waiting] * len(events))
        source = store.backend.source_identity()
        self._ensure_loop()
        loop = self._loop
        future = loop.submit(self._publish(events, source))
        timeout = self.timeout * (len(waves(events)) + 1) + 10
        return Flight(lambda: self._land(future, timeout, len(events)))

    def _land(self, future: Any, timeout: float, count: int) -> list[Result]:
        try:
            results = LoopThread.wait(future, timeout)
        except Exception as exc:
            self._ready = False
            return [self.outage.down(describe(exc))] * count
        if not any(isinstance(r, Deferred) for r in results):
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
        self._acks = await PubAcks.listen(self._nc)
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
        await self._prepare()
        results: list[Result] = [None] * len(events)
        stopped: set[str] = set()  # keys with an event not acked: later ones wait
        for wave in waves(events):
            sending = []
            for position in wave:
                if events[position].ordering_key in stopped:
                    results[position] = Deferred(0.0, "an earlier event of its key failed")
                else:
                    sending.append(position)
            if not sending:
                continue
            acks = await self._acks.send(self._nc, [(
                position, self.subject(events[position]), identity(source, events[position]),
                body(source, events[position])) for position in sending], self.timeout)
            down: dict[str, Deferred] = {}  # one outage per reason and round, not per event
            for position in sending:
                ack = acks.get(position, _NO_ACK)
                if ack is None:
                    continue
                if ack is _NO_ACK:
                    reason = f"no ack within {self.timeout:g}s (broker slow or unreachable)"
                elif ack is _NO_STREAM:
                    self._ready = False
                    reason = (f"no stream takes subjects {self.prefix}.> (stream deleted or "
                              "its subjects changed)")
                else:
                    results[position] = ack
                    stopped.add(events[position].ordering_key)
                    continue
                results[position] = down.get(reason) or down.setdefault(
                    reason, self.outage.down(reason))
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


_CLIENT_INTERNALS = ("_send_command", "_flush_pending")  # nats-py's own, used by PubAcks.send
_NO_ACK = object()  # no PubAck within the timeout
_NO_STREAM = object()  # "no responders": no stream takes the subject


class PubAcks:
    """JetStream publishes and their PubAcks on one connection, without
    nats-py's ``publish_async`` (a future, a random token, a semaphore and a
    decoded ``PubAck`` per message cost ~40 us an event, most of a worker's
    time). One reply subscription ``INBOX.*``; each publish's reply subject
    ends in a counter; a round's HPUB commands go out as one write (the
    protocol framing is nats-py's own); a round waits on one future."""

    def __init__(self, inbox: str):
        self.inbox = inbox
        self.counter = 0
        self.waiting: dict[str, tuple[dict[int, Any], int]] = {}  # token -> (round, position)
        self.rounds: dict[int, tuple[asyncio.Future, int]] = {}  # id(round) -> (done, left)

    @classmethod
    async def listen(cls, nc: Any) -> PubAcks:
        missing = [name for name in _CLIENT_INTERNALS if not callable(getattr(nc, name, None))]
        if missing:  # a nats-py outside the tested range: say so, don't fail mid-batch
            import nats

            raise ConfigurationError(
                f"the nats sync handler needs nats-py's {', '.join(missing)}, which nats-py "
                f"{getattr(nats, '__version__', '(unknown version)')} lacks: install a tested "
                "one, pip install 'nats-py>=2.16,<3'")
        acks = cls(nc.new_inbox() + ".")
        await nc.subscribe(acks.inbox + "*", cb=acks.on_reply, pending_msgs_limit=-1,
                           pending_bytes_limit=-1)
        return acks

    async def send(self, nc: Any, messages: list[tuple[int, str, str, bytes]],
                   timeout: float) -> dict[int, Any]:
        """Publish (position, subject, msg id, body) messages; wait up to
        ``timeout`` for their acks: position -> None (stored, or a duplicate the
        stream dropped), an APIError, or _NO_STREAM; missing = no ack."""
        if not nc.is_connected:
            raise ConnectionError("not connected (reconnecting)")
        answers: dict[int, Any] = {}
        done = asyncio.get_running_loop().create_future()
        key = id(answers)
        self.rounds[key] = (done, len(messages))
        tokens, commands = [], []
        limit = nc.max_payload
        for position, subject, msg_id, data in messages:
            header = b"NATS/1.0\r\nNats-Msg-Id: " + msg_id.encode() + b"\r\n\r\n"
            if len(header) + len(data) > limit:
                answers[position] = ValueError(f"message of {len(data)} bytes exceeds the "
                                               f"server's max_payload {limit}")
                continue
            self.counter += 1
            reply = str(self.counter)
            tokens.append(reply)
            self.waiting[reply] = (answers, position)
            commands.append(f"HPUB {subject} {self.inbox}{reply} {len(header)} "
                            f"{len(header) + len(data)}\r\n".encode() + header + data + b"\r\n")
        left = len(tokens)
        self.rounds[key] = (done, left)
        try:
            if left:
                await nc._send_command(b"".join(commands))
                await nc._flush_pending()
                await asyncio.wait_for(asyncio.shield(done), timeout)
        except TimeoutError:
            pass  # the missing acks are reported as such
        finally:
            for reply in tokens:  # a late ack is ignored (its repeat is a duplicate)
                self.waiting.pop(reply, None)
            self.rounds.pop(key, None)
        return answers

    async def on_reply(self, msg: Any) -> None:
        entry = self.waiting.pop(msg.subject[len(self.inbox):], None)
        if entry is None:
            return
        answers, position = entry
        data = msg.data
        if msg.headers and msg.headers.get("Status") == "503":
            answers[position] = _NO_STREAM
        elif b'"error"' in data:
            from nats.js.errors import APIError

            answers[position] = APIError.from_error(json.loads(data)["error"])
        else:
            answers[position] = None
        done, left = self.rounds.get(id(answers), (None, 0))
        if done is not None:
            self.rounds[id(answers)] = (done, left - 1)
            if left == 1 and not done.done():
                done.set_result(None)


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
