"""End-to-end outbox throughput to real brokers: a backlog of N events, W worker
processes, the clock running until every event is COMPLETED (= acknowledged
by the broker), with the no-op handler's figure measured in the same run.

    python -m azora_store.bench.broker_throughput --db sqlite:///bench.db --events 100000 \\
        --sinks noop nats rabbitmq --workers 1 2 4

Every event has its own ordering key (a backlog of heads: the worker may claim
any of them). Each NATS run publishes into a fresh stream; the stream's
message count must equal N (the server drops repeats by ``Nats-Msg-Id``).
Measure under the machine lock: ``flock /tmp/azora-bench.lock python -m ...``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from dataclasses import asdict, dataclass

from azora_store.bench.sync_throughput import drain_backlog

NATS = "nats://127.0.0.1:4222"
AMQP = "amqp://guest:guest@127.0.0.1:5672/"


@dataclass
class Result:
    backend: str
    sink: str
    workers: int
    events: int
    batch: int
    seconds: float
    events_per_second: float
    in_broker: int | None  # messages the broker holds afterwards (NATS stream / queue)


def routes(tag: str) -> dict[str, str]:
    return {"noop": "noop",
            "nats": f"nats:{NATS}?stream=BENCH{tag}&prefix=bench{tag}",
            "rabbitmq": f"rabbitmq:{AMQP}?exchange=bench{tag}&queue=bench{tag}"}


async def in_broker(sink: str, tag: str) -> int | None:
    """How many messages the broker holds, then remove the stream / queue."""
    if sink == "nats":
        import nats

        nc = await nats.connect(NATS)
        js = nc.jetstream()
        count = (await js.stream_info(f"BENCH{tag}")).state.messages
        await js.delete_stream(f"BENCH{tag}")
        await nc.close()
        return count
    if sink == "rabbitmq":
        import aio_pika

        connection = await aio_pika.connect(AMQP)
        channel = await connection.channel()
        queue = await channel.declare_queue(f"bench{tag}", durable=True, passive=True)
        count = queue.declaration_result.message_count
        await channel.queue_delete(f"bench{tag}")
        await channel.exchange_delete(f"bench{tag}")
        await connection.close()
        return count
    return None


def measure(url: str, sink: str, workers: int, events: int, batch: int) -> Result:
    tag = uuid.uuid4().hex[:8]
    backend, seconds, _ = drain_backlog(url, routes(tag)[sink], workers, events, batch)
    held = asyncio.run(in_broker(sink, tag))
    return Result(backend, sink, workers, events, batch, round(seconds, 3),
                  round(events / seconds), held)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, nargs="+")
    parser.add_argument("--sinks", nargs="+", default=["noop", "nats", "rabbitmq"],
                        choices=["noop", "nats", "rabbitmq"])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    results = []
    for url in args.db:
        for sink in args.sinks:
            for workers in args.workers:
                result = measure(url, sink, workers, args.events, args.batch)
                results.append(asdict(result))
                print(json.dumps(asdict(result)), flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
