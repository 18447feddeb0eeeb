"""The ``newswire`` command."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from typing import Any

import orjson

from worker.inputs import InputError, iter_inputs
from worker.security import KafkaLoginError, check_login, client_options
from worker.settings import Settings

EPILOG_SETTINGS = "\n".join(
    f"  {name:<28} {meaning} (default: {default})" for name, default, meaning in Settings.describe()
)


# Distinct from 1 (failure) and 2 (usage), so supervisors can tell "fix the
# credentials" from "restart me".
EXIT_LOGIN_REFUSED = 3


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:
        raise SystemExit(f"newswire: bad configuration: {exc}") from None


# --- process ---------------------------------------------------------------


def cmd_process(args: argparse.Namespace) -> int:
    from worker.pipeline.flow import InProcessPipeline, route_of
    from worker.pipeline.records import Origin
    from worker.schemas import validator

    settings = _settings()
    pipeline = InProcessPipeline(validator("raw"), settings.pipeline_config())
    out = sys.stdout.buffer
    count = 0
    try:
        for item in iter_inputs(args.paths):
            record = pipeline.run(item.value, Origin(key=item.key), stop_after=args.stage)
            route = route_of(record)
            # A unique article (or revision) is bound for articles.enriched; that is
            # the decision a reader of `--stage dedup` wants to see, not the
            # internal hop the worker takes on the way.
            line = {
                "input": item.label,
                "topic": settings.topic_for_route("enriched" if route == "unique" else route),
                "value": record.to_dict(),
            }
            out.write(orjson.dumps(line) + b"\n")
            count += 1
    except InputError as exc:
        print(f"newswire process: {exc}", file=sys.stderr)
        return 2
    out.flush()
    if count == 0:
        print("newswire process: no input files found", file=sys.stderr)
        return 1
    return 0


# --- worker ----------------------------------------------------------------


def cmd_worker(args: argparse.Namespace) -> int:
    import faust

    from worker.app import create_app
    from worker.logs import logging_config
    from worker.topics import ensure_topics

    settings = _settings()
    logging.basicConfig(level=settings.log_level.upper())
    from worker.offload import warm_up

    ensure_topics(settings, timeout_s=args.connect_timeout)
    warm_up(settings.pipeline_config())
    newswire = create_app(settings)
    newswire.offload.start()
    worker = faust.Worker(
        newswire.app,
        loglevel=settings.log_level,
        logging_config=logging_config(settings.log_level, settings.log_format),
        redirect_stdouts=False,
    )
    worker.execute_from_commandline()  # returns only via SystemExit
    return 0


# --- produce ---------------------------------------------------------------


def cmd_produce(args: argparse.Namespace) -> int:
    from kafka import KafkaProducer
    from tqdm import tqdm

    from worker.topics import deadletter_limit, ensure_topics

    settings = _settings()
    topic = args.topic or settings.topic_raw
    try:
        items = list(iter_inputs(args.paths))
    except InputError as exc:
        print(f"newswire produce: {exc}", file=sys.stderr)
        return 2
    ensure_topics(settings)
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        max_request_size=deadletter_limit(settings.max_message_bytes),
        linger_ms=5,
        acks="all",
        **client_options(settings),
    )
    failures = 0
    with tqdm(total=len(items), unit="msg", disable=args.quiet, file=sys.stderr) as bar:
        futures = []
        for item in items:
            futures.append(producer.send(topic, key=item.key, value=item.value))
            bar.update(1)
        producer.flush()
        for future in futures:
            if future.exception is not None:
                failures += 1
    producer.close()
    print(f"produced {len(items) - failures} messages to {topic}", file=sys.stderr)
    if failures:
        print(f"newswire produce: {failures} messages were not accepted", file=sys.stderr)
        return 1
    return 0


# --- tail ------------------------------------------------------------------


def _decode_value(value: bytes | None) -> Any:
    if value is None:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value.decode("utf-8", errors="replace")


def cmd_tail(args: argparse.Namespace) -> int:
    from kafka import KafkaConsumer

    settings = _settings()
    topic = settings.public_topics.get(args.topic, args.topic)
    check_login(settings)
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=settings.bootstrap_servers,
        **client_options(settings),
        auto_offset_reset="earliest" if args.from_beginning else "latest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=int(args.timeout * 1000) if args.timeout else float("inf"),
    )
    shown = 0
    option = orjson.OPT_INDENT_2 if not args.compact else 0
    try:
        for message in consumer:
            record = {
                "partition": message.partition,
                "offset": message.offset,
                "key": message.key.decode("utf-8", "replace") if message.key else None,
                "value": _decode_value(message.value),
            }
            sys.stdout.write(orjson.dumps(record, option=option).decode() + "\n")
            sys.stdout.flush()
            shown += 1
            if args.max and shown >= args.max:
                break
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
    return 0


# --- topics ----------------------------------------------------------------


def cmd_topics(args: argparse.Namespace) -> int:
    from worker.topics import admin_client, ensure_topics, topic_specs

    settings = _settings()
    if args.action == "create":
        created = ensure_topics(settings)
        for spec in topic_specs(settings):
            state = "created" if spec.name in created else "exists"
            kind = " (internal)" if spec.internal else ""
            print(f"{spec.name:<28} {spec.partitions:>3} partitions  {state}{kind}")
        return 0
    admin = admin_client(settings)
    try:
        for name in sorted(admin.list_topics()):
            print(name)
    finally:
        admin.close()
    return 0


# --- dlq -------------------------------------------------------------------


def cmd_dlq(args: argparse.Namespace) -> int:
    from collections import Counter

    from worker import dlq

    settings = _settings()
    check_login(settings)
    if args.action == "list":
        counts: Counter[str] = Counter()
        for letter in dlq.read_letters(settings):
            counts[letter.reason] += 1
            if args.verbose:
                v = letter.value
                print(f"{v.get('reason')}\t{v.get('stage')}\t{v.get('source_topic')}:"
                      f"{v.get('partition')}:{v.get('offset')}\t{v.get('error', '')[:120]}")
        for reason, n in sorted(counts.items()):
            print(f"{reason:<24} {n}")
        print(f"{'total':<24} {sum(counts.values())}")
        return 0
    reasons = set(args.reason) if args.reason else None
    if reasons is None and not args.all:
        print("newswire dlq replay: name --reason REASON (repeatable) or --all", file=sys.stderr)
        return 2
    report = dlq.replay(settings, reasons, to_topic=args.to, dry_run=args.dry_run,
                        limit=args.max)
    verb = "would replay" if args.dry_run else "replayed"
    for reason, n in sorted(report.replayed.items()):
        print(f"{verb} {n} x {reason}")
    for reason, n in sorted(report.lost.items()):
        print(f"cannot replay {n} x {reason}: truncated, and gone from the source topic")
    print(f"left alone: {sum(report.skipped.values())}")
    return 1 if report.lost else 0


# --- demo (make run) -------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    from worker.demo import run_demo

    return run_demo(_settings(), once=args.once, seed_dir=args.seed_dir, count=args.count)


def cmd_config(args: argparse.Namespace) -> int:
    settings = _settings()
    for name, _default, _meaning in Settings.describe():
        field = name.removeprefix("NEWSWIRE_").lower()
        value = getattr(settings, field)
        if field == "sasl_password" and value:
            value = "(set, not shown)"
        print(f"{name}={value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newswire",
        description="Clean, deduplicate and enrich news articles on Kafka (Faust worker), "
        "or offline on files.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="configuration (environment variables):\n" + EPILOG_SETTINGS,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("worker", help="run the streaming worker until SIGTERM/Ctrl-C")
    p.add_argument("--connect-timeout", type=float, default=60.0,
                   help="seconds to wait for the broker at start-up (default 60)")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser(
        "process",
        help="run the pipeline offline on files, one JSON line per input to stdout",
        description="Runs the same pipeline functions as the worker, in one process and in "
        "input order, and writes {\"input\", \"topic\", \"value\"} per input. Inputs: .jsonl "
        "(one RawArticle per line), .html/.htm (also .gz) as html, .txt as text; a directory "
        "means its files in sorted order.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--stage", choices=["clean", "dedup", "enrich"], default="enrich",
                   help="stop after this stage (default: enrich, i.e. everything)")
    p.set_defaults(func=cmd_process)

    p = sub.add_parser("produce", help="publish JSONL, text or HTML files to articles.raw")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--topic", help="destination topic (default: NEWSWIRE_TOPIC_RAW)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_produce)

    p = sub.add_parser("tail", help="pretty-print records of a topic")
    p.add_argument("topic", help="topic name, or raw/enriched/duplicates/deadletter")
    p.add_argument("--from-beginning", action="store_true", help="start at the oldest record")
    p.add_argument("-n", "--max", type=int, default=0, help="stop after N records")
    p.add_argument("--timeout", type=float, default=0.0,
                   help="stop after this many idle seconds (default: never)")
    p.add_argument("--compact", action="store_true", help="one line per record")
    p.set_defaults(func=cmd_tail)

    p = sub.add_parser("topics", help="create or list topics")
    p.add_argument("action", choices=["create", "list"])
    p.set_defaults(func=cmd_topics)

    p = sub.add_parser(
        "dlq",
        help="list dead letters by reason, or replay them to articles.raw after a fix",
        description="`list` counts the dead letters by reason (-v: one line each). "
        "`replay` re-publishes the original values of the dead letters with the given "
        "reasons to the raw topic under their original keys; newswire's deterministic ids "
        "and dedup make a replay of an already processed input a duplicate, not a copy.",
    )
    p.add_argument("action", choices=["list", "replay"])
    p.add_argument("--reason", action="append", metavar="REASON",
                   help="replay dead letters with this reason code (repeatable)")
    p.add_argument("--all", action="store_true", help="replay every dead letter")
    p.add_argument("--to", metavar="TOPIC", help="replay to this topic (default: the raw topic)")
    p.add_argument("--dry-run", action="store_true", help="count, publish nothing")
    p.add_argument("--max", type=int, default=0, help="replay at most N letters")
    p.add_argument("-v", "--verbose", action="store_true", help="list: one line per letter")
    p.set_defaults(func=cmd_dlq)

    p = sub.add_parser(
        "demo",
        help="start a worker, feed it sample articles, print a summary (what `make run` does)",
    )
    p.add_argument("--once", action="store_true", help="exit after the summary")
    p.add_argument("--seed-dir", default="../shared/corpus/seed",
                   help="directory with the seed article, fed when present")
    p.add_argument("--count", type=int, default=60, help="synthetic articles to generate")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("config", help="print the effective configuration")
    p.set_defaults(func=cmd_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    try:
        code: int = args.func(args)
    except KafkaLoginError as exc:
        # One line on stderr, where the worker's log goes too.
        print(f"newswire: kafka authentication failed: {exc}", file=sys.stderr, flush=True)
        return EXIT_LOGIN_REFUSED
    logging.getLogger("newswire").debug("done in %.2fs", time.monotonic() - started)
    return code


if __name__ == "__main__":
    sys.exit(main())
