"""The other side of the brokers: apply a stream or a queue into a store.

Events are applied exactly once in effect: in one transaction per batch, the
consumer records ``(consumer, source, event id)`` in ``consumed_events``
(skipping events it had), runs a transactional handler on the fresh ones
(``eventlog`` by default: one ``event_log`` row each, with its source) and, for
NATS, stores the stream sequence it reached in ``consumer_positions``. Only
then are the messages acknowledged. A crash before the commit applies nothing
and the messages come again; a crash after it finds them recorded.

Order: NATS is read from the stored sequence onwards, in stream order, so a
restart resumes exactly where the last commit ended. RabbitMQ's one queue with
one consumer delivers in publish order and puts unacked messages back in
place. The worker never has two events of one ordering key unacked at once, so
per-key order holds end to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ...errors import ConfigurationError
from ...support import jsonutil
from ...support.clock import utcnow
from ..handlers import load_handler
from ..outbox import Event
from .common import BrokerURL

if TYPE_CHECKING:
    from ...store import Store

log = logging.getLogger("azora_store.sync.consumer")


class RemoteEvent(Event):
    """An event of another database, as a message brought it."""

    __slots__ = ("source",)


def decode(data: bytes) -> RemoteEvent:
    """A message body (``common.body``) back into an event."""
    raw = jsonutil.loads(data)
    event = RemoteEvent(int(raw["id"]), raw["service"], raw["entity_type"], raw["entity_id"],
                        raw["operation"], raw.get("payload") or {}, 1, 1, raw["ordering_key"],
                        datetime.fromisoformat(raw["created_at"]))
    event.source = str(raw["source"])
    return event


@dataclass
class ConsumerStats:
    received: int = 0
    applied: int = 0
    duplicates: int = 0
    batches: int = 0
    started: float = field(default_factory=time.monotonic)

    def to_json(self) -> dict[str, Any]:
        elapsed = time.monotonic() - self.started
        return {"received": self.received, "applied": self.applied,
                "duplicates": self.duplicates, "batches": self.batches,
                "events_per_second": round(self.received / elapsed, 1) if elapsed else 0.0}


class Applier:
    """Apply batches of remote events into ``store`` exactly once."""

    def __init__(self, store: Store, consumer: str, handler: str = "eventlog"):
        if not consumer or len(consumer) > 64:
            raise ConfigurationError("the consumer name must be 1 to 64 characters")
        self.store = store
        self.consumer = consumer
        self.handler = load_handler(handler)
        if not self.handler.transactional:
            raise ConfigurationError(
                f"--apply {handler}: a consumer applies events in its database's transaction; "
                "name a transactional handler (e.g. eventlog)")
        self.stats = ConsumerStats()
        p = store.db.param
        self._position_sql = "SELECT position FROM consumer_positions WHERE consumer = " + p
        self._save_sql = (
            f"INSERT INTO consumer_positions (consumer, position, saved_at) VALUES ({p}, {p}, "
            f"{p}) ON CONFLICT (consumer) DO UPDATE SET position = excluded.position, "
            "saved_at = excluded.saved_at")

    def position(self) -> int:
        """The stream position the last committed batch reached (0: none)."""
        rows = self.store.db.execute_sql(self._position_sql, (self.consumer,)).fetchall()
        return int(rows[0][0]) if rows else 0

    def apply(self, events: Sequence[RemoteEvent], position: int | None = None) -> int:
        """One transaction: record, apply the fresh events in order, save the
        position. Returns how many were applied (the rest were repeats)."""
        self.stats.received += len(events)
        self.stats.batches += 1
        with self.store.atomic():
            fresh: set[tuple[str, int]] = set()
            by_source: dict[str, list[int]] = {}
            for event in events:
                by_source.setdefault(event.source, []).append(event.id)
            for source, ids in by_source.items():
                fresh.update((source, event_id) for event_id in
                             self.store.sync.consume_from(self.consumer, source, ids))
            todo = []
            for event in events:
                key = (event.source, event.id)
                if key in fresh:
                    fresh.discard(key)  # a repeat inside the batch is applied once
                    todo.append(event)
            if todo:
                handle_batch = getattr(self.handler, "handle_batch", None)
                if handle_batch is not None:
                    handle_batch(todo, self.store)
                else:
                    for event in todo:
                        self.handler(event, self.store)
            if position is not None:
                self.store.db.execute_sql(self._save_sql, (
                    self.consumer, position, self.store.backend.datetime_param(utcnow())))
        self.stats.applied += len(todo)
        self.stats.duplicates += len(events) - len(todo)
        return len(todo)


@dataclass
class Limits:
    """When a consume run stops (besides SIGTERM / SIGINT)."""

    batch: int = 500
    idle_exit: float | None = None  # seconds with nothing to consume
    max_events: int | None = None
    stopping: Callable[[], bool] = lambda: False

    def done(self, stats: ConsumerStats, idle_since: float) -> bool:
        if self.stopping():
            return True
        if self.max_events is not None and stats.received >= self.max_events:
            return True
        return self.idle_exit is not None and time.monotonic() - idle_since >= self.idle_exit


NATS_OPTIONS = {"stream": "stream name, default AZORA", "prefix": "subject prefix, default azora"}
RABBIT_OPTIONS = {"exchange": "topic exchange to bind, default azora",
                  "queue": "durable queue to read, default azora"}


async def consume_nats(url: str, applier: Applier, limits: Limits) -> ConsumerStats:
    """Read a JetStream stream from the stored position on, in order. Reconnects
    (from the stored position) whenever the connection or consumer breaks."""
    import nats
    from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

    parsed = BrokerURL.parse(url, "nats://127.0.0.1:4222", ("nats", "tls"), NATS_OPTIONS,
                             "consume nats")
    stream = parsed.options.get("stream", "AZORA")
    prefix = parsed.options.get("prefix", "azora")
    idle_since = time.monotonic()
    retry = 0.5
    while not limits.done(applier.stats, idle_since):
        nc = None
        try:
            nc = await asyncio.wait_for(nats.connect(
                servers=[parsed.server], connect_timeout=2, max_reconnect_attempts=3,
                reconnect_time_wait=0.5, error_cb=_quiet), timeout=5)
            js = nc.jetstream(timeout=5)
            start = applier.position() + 1
            config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                                    opt_start_seq=start, ack_policy=AckPolicy.ALL,
                                    inactive_threshold=120.0, max_ack_pending=limits.batch * 4)
            subscription = await js.pull_subscribe(f"{prefix}.>", stream=stream, config=config)
            retry = 0.5
            while not limits.done(applier.stats, idle_since):
                try:
                    messages = await subscription.fetch(limits.batch, timeout=0.5)
                except TimeoutError:
                    continue
                reached = applier.position()
                fresh = [m for m in messages if m.metadata.sequence.stream > reached]
                if fresh:
                    applier.apply([decode(m.data) for m in fresh],
                                  position=fresh[-1].metadata.sequence.stream)
                    idle_since = time.monotonic()
                await messages[-1].ack()
        except Exception as exc:
            if limits.done(applier.stats, idle_since):
                break
            log.error("consume nats %s stream %s: %s; reconnecting in %.1fs",
                      parsed.redacted, stream, _describe(exc), retry)
            await asyncio.sleep(retry)
            retry = min(retry * 2, 10.0)
        finally:
            if nc is not None:
                with contextlib.suppress(Exception):
                    await nc.close()
    return applier.stats


async def consume_rabbitmq(url: str, applier: Applier, limits: Limits) -> ConsumerStats:
    """Read one durable queue (bound to the exchange with '#'), one batch per
    transaction, acknowledging the batch after its commit."""
    import aio_pika

    parsed = BrokerURL.parse(url, "amqp://guest:guest@127.0.0.1:5672/", ("amqp", "amqps"),
                             RABBIT_OPTIONS, "consume rabbitmq")
    exchange_name = parsed.options.get("exchange", "azora")
    queue_name = parsed.options.get("queue", "azora")
    idle_since = time.monotonic()
    retry = 0.5
    while not limits.done(applier.stats, idle_since):
        connection = None
        try:
            connection = await aio_pika.connect(
                parsed.server + (parsed.path or "/"), timeout=5,
                client_properties={"connection_name": f"azora-store consume {applier.consumer}"})
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=limits.batch * 2)
            exchange = await channel.declare_exchange(exchange_name, aio_pika.ExchangeType.TOPIC,
                                                      durable=True)
            queue = await channel.declare_queue(queue_name, durable=True)
            await queue.bind(exchange, routing_key="#")
            inbox: asyncio.Queue = asyncio.Queue()
            tag = await queue.consume(inbox.put, no_ack=False)
            retry = 0.5
            while not limits.done(applier.stats, idle_since):
                try:
                    first = await asyncio.wait_for(inbox.get(), timeout=0.5)
                except TimeoutError:
                    if connection.is_closed:
                        raise ConnectionError("connection closed") from None
                    continue
                messages = [first]
                while len(messages) < limits.batch and not inbox.empty():
                    messages.append(inbox.get_nowait())
                applier.apply([decode(m.body) for m in messages])
                idle_since = time.monotonic()
                await messages[-1].ack(multiple=True)
            await queue.cancel(tag)
        except Exception as exc:
            if limits.done(applier.stats, idle_since):
                break
            log.error("consume rabbitmq %s queue %s: %s; reconnecting in %.1fs",
                      parsed.redacted, queue_name, _describe(exc), retry)
            await asyncio.sleep(retry)
            retry = min(retry * 2, 10.0)
        finally:
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close()
    return applier.stats


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _quiet(_exc: Exception) -> None:
    pass


__all__ = ["Applier", "ConsumerStats", "Limits", "RemoteEvent", "consume_nats",
           "consume_rabbitmq", "decode"]
