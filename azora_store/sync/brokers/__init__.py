"""Outbox sinks for real brokers, and the consumer for the other side.

- ``nats`` (``nats_sink.NatsSink``): JetStream, ``Nats-Msg-Id`` = SOURCE:EVENT_ID.
- ``rabbitmq`` (``rabbitmq_sink.RabbitSink``): persistent messages, publisher
  confirms, ``mandatory``; ``message_id`` = SOURCE:EVENT_ID.
- ``consumer``: applies a stream or queue into another store exactly once.

Both sinks are batch handlers (``deliver_batch``): the worker hands them a
leased batch, they publish it asynchronously and wait for every ack, and
answer per event: delivered, failed (an attempt spent) or deferred (the broker
is down or refusing: released with a delay, no attempt spent). Drivers come in
the extras ``[nats]`` and ``[rabbitmq]``; see docs/brokers.md.
"""
