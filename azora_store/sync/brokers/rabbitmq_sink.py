"""The ``rabbitmq`` sync handler: publish outbox events to a RabbitMQ exchange.

    --route notifications=rabbitmq:amqp://guest:guest@127.0.0.1:5672/?exchange=azora

Messages are persistent, published with confirms and ``mandatory``: an
unroutable message comes back and counts as a failed attempt (retried with
backoff, dead-lettered at the end), a nack too. ``message_id`` is
SOURCE:EVENT_ID; RabbitMQ does not deduplicate, so consumers drop repeats by
it (``azora-store sync consume rabbitmq`` does, through ``consumed_events``).
Routing key: ``SERVICE.ENTITY_TYPE``; the ordering key travels as a header.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

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
    token,
    waves,
)

if TYPE_CHECKING:
    from ...store import Store

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/"
OPTIONS = {"exchange": "topic exchange, default azora",
           "declare": "declare the exchange if missing, default true",
           "queue": "also declare this durable queue bound to every event (optional)",
           "timeout": "seconds to wait for confirms, default 5"}
#: How the connections name themselves in RabbitMQ's management tools.
CLIENT = {"connection_name": "azora-store sync"}


class RabbitSink(BatchSink):
    name = "rabbitmq"
    transactional = False
    tracks_consumption = False  # the consumer deduplicates by message_id

    def __init__(self, argument: str | None = None):
        self.url = BrokerURL.parse(argument, DEFAULT_URL, ("amqp", "amqps"), OPTIONS, "rabbitmq")
        self.exchange_name = self.url.options.get("exchange", "azora")
        self.queue = self.url.options.get("queue") or None
        self.declare = self.url.flag("declare", True, "rabbitmq")
        self.timeout = self.url.number("timeout", 5.0, 0.1, "rabbitmq")
        extras.check(("aio_pika",), "the rabbitmq sync handler")
        self.outage = Outage(f"rabbitmq {self.url.redacted} exchange {self.exchange_name}")
        self._loop: LoopThread | None = None
        self._connection: Any = None
        self._exchange: Any = None

    @property
    def amqp_url(self) -> str:
        return self.url.server + (self.url.path or "/")

    def routing_key(self, event: Event) -> str:
        return f"{token(event.service)}.{token(event.entity_type)}"

    # -- worker interface ---------------------------------------------------------

    def start(self, config: Any) -> None:
        """Nothing to check against the worker: RabbitMQ keeps no duplicate window."""

    def close(self) -> None:
        if self._loop is not None:
            if self._connection is not None:
                with contextlib.suppress(Exception):
                    self._loop.run(self._connection.close(), timeout=5)
            self._loop.close()
            self._loop = self._connection = self._exchange = None

    def deliver_batch(self, events: Sequence[Event], store: Store) -> list[Result]:
        waiting = self.outage.waiting()
        if waiting is not None:
            return [waiting] * len(events)
        source = store.backend.source_identity()
        try:
            if self._loop is None:
                self._loop = LoopThread("azora-rabbitmq")
            results = self._loop.run(self._publish(events, source),
                                     timeout=self.timeout * (len(waves(events)) + 1) + 10)
        except Exception as exc:
            self._drop_connection()
            return [self.outage.down(describe(exc))] * len(events)
        if not any(isinstance(r, Deferred) for r in results):
            self.outage.up()
        return results

    def _drop_connection(self) -> None:
        connection, self._connection, self._exchange = self._connection, None, None
        if connection is not None and self._loop is not None:
            with contextlib.suppress(Exception):
                self._loop.run(connection.close(), timeout=2)

    # -- inside the loop ----------------------------------------------------------

    async def _connect(self) -> Any:
        import aio_pika

        if self._exchange is not None and not self._connection.is_closed:
            return self._exchange
        self._connection = await aio_pika.connect(self.amqp_url, timeout=3,
                                                  client_properties=CLIENT)
        channel = await self._connection.channel(publisher_confirms=True,
                                                 on_return_raises=True)
        if self.declare:
            exchange = await channel.declare_exchange(
                self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True)
        else:
            exchange = await channel.get_exchange(self.exchange_name, ensure=True)
        if self.queue:
            queue = await channel.declare_queue(self.queue, durable=True)
            await queue.bind(exchange, routing_key="#")
        self._exchange = exchange
        return exchange

    async def _publish(self, events: Sequence[Event], source: str) -> list[Result]:
        import aio_pika
        from aio_pika.exceptions import DeliveryError

        exchange = await self._connect()
        results: list[Result] = [None] * len(events)
        stopped: set[str] = set()
        timed_out: list[Deferred] = []

        async def one(position: int) -> None:
            event = events[position]
            message = aio_pika.Message(
                body(source, event), message_id=identity(source, event),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                headers={"azora-source": source, "azora-ordering-key": event.ordering_key})
            try:
                await exchange.publish(message, self.routing_key(event), mandatory=True,
                                       timeout=self.timeout)
            except DeliveryError as exc:
                frame = getattr(exc, "frame", None)
                what = type(frame).__name__ if frame is not None else "refused"
                why = (f"unroutable: no queue bound for routing key {self.routing_key(event)}"
                       if what == "Return" else f"not confirmed: {what}")
                results[position] = Unroutable(
                    f"rabbitmq {self.url.redacted} returned event {event.id} ({why}) on "
                    f"exchange {self.exchange_name}")
            except TimeoutError:
                if not timed_out:  # one outage for the batch, not one per event
                    timed_out.append(self.outage.down(
                        f"no confirm within {self.timeout:g}s (broker slow or unreachable)"))
                results[position] = timed_out[0]

        for wave in waves(events):
            todo = []
            for position in wave:
                if events[position].ordering_key in stopped:
                    results[position] = Deferred(0.0, "an earlier event of its key failed")
                else:
                    todo.append(position)
            outcomes = await asyncio.gather(*(one(p) for p in todo), return_exceptions=True)
            broken = next((o for o in outcomes if isinstance(o, BaseException)), None)
            if broken is not None:  # the connection or channel broke: defer what is unsure
                raise broken
            stopped.update(events[p].ordering_key for p in todo if results[p] is not None)
        return results

    # -- doctor -------------------------------------------------------------------

    def diagnose(self, config: Any) -> Diagnosis:
        """Reachable? Exchange (and queue) present? No duplicate window to check."""
        report = Diagnosis([("server", self.url.redacted), ("exchange", self.exchange_name),
                            ("routing keys", "SERVICE.ENTITY_TYPE")])
        self._loop = LoopThread("azora-rabbitmq-doctor")
        try:
            rows, problems = self._loop.run(self._inspect(), timeout=15)
        except Exception as exc:
            report.rows.append(("reachable", "no"))
            report.problems.append(f"rabbitmq {self.url.redacted}: {describe(exc)}")
            return report
        finally:
            self.close()
        report.rows += rows
        report.problems += problems
        report.rows.append(("duplicate window", "none: RabbitMQ does not deduplicate; "
                                                "consumers drop repeats by message_id"))
        return report

    async def _inspect(self) -> tuple[list[tuple[str, str]], list[str]]:
        import aio_pika
        from aio_pika.exceptions import ChannelNotFoundEntity

        self._connection = await aio_pika.connect(self.amqp_url, timeout=3,
                                                  client_properties=CLIENT)
        rows = [("reachable", "yes")]
        problems = []
        channel = await self._connection.channel()
        try:
            await channel.get_exchange(self.exchange_name, ensure=True)
            rows.append(("exchange present", "yes"))
        except ChannelNotFoundEntity:
            rows.append(("exchange present", "no" + (" (the worker declares it)"
                                                     if self.declare else "")))
            if not self.declare:
                problems.append(f"rabbitmq exchange {self.exchange_name} does not exist")
            channel = await self._connection.channel()
        if self.queue:
            try:
                queue = await channel.declare_queue(self.queue, passive=True)
                rows.append(("queue", f"{self.queue} ({queue.declaration_result.message_count:,}"
                                      " messages)"))
            except ChannelNotFoundEntity:
                rows.append(("queue", f"{self.queue} missing (the worker declares it)"))
        return rows, problems


class Unroutable(Exception):
    """The broker returned or nacked the message: a failed attempt."""


def describe(exc: BaseException) -> str:
    """One line for a driver error."""
    name = type(exc).__name__
    text = str(exc).strip()
    if "ACCESS_REFUSED" in text or "Authentication" in name or "authentication" in text:
        return f"refused the login (check user and password): {text or name}"
    if "NOT_FOUND" in text or name == "ChannelNotFoundEntity":
        return f"refused: {text or name} (declare it, or drop declare=false)"
    if isinstance(exc, TimeoutError):
        return "unreachable or not answering (timed out)"
    if isinstance(exc, OSError) or "Connection" in name:
        return f"unreachable ({text or name})"
    return f"{name}: {text}" if text else name


__all__ = ["RabbitSink"]
