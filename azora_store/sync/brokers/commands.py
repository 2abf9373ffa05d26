"""``azora-store sync consume nats|rabbitmq``: apply a broker's events into a store."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import threading

import click

from ...backends import URL_ENV
from ...support import extras
from ...support.clitools import echo_err

DEFAULT_FROM = {"nats": "nats://127.0.0.1:4222?stream=AZORA&prefix=azora",
                "rabbitmq": "amqp://guest:guest@127.0.0.1:5672/?exchange=azora&queue=azora"}
DRIVER = {"nats": "nats", "rabbitmq": "aio_pika"}


@click.command("consume")
@click.argument("broker", type=click.Choice(["nats", "rabbitmq"]))
@click.option("--from", "source", metavar="URL",
              help="Broker URL with options: nats://HOST:PORT?stream=S&prefix=P, or "
                   "amqp://USER:PASS@HOST:PORT/?exchange=E&queue=Q (defaults: local server, "
                   "stream AZORA / exchange and queue azora).")
@click.option("--into", "--db", "url", envvar=URL_ENV, required=True, metavar="URL",
              help=f"The database the events are applied into (or ${URL_ENV}).")
@click.option("--apply", "handler", default="eventlog", show_default=True, metavar="HANDLER",
              help="Transactional handler that applies each event in the database.")
@click.option("--name", metavar="NAME",
              help="Consumer name in consumed_events (default: consume-BROKER-STREAM/QUEUE).")
@click.option("--batch", type=click.IntRange(1, 10_000), default=500, show_default=True,
              help="Messages applied per transaction.")
@click.option("--idle-exit", type=click.FloatRange(min=0.1), metavar="SECONDS",
              help="Stop after this many seconds with nothing to consume.")
@click.option("--max-events", type=click.IntRange(min=1), help="Stop after this many messages.")
def consume_command(broker: str, source: str | None, url: str, handler: str, name: str | None,
                    batch: int, idle_exit: float | None, max_events: int | None) -> None:
    """Apply a broker's outbox events into another database, exactly once in
    effect (consumed_events), in order per ordering key; until SIGTERM/SIGINT.

    \b
    Example:
      azora-store sync consume nats --into postgresql://postgres@127.0.0.1:5432/central
      azora-store sync consume rabbitmq --from 'amqp://guest:guest@127.0.0.1:5672/?queue=q' \\
          --into sqlite:///replica.db --idle-exit 5
    """
    from ...store import open_store
    from .consumer import Applier, BrokerURL, Limits, consume_nats, consume_rabbitmq

    extras.require(DRIVER[broker], f"azora-store sync consume {broker}")
    source = source or DEFAULT_FROM[broker]
    if name is None:
        parsed = BrokerURL.parse(source, DEFAULT_FROM[broker], ("nats", "tls", "amqp", "amqps"),
                                 {"stream": "", "prefix": "", "exchange": "", "queue": ""},
                                 f"consume {broker}")
        what = parsed.options.get("stream" if broker == "nats" else "queue",
                                  "AZORA" if broker == "nats" else "azora")
        name = f"consume-{broker}-{what}"[:64]
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    with open_store(url) as store:
        applier = Applier(store, name, handler)
        limits = Limits(batch=batch, idle_exit=idle_exit, max_events=max_events,
                        stopping=stop.is_set)
        run = consume_nats if broker == "nats" else consume_rabbitmq
        stats = asyncio.run(run(source, applier, limits))
    echo_err(json.dumps({"consumer": name, **stats.to_json()}))
