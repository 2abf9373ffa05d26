"""Running work on a background thread and waiting for it without losing a failure.

peewee's connections are per thread, so the work's thread closes its own
(``then``) before the caller waits on it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any


def in_background(work: Callable[[], None], then: Callable[[], Any]) -> Callable[[], None]:
    """Run ``work`` and then ``then`` (e.g. closing the thread's connection:
    peewee's are per thread) on a thread; return the wait for it, which
    re-raises what ``work`` raised."""
    failures: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # handed to the thread that waits
            failures.append(exc)
        finally:
            try:
                then()
            except BaseException as exc:
                failures.append(exc)

    thread = threading.Thread(target=run, name="azora-background", daemon=True)
    thread.start()

    def wait() -> None:
        thread.join()
        if failures:
            raise failures[0]

    return wait


def wait_after_failure(wait: Callable[[], None]) -> None:
    """Wait for a background task while handling another failure: its own
    failure must not hide the one being raised."""
    with contextlib.suppress(BaseException):  # the caller re-raises the first failure
        wait()
