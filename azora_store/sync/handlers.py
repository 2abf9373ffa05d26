"""Sync handlers: what delivering an event to a service means.

Handlers are plugins in the entry-point group ``azora_store.sync_handlers``:
the entry-point name is the handler's name, the value a factory called with
an optional argument string (``webhook:http://host/hook`` passes the URL).
The built-ins ``eventlog``, ``webhook`` and ``noop`` register there too.

A handler that writes to the same database sets ``transactional = True``: the
worker then runs it inside the transaction that completes the event and
records ``(handler, event id)`` in ``consumed_events`` first, so its effect
happens exactly once even when delivery repeats (a handler with no effect
to protect may set ``tracks_consumption = False`` to skip that row). Other handlers are called
outside any transaction (never hold database locks across network I/O):
delivery to them is at least once, and they get the event id to deduplicate.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterable
from importlib import import_module
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ConfigurationError
from ..models.sync import EventLog
from ..support import jsonutil
from ..support.clock import utcnow
from .outbox import Event

if TYPE_CHECKING:
    from ..store import Store

HANDLER_GROUP = "azora_store.sync_handlers"
_BUILT_IN = {
    "eventlog": "azora_store.sync.handlers:EventLogHandler",
    "webhook": "azora_store.sync.handlers:WebhookHandler",
    "noop": "azora_store.sync.handlers:NoopHandler",
    "nats": "azora_store.sync.brokers.nats_sink:NatsSink",
    "rabbitmq": "azora_store.sync.brokers.rabbitmq_sink:RabbitSink",
}
_registered: dict[str, Any] = {}


class Handler(Protocol):
    """Deliver one event; raise to have it retried. A transactional handler may
    also define ``handle_batch(events, store)`` to deliver a whole batch in one
    go (the worker falls back to one call per event if the batch fails)."""

    name: str
    transactional: bool

    def __call__(self, event: Event, store: Store) -> None: ...


class HandlerError(Exception):
    """A delivery failed in a way worth retrying; the message is recorded."""


class EventLogHandler:
    """Writes each event to ``event_log`` (in the worker's transaction)."""

    name = "eventlog"
    transactional = True

    def __init__(self, argument: str | None = None):
        if argument:
            raise ConfigurationError("the eventlog handler takes no argument")

    def __call__(self, event: Event, store: Store) -> None:
        self.handle_batch([event], store)

    COLUMNS = ("event_id", "source", "service", "entity_type", "entity_id", "operation",
               "payload", "created_at")

    def handle_batch(self, events: list[Event], store: Store) -> None:
        """One multi-row INSERT (building it with peewee's insert_many costs ~0.1 ms
        of Python per row, more than the database spends)."""
        if not events:
            return
        row = "(" + ", ".join([store.db.param] * len(self.COLUMNS)) + ")"
        now = store.backend.datetime_param(utcnow())
        params: list[Any] = []
        for e in events:
            params += [e.id, getattr(e, "source", ""), e.service, e.entity_type, e.entity_id,
                       e.operation, jsonutil.dumps(e.payload), now]
        values = ", ".join([row] * len(events))
        store.db.execute_sql(f"INSERT INTO {EventLog._meta.table_name} "
                             f"({', '.join(self.COLUMNS)}) VALUES {values}", params)


class WebhookHandler:
    """POSTs the event as JSON; any 2xx answer is success. The event id travels
    as ``Idempotency-Key`` so the receiver can drop repeats."""

    name = "webhook"
    transactional = False

    def __init__(self, argument: str | None = None, timeout: float = 5.0):
        if not argument or not argument.startswith(("http://", "https://")):
            raise ConfigurationError("the webhook handler needs a URL: "
                                     "--route SERVICE=webhook:http://host:port/path")
        self.url = argument
        self.timeout = timeout

    def __call__(self, event: Event, store: Store) -> None:
        body = jsonutil.dumps(event.to_json()).encode()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Idempotency-Key": str(event.id),
            "User-Agent": "azora-store-sync"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise HandlerError(f"webhook {self.url} answered {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise HandlerError(f"webhook {self.url} unreachable: {exc}") from None
        if not 200 <= status < 300:
            raise HandlerError(f"webhook {self.url} answered {status}")


class NoopHandler:
    """Accepts every event and does nothing (benchmarks, load tests). With the
    argument ``transactional`` it is delivered in-transaction, like a handler
    that writes to this database; otherwise leased, like an external one."""

    name = "noop"

    def __init__(self, argument: str | None = None):
        if argument not in (None, "transactional"):
            raise ConfigurationError("the noop handler takes no argument or 'transactional'")
        self.transactional = argument == "transactional"
        self.tracks_consumption = False  # no effect, nothing to deduplicate

    def __call__(self, event: Event, store: Store) -> None:
        return None


def register_handler(name: str, factory: Any) -> None:
    """Make ``name`` available without packaging (tests, scripts)."""
    _registered[name] = factory


def load_handler(spec: str) -> Handler:
    """Build a handler from ``NAME`` or ``NAME:ARGUMENT``."""
    name, _, argument = spec.partition(":")
    found: dict[str, Any] = dict(_BUILT_IN)
    found.update({entry.name: entry.value for entry in entry_points(group=HANDLER_GROUP)})
    found.update(_registered)
    factory = found.get(name)
    if factory is None:
        raise ConfigurationError(
            f"no sync handler named {name!r}: known are {', '.join(sorted(found))} (plugins "
            f"add more through the '{HANDLER_GROUP}' entry-point group)")
    if isinstance(factory, str):
        module, _, attribute = factory.partition(":")
        try:
            factory = getattr(import_module(module), attribute)
        except (ImportError, AttributeError) as exc:
            raise ConfigurationError(f"sync handler {name!r} failed to load: {exc}") from exc
    handler = factory(argument or None)
    for attribute in ("transactional", "__call__"):
        if not hasattr(handler, attribute):
            raise ConfigurationError(f"sync handler {name!r} has no {attribute}")
    if not getattr(handler, "name", None):
        handler.name = name
    return handler


class Router:
    """Which handler delivers an event: an explicit route for its service, else
    a handler named like the service, else one named like the entity type, else
    the ``*`` route."""

    def __init__(self, routes: dict[str, str] | None = None):
        self.routes = dict(routes or {})
        self._cache: dict[tuple[str, str], Handler] = {}

    @classmethod
    def parse(cls, specs: Iterable[str]) -> Router:
        routes = {}
        for spec in specs:
            service, sep, handler = spec.partition("=")
            if not sep or not service or not handler:
                raise ConfigurationError(
                    f"route {spec!r} should look like SERVICE=HANDLER[:ARGUMENT], "
                    "e.g. search=webhook:http://127.0.0.1:9000/events or '*=eventlog'")
            routes[service.strip()] = handler.strip()
        return cls(routes)

    def handler_for(self, event: Event) -> Handler:
        key = (event.service, event.entity_type)
        handler = self._cache.get(key)
        if handler is None:
            handler = self._cache[key] = self._resolve(event.service, event.entity_type)
        return handler

    def _resolve(self, service: str, entity_type: str) -> Handler:
        if service in self.routes:
            return load_handler(self.routes[service])
        for name in (service, entity_type):
            try:
                return load_handler(name)
            except ConfigurationError:
                continue
        if "*" in self.routes:
            return load_handler(self.routes["*"])
        raise ConfigurationError(
            f"no sync handler for service {service!r} (entity {entity_type!r}): add "
            f"--route {service}=HANDLER, or a plugin named {service!r}")

    def routes_service(self, service: str) -> bool:
        """Whether a worker with these routes delivers ``service``'s events: a
        route for it, a handler named like it, or a ``*`` route. (A handler named
        like an entity type only serves services that pass this test: a worker
        claims nothing of the others.)"""
        if service in self.routes or "*" in self.routes:
            return True
        try:
            load_handler(service)
        except ConfigurationError:
            return False
        return True

    def unrouted(self, services: Iterable[str]) -> list[str]:
        """The services among ``services`` this router has no handler for."""
        return [service for service in services if not self.routes_service(service)]

    def check(self) -> None:
        """Fail fast on a route that names a missing or broken handler."""
        for spec in self.routes.values():
            load_handler(spec)

