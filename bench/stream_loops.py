"""The alternatives bench/stream.py compares the worker with, as child processes.

    python -m bench.stream_loops kafka-python|quix --bootstrap H:P --group G \\
        --raw T --enriched T --duplicates T --deadletter T

Both run the same pipeline functions the worker runs (``clean_stage`` with the
learned-boilerplate state, ``dedup_stage`` on a dict-backed ``DedupIndex``,
``enrich_stage``, through ``InProcessPipeline.run``) in one process, one message
at a time, and publish the same records with the same keys as the worker:
EnrichedArticle and DuplicateNotice keyed by article_id, DeadLetter keyed by the
input's key. What differs is only the stream machinery around them:

- ``kafka-python``: a plain consume/produce loop, auto-committing offsets
  (at-least-once; the dedup state is in memory and lost on restart);
- ``quix``: a Quix Streams (librdkafka) application, one StreamingDataFrame
  whose ``to_topic`` picks the output topic per record (at-least-once, its
  default; no state store, since the dedup state is the same plain dict).

Each prints "ready" on stdout once its models are loaded and it subscribed.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import orjson

from worker.pipeline.enrich import warm_up
from worker.pipeline.flow import InProcessPipeline, route_of
from worker.pipeline.records import DeadLetter, DuplicateNotice, EnrichedArticle, Origin
from worker.schemas import validator
from worker.settings import Settings
from worker.topics import deadletter_limit, raw_limit

Output = tuple[str, bytes | None, bytes]  # route, key, value


def make_processor(settings: Settings) -> Callable[[bytes, Origin], Output]:
    config = settings.pipeline_config()
    warm_up(config.enrich)
    pipeline = InProcessPipeline(validator("raw"), config)
    max_original = raw_limit(settings.max_message_bytes)

    def process(value: bytes, origin: Origin) -> Output:
        record = pipeline.run(value, origin)
        route = route_of(record)
        if isinstance(record, DeadLetter):
            return route, record.origin.key, orjson.dumps(record.to_dict(max_original))
        if isinstance(record, EnrichedArticle | DuplicateNotice):
            return route, record.article_id.encode(), orjson.dumps(record.to_dict())
        raise TypeError(f"unexpected record {type(record).__name__}")

    return process


def run_kafka_python(args: argparse.Namespace, outputs: dict[str, str]) -> None:
    from kafka import KafkaConsumer, KafkaProducer

    settings = Settings()
    limit = deadletter_limit(settings.max_message_bytes)
    process = make_processor(settings)
    consumer = KafkaConsumer(
        args.raw, bootstrap_servers=args.bootstrap, group_id=args.group,
        auto_offset_reset="earliest", enable_auto_commit=True,
        max_partition_fetch_bytes=limit, fetch_max_bytes=max(64 << 20, limit),
        # One article takes tens of milliseconds: a small poll keeps the
        # consumer inside max.poll.interval.ms on any page.
        max_poll_records=16,
    )
    producer = KafkaProducer(
        bootstrap_servers=args.bootstrap, acks="all", linger_ms=5, max_request_size=limit,
    )
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)
    try:
        while not stopping:
            for tp, records in consumer.poll(timeout_ms=200).items():
                for m in records:
                    route, key, value = process(m.value, Origin(tp.topic, tp.partition, m.offset,
                                                                m.key))
                    producer.send(outputs[route], key=key, value=value)
    finally:
        producer.flush()
        producer.close()
        consumer.close()


def run_quix(args: argparse.Namespace, outputs: dict[str, str]) -> None:
    from quixstreams import Application, message_context
    from quixstreams.models.serializers import SerializationContext, Serializer

    class Payload(Serializer):
        """The value is the (route, key, bytes) triple; only the bytes go out."""

        def __call__(self, value: Any, ctx: SerializationContext) -> bytes:
            payload: bytes = value[2]
            return payload

    settings = Settings()
    limit = deadletter_limit(settings.max_message_bytes)
    process = make_processor(settings)
    app = Application(
        broker_address=",".join(args.bootstrap), consumer_group=args.group,
        auto_offset_reset="earliest", loglevel="WARNING",
        consumer_extra_config={"fetch.message.max.bytes": limit},
        producer_extra_config={"message.max.bytes": limit, "acks": "all", "linger.ms": 5},
        # Nothing is stateful: no changelog topics, no state directory in use.
        use_changelog_topics=False,
        # Keep the buffer of fetched messages small: pages are large.
        max_partition_buffer_size=100,
    )
    raw = app.topic(args.raw, key_deserializer="bytes", value_deserializer="bytes")
    out = {
        route: app.topic(name, key_serializer="bytes", value_serializer=Payload())
        for route, name in outputs.items()
    }

    def step(value: bytes, key: bytes | None, timestamp: int, headers: Any) -> Output:
        ctx = message_context()
        return process(value, Origin(ctx.topic, ctx.partition, ctx.offset, key))

    sdf = app.dataframe(raw)
    sdf = sdf.apply(step, metadata=True)
    sdf.to_topic(lambda value, key, ts, headers: out[value[0]], key=lambda value: value[1])
    print("ready", flush=True)
    app.run()  # stops cleanly on SIGTERM/SIGINT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stream_loops")
    parser.add_argument("kind", choices=["kafka-python", "quix"])
    parser.add_argument("--bootstrap", required=True, type=lambda s: s.split(","))
    parser.add_argument("--group", required=True)
    parser.add_argument("--raw", required=True)
    for route in ("enriched", "duplicates", "deadletter"):
        parser.add_argument(f"--{route}", required=True)
    args = parser.parse_args(argv)
    outputs = {"enriched": args.enriched, "duplicates": args.duplicates,
               "deadletter": args.deadletter}
    if args.kind == "quix":
        run_quix(args, outputs)
    else:
        run_kafka_python(args, outputs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
