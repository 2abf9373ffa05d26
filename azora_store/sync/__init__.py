"""Cross-service synchronisation through a transactional outbox.

    store.sync.enqueue("search", "Job", job.id, "UPDATE", {"title": job.title})
    Worker(store, Router.parse(["search=webhook:http://127.0.0.1:9000/events"])).run()
    store.sync.status()

The seed's names map as: queueSync -> ``Outbox.enqueue``, processSync ->
``Worker.run_once``, syncEntity -> ``Outbox.sync_entity``, getSyncStatus ->
``Outbox.status``, retryFailed -> ``Outbox.retry_failed``.
"""

from .handlers import HandlerError, Router, load_handler, register_handler
from .outbox import Event, Outbox, SyncStatusReport, backoff_delay
from .worker import Worker, WorkerConfig, WorkerStats

__all__ = ["Event", "HandlerError", "Outbox", "Router", "SyncStatusReport", "Worker",
           "WorkerConfig", "WorkerStats", "backoff_delay", "load_handler", "register_handler"]
