"""The outbox worker: take a batch, deliver it, settle it, repeat.

Two delivery modes, chosen per handler:

- **In-transaction** (handlers with ``transactional = True``, which write to
  this database): one transaction locks the ready events, runs the handler,
  records ``(handler, event id)`` in ``consumed_events`` and marks the events
  COMPLETED. Effect and completion commit together, so each effect happens
  exactly once; a crash rolls everything back and the events stay PENDING.
- **Leased** (every other handler, or all with ``leased_only``): the events are
  leased to this worker in that same transaction (PENDING -> PROCESSING) and
  delivered after commit, outside any transaction (no database lock is held
  across network I/O). A heartbeat thread renews the lease while handlers run,
  so a slow but live handler is never rescued into a duplicate run; a worker
  that dies releases nothing: its leases expire and any worker's housekeeping
  makes those events claimable again. Delivery is at least once.

Failures go back to PENDING after an exponential delay with jitter; after
``max_attempts`` the event is FAILED (dead letter) with its last error.

Events of a service the router has no handler for are never claimed: they stay
PENDING, untouched, and the worker logs one warning per such service (a missing
``--route`` is a configuration slip, not a delivery failure). Without a ``*``
route the worker claims only the routed services it knows of, re-read from the
status counters at each housekeeping round; asked for ``services`` it has no
handler for, it refuses to start.

SIGTERM / SIGINT: finish the event in hand, settle what was delivered, give
back the rest of the batch at once.

One job, so one module above 450 lines: the worker loop, whose claim,
delivery, heartbeat and settling share one batch's state.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import AzoraError, ConfigurationError
from .handlers import Handler, Router, plugin_handlers
from .outbox import Event, Outbox, backoff_delay

if TYPE_CHECKING:
    from ..store import Store

log = logging.getLogger("azora_store.sync")


@dataclass
class WorkerConfig:
    batch: int = 250  # larger batches amortise commits; per-key order is unaffected
    lease: float = 30.0  # seconds; renewed every lease/3 while handlers run
    backoff_base: float = 1.0  # first retry waits 0.5-1 s, then 1-2 s, 2-4 s, ...
    backoff_cap: float = 3600.0
    idle_min: float = 0.005  # polling interval when the queue is empty grows to idle_max;
    idle_max: float = 0.5  # a commit wakes the worker sooner (backend.outbox_waiter)
    heartbeat: float | None = None  # seconds between lease renewals (default lease/3)
    housekeeping_every: float = 1.0  # fold counters, rescue expired leases, clear hints
    services: tuple[str, ...] = ()  # claim only these services (all when empty)
    leased_only: bool = False  # lease every event, even for transactional handlers
    max_events: int | None = None  # stop after this many claimed events
    exit_when_idle: bool = False  # stop once nothing is claimable


@dataclass
class WorkerStats:
    claimed: int = 0
    completed: int = 0
    retried: int = 0
    dead: int = 0
    released: int = 0
    deferred: int = 0  # given back by a batch handler whose sink was down (no attempt)
    rescued: int = 0
    lost_leases: int = 0
    started: float = field(default_factory=time.monotonic)

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.completed / elapsed if elapsed > 0 else 0.0


class Worker:
    def __init__(self, store: Store, router: Router, config: WorkerConfig | None = None,
                 name: str | None = None):
        self.store = store
        self.db = store.db
        self.outbox: Outbox = store.sync
        self.router = router
        self.config = config or WorkerConfig()
        self.owner = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.stats = WorkerStats()
        self._stopping = threading.Event()
        self._in_flight: set[int] = set()  # leases the heartbeat renews
        self._deferred: list[int] = []  # delivered, completed with the next claim
        # Batches handed to a sink whose acks are still coming (see _land_flights).
        self._flights: collections.deque[tuple[list[Event], Any]] = collections.deque()
        self._lock = threading.Lock()
        self._last_housekeeping = 0.0
        self._completed_recorded = 0  # stats.completed already in sync_throughput
        self._idle = False
        self._leasing = self.config.leased_only
        unrouted = router.unrouted(self.config.services)
        if unrouted:
            raise ConfigurationError(
                f"no sync handler for service(s) {', '.join(unrouted)} given to claim: add "
                f"--route {unrouted[0]}=HANDLER (or a '*' route)")
        # What a claim may take: every service (a '*' route), the services asked
        # for, or the routed services seen so far (None: none yet).
        self._routed: tuple[str, ...] | None = (
            self.config.services or (() if "*" in router.routes else None))
        self._warned: set[str] = set()
        self._known: set[str] = set()
        if self._routed is None:
            self._check_routes()
        self._started: dict[int, Any] = {}  # handlers whose start() ran (close at stop)
        plugin_handlers()  # scan the installed plugins now, not on the first event

    # -- control ---------------------------------------------------------------

    def stop(self, *_: Any) -> None:
        """Ask the worker to stop after the event in hand (signal-handler safe)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(self) -> WorkerStats:
        """Work until stopped (or ``max_events`` / idle, when configured)."""
        log.info("worker %s started (batch %d, lease %.0fs)", self.owner, self.config.batch,
                 self.config.lease)
        beats = threading.Thread(target=self._heartbeat, name="azora-lease-heartbeat",
                                 daemon=True)
        beats.start()
        idle = self.config.idle_min
        waiter = self.store.backend.outbox_waiter()
        self._housekeeping()  # rescue expired leases before the first claim
        chores = threading.Thread(target=self._housekeeper, name="azora-housekeeping",
                                  daemon=True)
        chores.start()
        try:
            gather = self.store.backend.claim_gather
            while not self.stopping:
                taken = self.run_once(settle_later=True)
                # A full batch (of more than one event): a backlog is being drained.
                self.store.backend.outbox_draining(taken >= self.config.batch > 1)
                if taken:
                    idle = self.config.idle_min
                    if self.config.max_events and self.stats.claimed >= self.config.max_events:
                        break
                    if gather and taken < self.config.batch:
                        self._stopping.wait(gather)  # let a busy producer's events gather
                    continue
                if self.config.exit_when_idle and not self._work_left():
                    break
                waiter.wait(idle, self._stopping)  # a commit ends the wait at once
                idle = min(idle * 2, self.config.idle_max)
        finally:
            self._stopping.set()
            self._settle_on_stop()
            waiter.close()
            beats.join(timeout=self.config.lease)
            chores.join(timeout=self.config.lease)
            self._close_handlers()
            with contextlib.suppress(AzoraError):
                self._record_throughput()
            self.db.close()
        log.info("worker %s stopped: %s", self.owner, self.stats)
        return self.stats

    def run_once(self, settle_later: bool = False) -> int:
        """Take one batch and deliver it (the seed's processSync). Returns how many
        events were taken.

        While the recent batches were all for transactional handlers, a batch is
        taken and completed in one transaction (one row write per event). Once a
        batch needs leases, the worker switches to claiming PROCESSING leases
        directly, until a batch without external handlers comes by again.

        ``settle_later`` (the ``run`` loop): leased events delivered from a full
        batch are completed in the transaction that claims the next batch (one
        commit a round instead of two); ``run`` settles any left when it stops."""
        services = self._routed
        if services is None:
            self._settle_deferred()
            return 0  # no service seen so far has a handler
        if self._idle and not self.outbox.any_ready():
            self._settle_deferred()
            return 0  # do not take the write lock just to find nothing
        if self._leasing:
            events = self._settle_and_claim(services)
            groups = self._route(events, taken=False)
            self._leasing = self.config.leased_only or any(
                not handler.transactional for handler, _ in groups)
            defer = settle_later and len(events) >= self.config.batch
            self._deliver_leased_groups(groups, defer)
            self.stats.claimed += len(events)
            landed = self._land_flights(keep=1 if events else 0)
            return len(events) or landed
        self._settle_deferred()
        with self.db.atomic():
            events = self.outbox.take(self.config.batch, services)
            self._idle = not events
            groups = self._route(events, taken=True)
            leased = [(h, batch) for h, batch in groups if not h.transactional]
            for handler, batch in groups:
                if handler.transactional:
                    self._deliver_taken(handler, batch)
            self.outbox.lease_taken(self.owner, [e.id for _, batch in leased for e in batch],
                                    self.config.lease)
        self._leasing = bool(leased)
        self._deliver_leased_groups(leased)
        self.stats.claimed += len(events)
        return len(events)

    def _settle_and_claim(self, services: tuple[str, ...]) -> list[Event]:
        """Complete the deliveries deferred from the last round and claim the next
        batch, in one bookkeeping transaction. (A crash before its commit leaves
        both leased: the delivered events come again once their lease expires,
        which at-least-once delivery allows.)"""
        with self.store.backend.outbox_bookkeeping():
            self._complete_deferred()
            events = self.outbox.claim(self.owner, self.config.batch, self.config.lease,
                                       services)
        self._idle = not events
        return events

    def _settle_on_stop(self) -> None:
        try:
            self._settle_deferred()
        except AzoraError as exc:
            log.warning("could not complete delivered events on stop (they are delivered "
                        "again once their leases expire): %s", exc)

    def _settle_deferred(self) -> None:
        """Complete the leased events delivered but not yet marked COMPLETED."""
        self._land_flights(keep=0)
        if self._deferred:
            with self.store.backend.outbox_bookkeeping():
                self._complete_deferred()

    def _complete_deferred(self) -> None:
        if self._deferred:
            done, self._deferred = self._deferred, []
            self._complete(done)

    # -- delivery ----------------------------------------------------------------

    def _route(self, events: list[Event], taken: bool) -> list[tuple[Handler, list[Event]]]:
        """Group events by handler; events no handler takes fail at once."""
        groups: dict[int, tuple[Handler, list[Event]]] = {}
        for event in events:
            try:
                handler = self.router.handler_for(event)
            except AzoraError as exc:
                self._fail(event, exc, taken=taken)
                continue
            groups.setdefault(id(handler), (handler, []))[1].append(event)
        return list(groups.values())

    def _deliver_taken(self, handler: Handler, events: list[Event]) -> None:
        """Inside the batch transaction, the events already marked COMPLETED. Fast
        path: the whole group at once; if a handler fails, redo the group with one
        savepoint per event so only the failing events are put back."""
        try:
            with self.db.atomic():
                self._handle(handler, events)
        except Exception as exc:
            log.info("batch of %d failed as a whole (%s); retrying event by event",
                     len(events), exc)
            done = []
            for event in events:
                try:
                    with self.db.atomic():
                        self._handle(handler, [event])
                except Exception as error:
                    self._fail(event, error, taken=True)
                else:
                    done.append(event)
            events = done
        self.outbox.taken_done([e.id for e in events], [e.ordering_key for e in events])
        self.stats.completed += len(events)

    def _handle(self, handler: Handler, events: list[Event]) -> None:
        """Record the consumer and apply the effect (skipping events it already had)."""
        todo = events
        if getattr(handler, "tracks_consumption", True):
            fresh = self.outbox.consume(handler.name, [e.id for e in events])
            todo = [event for event in events if event.id in fresh]
        handle_batch = getattr(handler, "handle_batch", None)
        if handle_batch is not None:
            handle_batch(todo, self.store)
        else:
            for event in todo:
                handler(event, self.store)

    def _deliver_leased_groups(self, groups: list[tuple[Handler, list[Event]]],
                               defer: bool = False) -> None:
        if not groups:
            return
        ids = [event.id for _, batch in groups for event in batch]
        self._hold(ids)
        try:
            for handler, batch in groups:
                self._deliver_leased(handler, batch, defer)
        finally:
            in_flight = {event.id for events, _ in self._flights for event in events}
            self._let_go(set(ids) - set(self._deferred) - in_flight)

    def _hold(self, ids: list[int]) -> None:
        """From now on the heartbeat renews these leases."""
        with self._lock:
            self._in_flight.update(ids)

    def _let_go(self, ids: Any) -> None:
        """Stop renewing these leases: called *before* a statement settles them,
        so a renewal racing with it never reports a settled lease as lost."""
        with self._lock:
            self._in_flight.difference_update(ids)

    def _deliver_leased(self, handler: Handler, events: list[Event], defer: bool = False
                        ) -> None:
        if handler.transactional:
            self._deliver_leased_in_transaction(handler, events)
            return
        if hasattr(handler, "deliver_batch"):
            self._deliver_leased_batch(handler, events, defer)
            return
        done, untouched = [], []
        for event in events:
            if self.stopping:
                untouched.append(event.id)
                continue
            try:
                handler(event, self.store)
            except Exception as exc:
                self._fail(event, exc, taken=False)
            else:
                done.append(event.id)
        if done and defer and not self.stopping:
            self._deferred.extend(done)  # completed with the next claim
        elif done:
            with self.store.backend.outbox_bookkeeping():
                self._complete(done)
        if untouched:
            self._let_go(untouched)
            self.stats.released += self.outbox.release(self.owner, untouched)

    # -- batch handlers (brokers) -------------------------------------------------

    def _deliver_leased_batch(self, handler: Any, events: list[Event], defer: bool = False
                              ) -> None:
        """A non-transactional batch handler (``deliver_batch(events, store)``)
        answers per event: None (delivered), ``Deferred`` (sink down: released
        with a delay, no attempt spent) or an exception (an attempt spent).

        ``defer`` (a full batch in the ``run`` loop) and a handler with
        ``submit_batch``: the batch is handed over and left in flight; the
        worker claims the next batch while its acks come back, and completes it
        with the claim after (see ``_land_flights``)."""
        if self.stopping:
            ids = [e.id for e in events]
            self._let_go(ids)
            self.stats.released += self.outbox.release(self.owner, ids)
            return
        self._start_handler(handler)
        submit = getattr(handler, "submit_batch", None) if defer else None
        try:
            if submit is not None:
                self._flights.append((events, submit(events, self.store)))
                return
            results = handler.deliver_batch(events, self.store)
        except Exception as exc:  # the handler broke: every event failed once
            results = [exc] * len(events)
        self._settle_batch(events, results, defer)

    def _land_flights(self, keep: int) -> int:
        """Wait for the acks of the oldest batches in flight until ``keep`` are
        left, and settle them; returns how many events landed. Keeping one in
        flight across the next claim overlaps the broker's round trip with the
        database's. Per-key order holds: a claim never takes an event whose key
        has an earlier one unfinished (a batch in flight is PROCESSING), and
        nothing is completed before its ack."""
        landed = 0
        while len(self._flights) > keep:
            events, flight = self._flights.popleft()
            self._settle_batch(events, flight.results(), defer=not self.stopping)
            landed += len(events)
        return landed

    def _settle_batch(self, events: list[Event], results: list[Any], defer: bool = False
                      ) -> None:
        """Complete the delivered events (with the next claim when ``defer``),
        release the deferred ones (grouped by delay and reason), fail the rest."""
        done: list[int] = []
        deferred: dict[tuple[float, str], list[int]] = {}
        for event, result in zip(events, results, strict=True):
            if result is None:
                done.append(event.id)
            elif hasattr(result, "delay") and hasattr(result, "reason"):
                deferred.setdefault((result.delay, result.reason), []).append(event.id)
            else:
                self._fail(event, result, taken=False)
        if done and defer:
            self._deferred.extend(done)  # completed with the next claim
        elif done:
            with self.store.backend.outbox_bookkeeping():
                self._complete(done)
        for (delay, reason), ids in deferred.items():
            self._let_go(ids)
            self.stats.deferred += self.outbox.release(self.owner, ids, delay, reason)

    def _start_handler(self, handler: Any) -> None:
        """Once per handler: ``start(config)`` if it has one (connect, check the
        broker against this worker's lease and backoff); ``close()`` at stop."""
        if id(handler) not in self._started:
            self._started[id(handler)] = handler
            start = getattr(handler, "start", None)
            if start is not None:
                start(self.config)

    def _close_handlers(self) -> None:
        for handler in self._started.values():
            close = getattr(handler, "close", None)
            if close is not None:
                try:
                    close()
                except Exception as exc:  # stopping anyway
                    log.warning("closing handler %s failed: %s", handler.name, exc)
        self._started.clear()

    def _complete(self, done: list[int]) -> None:
        """Mark delivered leased events COMPLETED (in the caller's bookkeeping
        transaction); a lease lost meanwhile is reported (another worker
        delivers that event again)."""
        self._let_go(done)
        completed = self.outbox.complete(self.owner, done)
        self.stats.completed += len(completed)
        lost = set(done) - set(completed)
        if lost:
            self.stats.lost_leases += len(lost)
            log.warning("lost the lease of %d event(s) %s: another worker delivers them",
                        len(lost), sorted(lost)[:10])

    def _deliver_leased_in_transaction(self, handler: Handler, events: list[Event]) -> None:
        """A transactional handler on leases (``leased_only``): effect, consumer record
        and completion commit together, for the events this worker still holds."""
        self._let_go([e.id for e in events])  # the lock taken next protects them
        if self.stopping:
            self.stats.released += self.outbox.release(self.owner, [e.id for e in events])
            return
        with self.db.atomic():
            held = self.outbox.owned(self.owner, [e.id for e in events])
            self.stats.lost_leases += len(events) - len(held)
            mine = [event for event in events if event.id in held]
            try:
                with self.db.atomic():
                    self._handle(handler, mine)
                done = mine
            except Exception as exc:
                log.info("batch of %d failed as a whole (%s); retrying event by event",
                         len(mine), exc)
                done = []
                for event in mine:
                    try:
                        with self.db.atomic():
                            self._handle(handler, [event])
                    except Exception as error:
                        self._fail(event, error, taken=False)
                    else:
                        done.append(event)
            self.stats.completed += len(self.outbox.complete(self.owner, [e.id for e in done]))

    def _fail(self, event: Event, exc: BaseException, taken: bool) -> None:
        delay = backoff_delay(event.attempts, self.config.backoff_base, self.config.backoff_cap)
        error = f"{type(exc).__name__}: {exc}"
        if not taken:
            self._let_go([event.id])
        status = (self.outbox.untake(event, error, delay) if taken
                  else self.outbox.fail(self.owner, event, error, delay))
        if status == "FAILED":
            self.stats.dead += 1
            log.warning("event %d (%s) FAILED after %d attempts: %s", event.id, event.service,
                        event.attempts, exc)
        elif status is None:
            self.stats.lost_leases += 1
        else:
            self.stats.retried += 1
            log.info("event %d (%s) attempt %d failed, retry in %.2fs: %s", event.id,
                     event.service, event.attempts, delay, exc)

    # -- background --------------------------------------------------------------

    def _heartbeat(self) -> None:
        """Renew the leases of the batch in hand every lease/3 seconds."""
        interval = self.config.heartbeat or self.config.lease / 3
        try:
            while not self._stopping.wait(interval):
                self._renew_leases()
        finally:
            self.db.close()

    def _renew_leases(self) -> None:
        """One renewal. A lease the worker let go of meanwhile (completed, failed,
        released) is not lost, so only ids still held after the renewal count."""
        with self._lock:
            ids = sorted(self._in_flight)
        if not ids:
            return
        try:
            held = self.outbox.renew(self.owner, ids, self.config.lease)
        except AzoraError as exc:
            log.warning("lease renewal failed (will retry): %s", exc)
            return
        with self._lock:
            lost = [event_id for event_id in ids
                    if event_id not in held and event_id in self._in_flight]
        if lost:
            log.warning("lost %d lease(s) while handling them: %s", len(lost), lost[:10])

    def _housekeeper(self) -> None:
        """Housekeeping every ``housekeeping_every`` seconds on a thread (and a
        connection) of its own: on Postgres a round costs 5-20 ms, which an
        event arriving meanwhile would otherwise wait out before its claim."""
        interval = max(self.config.housekeeping_every, 0.01)
        try:
            while not self._stopping.wait(interval):
                self._housekeeping()
        finally:
            self.db.close()

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if now - self._last_housekeeping < self.config.housekeeping_every:
            return
        self._last_housekeeping = now
        try:
            self._record_throughput()
            self.outbox.fold()
            self._check_routes()
            with self.store.backend.outbox_bookkeeping():  # a write lock taken promptly
                rescued = self.outbox.rescue()
                swept = self.outbox.sweep_blocked()
            if rescued:
                self.stats.rescued += len(rescued)
                dead = [event_id for event_id, status in rescued if status == "FAILED"]
                log.warning("rescued %d event(s) whose lease expired (%d now FAILED)",
                            len(rescued), len(dead))
                self._idle = False
            if swept:
                self._idle = False
            done = self.store.backend.outbox_maintenance()
            if done:
                log.info(done)
        except AzoraError as exc:
            log.warning("housekeeping failed (will retry): %s", exc)

    def _record_throughput(self) -> None:
        """Add what this worker completed since the last call to the per-minute
        series the dashboard charts."""
        fresh = self.stats.completed - self._completed_recorded
        if fresh:
            self.outbox.throughput.add(fresh)
            self._completed_recorded += fresh

    def _work_left(self) -> bool:
        report = self.outbox.status()
        if self._routed == ():
            counts = report.counts
            return bool(counts["PENDING"] or counts["PROCESSING"])
        return any(counts["PENDING"] or counts["PROCESSING"]
                   for service, counts in report.services.items()
                   if service in (self._routed or ()))

    def _check_routes(self) -> None:
        """Without a '*' route or a list of services: claim only the services seen in
        the status counters that have a handler, and warn once about each other."""
        if self.config.services or "*" in self.router.routes:
            return
        services = self.outbox.status().services
        new = [service for service in services if service not in self._known]
        if not new:
            return
        self._known.update(new)
        for service in self.router.unrouted(new):
            if service not in self._warned:
                self._warned.add(service)
                log.warning("no sync handler for service %r: its events stay PENDING, "
                            "unclaimed (%d now); add --route %s=HANDLER", service,
                            services[service]["PENDING"], service)
        routed = tuple(sorted(s for s in self._known if s not in self._warned))
        self._routed = routed or None
        self._idle = False
