"""Throughput of newswire: the pure pipeline in one process, then end to end through Kafka.

    deploy/local-kafka/kafka.sh with .venv/bin/python bench/run.py [--repeat R] [--json OUT]

Both phases process the same messages: every page of the extraction-dev corpus
(../shared/corpus/extraction-dev/html) wrapped as the RawArticle JSON a crawler
would publish, repeated R times under distinct URLs. Each repetition gets a
unique closing paragraph inside the article body, so it is a new article for
dedup and pays for enrichment like real unique news would; an unmodified copy
would be an exact duplicate and skip the expensive stages.

Pages that declare a canonical URL make their copies revisions of that URL:
still unique, still enriched, so the work is that of new articles.

Phase 1 runs ``InProcessPipeline`` (no broker): articles/s, latency per article
and the time per stage. Phase 2 starts ``newswire worker`` on run-unique topics,
produces the messages (aiokafka by default: kafka-python without the optional
crc32c package checksums in pure Python at a few MB/s, slower than the worker)
and counts the worker's outputs (enriched + duplicates + dead letters) on the
output topics with a kafka-python consumer until every input is accounted for.
The ratio e2e/pure is what Faust, Kafka and serialisation cost on top of the
text work.

This prints numbers; it asserts nothing about them (DESIGN.md: no timed asserts).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import itertools
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import orjson

from worker import __version__
from worker.inputs import decode_page
from worker.pipeline.clean import extract_html
from worker.pipeline.dedup import DedupIndex
from worker.pipeline.enrich import warm_up
from worker.pipeline.flow import (
    InProcessPipeline,
    PipelineConfig,
    Record,
    clean_stage,
    dedup_stage,
    enrich_stage,
    route_of,
)
from worker.pipeline.parse import Validator
from worker.pipeline.records import DeadLetter, DuplicateNotice, EnrichedArticle, Origin
from worker.schemas import validator
from worker.settings import Settings

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "extraction-dev" / "html"
STAGES = ("clean", "dedup", "enrich")
OUTCOMES = ("enriched", "duplicates", "deadletter")
# Synthetic URLs live under a reserved domain (RFC 2606) so no output can be
# mistaken for a real article.
URL_BASE = "https://bench.newswire.example"


def log(message: str) -> None:
    # Progress goes to stderr so stdout stays the report.
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- messages ----------------------------------------------------------------


def unique_paragraph(page: int, rep: int) -> str:
    # Plain English with fixed-width numbers: every copy has the same length and
    # language, so copies differ in content hash but not in the work they cost.
    return (
        f"Editor's note {rep:04d}-{page:04d}: this report was also distributed to partner "
        f"outlets as edition {rep:04d} of story {page:04d} in the weekly newswire bundle."
    )


# Places where a new <p> can follow an existing block; which of them lands inside
# the extracted article is decided by running the real extractor, not guessed.
_BLOCK_END = re.compile(r"</(?:p|div|li|blockquote|section|article|td)\s*>", re.IGNORECASE)
# What may sit between two words of a paragraph in the page source: spaces and
# punctuation, inline tags, character references.
_BETWEEN_WORDS = r"(?:[^\w<&]|<[^>]*>|&#?\w+;)+"
_ANCHOR_WORDS = 6
_MARKER = "nwbenchslot"


def _paragraphs(html: str) -> list[str]:
    return extract_html(html).paragraphs


def _anchored_slots(html: str, last_paragraph: str) -> Iterator[int]:
    """Block ends just after the source of the body's last paragraph, found by its
    closing words; the last occurrence first, since copies of the text in <meta>
    or JSON-LD come before the body."""
    tail = re.findall(r"\w+", last_paragraph)[-_ANCHOR_WORDS:]
    if not tail:
        return
    pattern = re.compile(_BETWEEN_WORDS.join(map(re.escape, tail)))
    for match in reversed(list(pattern.finditer(html))):
        for n, block_end in enumerate(_BLOCK_END.finditer(html, match.end())):
            if n == 3:
                break
            yield block_end.end()


def _marked_slots(html: str) -> Iterator[int]:
    """Fallback: one extraction with a tiny marker after every block end shows which
    slots sit inside the article; markers can move the density scores on pages
    with long menus, so each slot is still confirmed alone."""
    ends = [m.end() for m in _BLOCK_END.finditer(html)]
    pieces: list[str] = []
    last = 0
    for i, end in enumerate(ends):
        pieces.append(html[last:end])
        pieces.append(f"<p>{_MARKER}{i}</p>")
        last = end
    pieces.append(html[last:])
    hits = [
        int(p.removeprefix(_MARKER)) for p in _paragraphs("".join(pieces))
        if p.startswith(_MARKER) and p.removeprefix(_MARKER).isdigit()
    ]
    for i in sorted(hits, reverse=True):
        yield ends[i]


def find_slot(html: str, page: int, max_trials: int = 25) -> int | None:
    """Offset at which a unique paragraph joins the article body as its last
    paragraph, leaving the page's own paragraphs as they were; None when there
    is none (a page with no article text stays a dead letter anyway)."""
    base = _paragraphs(html)
    if not base:
        return None
    sample = unique_paragraph(page, 0)
    wanted = set(base)
    tried: set[int] = set()
    for slot in itertools.chain(_anchored_slots(html, base[-1]), _marked_slots(html)):
        if slot in tried:
            continue
        if len(tried) == max_trials:
            break
        tried.add(slot)
        got = _paragraphs(f"{html[:slot]}<p>{sample}</p>{html[slot:]}")
        if sample in got and wanted <= set(got):
            return slot
    return None


@dataclass(frozen=True, slots=True)
class Message:
    key: bytes
    value: bytes


@dataclass(frozen=True, slots=True)
class Workload:
    messages: list[Message]
    pages: int
    repeat: int
    varied_pages: int
    unvaried_pages: list[str]
    corpus_bytes: int

    @property
    def value_bytes(self) -> int:
        return sum(len(m.value) for m in self.messages)


def build_workload(corpus: Path, repeat: int, limit: int | None) -> Workload:
    paths = sorted(corpus.glob("*.html.gz"))
    if limit is not None:
        paths = paths[:limit]
    if not paths:
        raise SystemExit(f"bench: no *.html.gz pages in {corpus}")
    pages = [decode_page(gzip.decompress(p.read_bytes())) for p in paths]
    slots = [find_slot(html, i) for i, html in enumerate(pages)]
    unvaried = [paths[i].name for i, slot in enumerate(slots) if slot is None]
    messages: list[Message] = []
    # Repetition-major order: a stream sees many sources before it sees a page
    # again, as a crawler's feed would.
    for rep in range(repeat):
        for i, (path, html) in enumerate(zip(paths, pages, strict=True)):
            slot = slots[i]
            if slot is not None:
                html = f"{html[:slot]}<p>{unique_paragraph(i, rep)}</p>{html[slot:]}"
            # Pages without a slot have no article body: each copy is dead-lettered
            # in clean, so copies cost the same work as distinct bad pages.
            url = f"{URL_BASE}/r{rep:04d}/{path.name.removesuffix('.html.gz')[:16]}"
            value = orjson.dumps({"url": url, "html": html})
            messages.append(Message(key=url.encode(), value=value))
    return Workload(
        messages=messages,
        pages=len(paths),
        repeat=repeat,
        varied_pages=len(paths) - len(unvaried),
        unvaried_pages=unvaried,
        corpus_bytes=sum(len(p) for p in pages),
    )


# --- statistics ---------------------------------------------------------------


def p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[94]


@dataclass
class StageStats:
    stage: str
    articles: int
    total_s: float
    mean_ms: float
    median_ms: float
    p95_ms: float


def stage_stats(stage: str, seconds: list[float]) -> StageStats:
    ms = [s * 1000 for s in seconds]
    return StageStats(
        stage=stage,
        articles=len(ms),
        total_s=sum(seconds),
        mean_ms=statistics.fmean(ms) if ms else 0.0,
        median_ms=statistics.median(ms) if ms else 0.0,
        p95_ms=p95(ms),
    )


# --- phase 1: pure pipeline ----------------------------------------------------


@dataclass
class PureResult:
    articles: int
    seconds: float
    articles_per_s: float
    median_ms: float
    p95_ms: float
    stages: list[StageStats]
    outcomes: dict[str, int]
    revisions: int


def _origin(topic: str, offset: int, key: bytes) -> Origin:
    # Positions as the worker would see them on a one-partition topic.
    return Origin(topic=topic, partition=0, offset=offset, key=key)


def _staged_run(
    data: bytes,
    origin: Origin,
    validate: Validator,
    config: PipelineConfig,
    index: DedupIndex,
    seconds: dict[str, list[float]],
) -> Record:
    # The stage sequence of InProcessPipeline.run, with a clock between stages;
    # the caller checks it reaches the same decisions as run() itself.
    started = time.perf_counter()
    cleaned = clean_stage(data, origin, validate, config)
    seconds["clean"].append(time.perf_counter() - started)
    if isinstance(cleaned, DeadLetter):
        return cleaned
    started = time.perf_counter()
    decided = dedup_stage(cleaned, index)
    seconds["dedup"].append(time.perf_counter() - started)
    if isinstance(decided, DuplicateNotice):
        return decided
    started = time.perf_counter()
    enriched = enrich_stage(decided, config)
    seconds["enrich"].append(time.perf_counter() - started)
    return enriched


def run_pure(workload: Workload, settings: Settings) -> PureResult:
    validate = validator("raw")
    config = settings.pipeline_config()
    topic = settings.topic_raw
    # Load the language model and touch every code path once, as the worker does
    # at start-up, so the first measured article does not pay for imports.
    warm_up()
    scratch = InProcessPipeline(validate, config)
    for n, message in enumerate(workload.messages[:3]):
        scratch.run(message.value, _origin(topic, n, message.key))

    # Pass 1: the headline numbers, from InProcessPipeline.run itself.
    pipeline = InProcessPipeline(validate, config)
    latencies: list[float] = []
    routes: list[str] = []
    outcomes = dict.fromkeys(OUTCOMES, 0)
    revisions = 0
    started = time.perf_counter()
    for offset, message in enumerate(workload.messages):
        t = time.perf_counter()
        record = pipeline.run(message.value, _origin(topic, offset, message.key))
        latencies.append(time.perf_counter() - t)
        route = route_of(record)
        routes.append(route)
        outcomes[route] = outcomes.get(route, 0) + 1
        if isinstance(record, EnrichedArticle) and record.unique.revision > 1:
            revisions += 1
    wall = time.perf_counter() - started

    # Pass 2: the same messages on fresh dedup state, timed per stage.
    index = InProcessPipeline(validate, config).index
    per_stage: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for offset, message in enumerate(workload.messages):
        record = _staged_run(
            message.value, _origin(topic, offset, message.key), validate, config, index,
            per_stage,
        )
        if route_of(record) != routes[offset]:
            raise SystemExit(
                f"bench: the staged pass decided {route_of(record)} for message {offset} where "
                f"InProcessPipeline.run decided {routes[offset]}: bench/run.py no longer "
                "mirrors InProcessPipeline.run"
            )

    ms = [s * 1000 for s in latencies]
    return PureResult(
        articles=len(ms),
        seconds=wall,
        articles_per_s=len(ms) / wall,
        median_ms=statistics.median(ms),
        p95_ms=p95(ms),
        stages=[stage_stats(stage, per_stage[stage]) for stage in STAGES],
        outcomes=outcomes,
        revisions=revisions,
    )


# --- phase 2: end to end through Kafka ------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def newswire_command() -> list[str]:
    # The console script of the interpreter running the bench, so the worker is
    # the code under test, not whatever `newswire` is first on PATH.
    script = Path(sys.executable).parent / "newswire"
    if script.exists():
        return [str(script), "worker"]
    found = shutil.which("newswire")
    return [found, "worker"] if found else [sys.executable, "-m", "worker.cli", "worker"]


class WorkerProcess:
    """``newswire worker`` as a child process with its output in a log file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("wb") as out:
            # Own session: a Ctrl-C in the terminal reaches the bench, which then
            # stops the worker in order instead of both dying mid-write.
            self.proc = subprocess.Popen(
                newswire_command(), env=self.env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise BenchError(
                f"the worker exited with code {self.proc.returncode}; "
                f"last lines of {self.log_path}:\n{self.tail()}"
            )

    def stop(self, timeout_s: float) -> str:
        if self.proc is None:
            return "not started"
        if self.proc.poll() is not None:
            return f"had already exited with code {self.proc.returncode}"
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
            return f"did not stop within {timeout_s:.0f}s of SIGTERM; killed (code {code})"
        return f"stopped on SIGTERM in {time.monotonic() - started:.1f}s (exit code {code})"

    def tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


class BenchError(RuntimeError):
    """The end-to-end run could not complete; the message says why."""


def assign_from_beginning(consumer: Any, topics: list[str], timeout_s: float) -> None:
    """Assigns every partition of ``topics`` to ``consumer`` at their first offset,
    waiting up to ``timeout_s`` for topics the worker is still creating."""
    from kafka import TopicPartition

    partitions: list[Any] = []
    deadline = time.monotonic() + timeout_s
    for topic in topics:
        ids = consumer.partitions_for_topic(topic)
        while not ids:
            if time.monotonic() > deadline:
                raise BenchError(f"topic {topic} has no partitions after {timeout_s:.0f}s")
            time.sleep(0.2)
            ids = consumer.partitions_for_topic(topic)
        partitions.extend(TopicPartition(topic, p) for p in sorted(ids))
    consumer.assign(partitions)
    consumer.seek_to_beginning()


def fetch_metrics(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
            body: bytes = resp.read()
            return body.decode("utf-8", "replace")
    except (urllib.error.URLError, OSError):
        return None


def stage_seconds(metrics_text: str) -> dict[str, tuple[float, float]]:
    """stage -> (count, sum of seconds) from newswire_stage_duration_seconds."""
    from prometheus_client.parser import text_string_to_metric_families

    out: dict[str, tuple[float, float]] = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.name != "newswire_stage_duration_seconds":
            continue
        for sample in family.samples:
            stage = sample.labels.get("stage", "")
            count, total = out.get(stage, (0.0, 0.0))
            if sample.name.endswith("_count"):
                count = sample.value
            elif sample.name.endswith("_sum"):
                total = sample.value
            out[stage] = (count, total)
    return out


def poll_until(
    done: Callable[[], bool],
    deadline_s: float,
    what: str,
    check: Callable[[], None],
    interval_s: float = 0.0,
) -> float:
    """Poll ``done`` until true; returns the seconds it took. ``check`` raises when
    waiting longer is pointless (the worker died). ``interval_s`` paces checks
    that return at once; a ``done`` that blocks (a consumer poll) needs none."""
    started = time.monotonic()
    while not done():
        check()
        if time.monotonic() - started > deadline_s:
            raise BenchError(f"timed out after {deadline_s:g}s waiting for {what}")
        time.sleep(interval_s)
    return time.monotonic() - started


class OutputCounter:
    """Counts records on the output topics from their start, without decoding them."""

    def __init__(self, settings: Settings, limit_bytes: int, timeout_s: float) -> None:
        from kafka import KafkaConsumer

        self.role_of = {
            settings.topic_enriched: "enriched",
            settings.topic_duplicates: "duplicates",
            settings.topic_deadletter: "deadletter",
        }
        self.consumer = KafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            # The end of the run is observed through this consumer: a short fetch
            # wait keeps the observation lag well under the run time.
            fetch_max_wait_ms=50,
            max_partition_fetch_bytes=max(4 * 1024 * 1024, limit_bytes),
            # The bench shares the cores with the worker and the broker; it only
            # counts, so it skips the CRC work.
            check_crcs=False,
        )
        assign_from_beginning(self.consumer, list(self.role_of), timeout_s)
        self.counts = dict.fromkeys(OUTCOMES, 0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def poll(self) -> int:
        for tp, records in self.consumer.poll(timeout_ms=50).items():
            self.counts[self.role_of[tp.topic]] += len(records)
        return self.total

    def close(self) -> None:
        self.consumer.close()


class LoadProducer:
    """Publishes messages to the raw topic; ``send_all`` returns (perf_counter at the
    first send, messages the broker refused) once every message is acknowledged."""

    def send_all(self, topic: str, messages: list[Message]) -> tuple[float, int]:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections; the default has none."""


class KafkaPythonProducer(LoadProducer):
    """kafka-python, as ``newswire produce`` uses. Without the optional ``crc32c``
    package it checksums record batches in pure Python (a few MB/s), so with pages
    this size the load generator, not the worker, sets the pace."""

    def __init__(self, settings: Settings, limit_bytes: int) -> None:
        from kafka import KafkaProducer

        self.producer = KafkaProducer(
            bootstrap_servers=settings.bootstrap_servers,
            max_request_size=limit_bytes,
            linger_ms=5,
            acks="all",
        )

    def send_all(self, topic: str, messages: list[Message]) -> tuple[float, int]:
        started = time.perf_counter()
        futures = [self.producer.send(topic, key=m.key, value=m.value) for m in messages]
        self.producer.flush()
        return started, sum(1 for f in futures if f.failed())

    def close(self) -> None:
        self.producer.close()


class AioKafkaProducer(LoadProducer):
    """aiokafka, the worker's own client: its record batches are built by a C
    extension, so producing costs little next to the work being measured."""

    def __init__(self, settings: Settings, limit_bytes: int) -> None:
        self.servers = ",".join(settings.bootstrap_servers)
        self.limit = limit_bytes

    async def _send_all(self, topic: str, messages: list[Message]) -> tuple[float, int]:
        from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

        producer = AIOKafkaProducer(
            bootstrap_servers=self.servers, max_request_size=self.limit, linger_ms=5,
            acks="all",
        )
        # Connecting and fetching metadata happen before the clock starts.
        await producer.start()
        try:
            await producer.partitions_for(topic)
            started = time.perf_counter()
            futures = [await producer.send(topic, m.value, key=m.key) for m in messages]
            await producer.flush()
            done = await asyncio.gather(*futures, return_exceptions=True)
            return started, sum(1 for d in done if isinstance(d, BaseException))
        finally:
            await producer.stop()

    def send_all(self, topic: str, messages: list[Message]) -> tuple[float, int]:
        return asyncio.run(self._send_all(topic, messages))


PRODUCERS: dict[str, Callable[[Settings, int], LoadProducer]] = {
    "aiokafka": AioKafkaProducer,
    "kafka-python": KafkaPythonProducer,
}


@dataclass
class E2EResult:
    articles: int
    seconds: float
    articles_per_s: float
    ratio_to_pure: float
    partitions: int
    startup_s: float
    warmup_s: float
    produce_s: float
    producer: str
    produced_bytes: int
    outcomes: dict[str, int]
    worker_stage_s: dict[str, float]
    worker_stop: str
    run_id: str


def run_id() -> str:
    return f"bench-{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"


def worker_env(
    bootstrap: str, rid: str, partitions: int, datadir: Path, port: int
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
    env.update({
        "NEWSWIRE_BROKER": f"kafka://{bootstrap}",
        # Everything the run creates starts with the run id: reruns and parallel
        # runs on a shared broker never see each other's topics, offsets or state.
        "NEWSWIRE_APP_ID": rid,
        "NEWSWIRE_TOPIC_RAW": f"{rid}.articles.raw",
        "NEWSWIRE_TOPIC_ENRICHED": f"{rid}.articles.enriched",
        "NEWSWIRE_TOPIC_DUPLICATES": f"{rid}.articles.duplicates",
        "NEWSWIRE_TOPIC_DEADLETTER": f"{rid}.articles.deadletter",
        "NEWSWIRE_PARTITIONS": str(partitions),
        "NEWSWIRE_STORE": "rocksdb://",
        "NEWSWIRE_DATADIR": str(datadir),
        "NEWSWIRE_WEB_HOST": "127.0.0.1",
        "NEWSWIRE_WEB_PORT": str(port),
        "NEWSWIRE_LOG_LEVEL": "info",
    })
    return env


def warmup_message() -> Message:
    # Plain text, so it shares no URL or body with the corpus and cannot turn a
    # measured article into a revision or a duplicate.
    url = f"{URL_BASE}/warm-up"
    text = (
        "Benchmark warm-up article\n"
        "This short article travels through every stage before the clock starts, so "
        "topic creation, partition assignment and table recovery are not measured.\n"
        "It is not part of the results."
    )
    return Message(key=url.encode(), value=orjson.dumps({"url": url, "text": text}))


def delete_run_topics(settings: Settings, rid: str) -> int:
    from worker.topics import admin_client

    admin = admin_client(settings, timeout_s=10)
    try:
        names = [t for t in admin.list_topics() if t.startswith(rid)]
        if names:
            admin.delete_topics(names)
        return len(names)
    finally:
        admin.close()


def run_e2e(
    workload: Workload, bootstrap: str, args: argparse.Namespace, pure_rate: float
) -> E2EResult:
    from worker.topics import deadletter_limit, ensure_topics

    rid = run_id()
    tmp = Path(tempfile.mkdtemp(prefix="newswire-bench-"))
    completed = False
    try:
        port = free_port()
        env = worker_env(bootstrap, rid, args.partitions, tmp / "state", port)
        settings = Settings.from_env(env)
        limit = deadletter_limit(settings.max_message_bytes)
        log(f"run id {rid}; worker log {tmp}/worker.log")
        try:
            ensure_topics(settings)
        except RuntimeError as exc:
            raise BenchError(str(exc)) from None
        worker = WorkerProcess(env, tmp / "worker.log")
        producer: LoadProducer | None = None
        counter: OutputCounter | None = None
        stopped = "not started"
        try:
            worker.start()
            startup = poll_until(
                lambda: fetch_metrics(port) is not None,
                args.startup_timeout, f"the worker's /metrics on port {port}", worker.check_alive,
                interval_s=0.2,
            )
            log(f"worker answers /metrics after {startup:.1f}s")
            producer = PRODUCERS[args.producer](settings, limit)
            counter = OutputCounter(settings, limit, args.startup_timeout)
            out = counter
            if producer.send_all(settings.topic_raw, [warmup_message()])[1]:
                raise BenchError("the broker refused the warm-up message")
            warmup = poll_until(
                lambda: out.poll() >= 1, args.startup_timeout,
                "the warm-up article to come out of the worker", worker.check_alive,
            )
            log(f"warm-up article processed after {warmup:.1f}s; producing "
                f"{len(workload.messages)} messages with {args.producer}")
            baseline = dict(counter.counts)
            metrics_before = stage_seconds(fetch_metrics(port) or "")
            expected = sum(baseline.values()) + len(workload.messages)

            started, failed = producer.send_all(settings.topic_raw, workload.messages)
            produce_s = time.perf_counter() - started
            if failed:
                raise BenchError(f"{failed} messages were not accepted by the broker")
            log(f"produced in {produce_s:.1f}s; waiting for {len(workload.messages)} outputs")
            try:
                poll_until(
                    lambda: out.poll() >= expected, args.e2e_timeout,
                    f"{len(workload.messages)} outputs", worker.check_alive,
                )
            except BenchError as exc:
                arrived = out.total - sum(baseline.values())
                raise BenchError(
                    f"{arrived} of {len(workload.messages)} outputs arrived: {exc}"
                ) from None
            seconds = time.perf_counter() - started
            outcomes = {k: counter.counts[k] - baseline[k] for k in OUTCOMES}
            metrics_after = stage_seconds(fetch_metrics(port) or "")
            worker_stage = {
                stage: metrics_after.get(stage, (0.0, 0.0))[1]
                - metrics_before.get(stage, (0.0, 0.0))[1]
                for stage in STAGES
            }
        finally:
            if counter is not None:
                counter.close()
            if producer is not None:
                producer.close()
            stopped = worker.stop(args.stop_timeout)
            log(f"worker {stopped}")
            if not args.keep_topics:
                with contextlib.suppress(Exception):
                    log(f"deleted {delete_run_topics(settings, rid)} topics of {rid}")
        completed = True
    finally:
        # A failed run keeps the worker's log and state for the post-mortem.
        if completed:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"kept {tmp} (worker.log, state) for inspection")
    rate = len(workload.messages) / seconds
    return E2EResult(
        articles=len(workload.messages),
        seconds=seconds,
        articles_per_s=rate,
        ratio_to_pure=rate / pure_rate if pure_rate else 0.0,
        partitions=args.partitions,
        startup_s=startup,
        warmup_s=warmup,
        produce_s=produce_s,
        producer=args.producer,
        produced_bytes=workload.value_bytes,
        outcomes=outcomes,
        worker_stage_s=worker_stage,
        worker_stop=stopped,
        run_id=rid,
    )


# --- report ---------------------------------------------------------------------


def table(headers: list[str], rows: list[list[str]], indent: str = "  ") -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        # First column is a label (left); the rest are numbers (right).
        parts = [cells[0].ljust(widths[0])]
        parts += [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return indent + "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def _first_line(path: str, prefix: str) -> str | None:
    with contextlib.suppress(OSError), open(path) as fh:
        for text in fh:
            if text.startswith(prefix):
                return text.split(":", 1)[1].strip()
    return None


def machine_info(bootstrap: str | None) -> dict[str, Any]:
    commit = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    mem = _first_line("/proc/meminfo", "MemTotal")
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "newswire": __version__,
        "commit": commit,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": _first_line("/proc/cpuinfo", "model name") or platform.processor() or None,
        "memory": f"{int(mem.split()[0]) / 2**20:.1f} GiB" if mem else None,
        "os": platform.platform(),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        # Other processes on these cores move every number; the load says how busy
        # the machine was when the run started.
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "kafka_bootstrap": bootstrap,
    }


def print_header(info: dict[str, Any], workload: Workload, corpus: Path) -> None:
    print(f"newswire {info['newswire']} benchmark  {info['date']}  commit {info['commit']}")
    print(f"machine  {info['cores']} cores ({info['usable_cores']} usable), {info['cpu']}, "
          f"{info['memory']} RAM")
    load = info["load_average"]
    if load is not None:
        print(f"load     {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 min) at start")
    print(f"os       {info['os']}")
    print(f"python   {info['python']}")
    print(f"kafka    {info['kafka_bootstrap'] or '(none: end-to-end phase skipped)'}")
    print(f"corpus   {workload.pages} pages in {corpus} ({mib(workload.corpus_bytes)} of HTML)")
    print(f"messages {len(workload.messages)} = {workload.pages} pages x {workload.repeat} "
          f"repetitions, {mib(workload.value_bytes)} of RawArticle JSON; "
          f"{workload.varied_pages} pages made unique per copy by a closing paragraph")
    for name in workload.unvaried_pages:
        print(f"         {name}: no article body to extend (every copy is dead-lettered)")


def outcome_text(outcomes: dict[str, int]) -> str:
    return ", ".join(f"{k} {outcomes.get(k, 0)}" for k in OUTCOMES)


def print_pure(r: PureResult) -> None:
    print()
    print("pure pipeline (InProcessPipeline.run, one process, no broker)")
    print(table(
        ["articles", "seconds", "articles/s", "median ms", "p95 ms"],
        [[str(r.articles), f"{r.seconds:.2f}", f"{r.articles_per_s:.1f}",
          f"{r.median_ms:.2f}", f"{r.p95_ms:.2f}"]],
    ))
    print()
    total = sum(s.total_s for s in r.stages) or 1.0
    print(table(
        ["stage", "articles", "total s", "mean ms", "median ms", "p95 ms", "share"],
        [[s.stage, str(s.articles), f"{s.total_s:.2f}", f"{s.mean_ms:.3f}",
          f"{s.median_ms:.3f}", f"{s.p95_ms:.3f}", f"{100 * s.total_s / total:.1f}%"]
         for s in r.stages],
    ))
    print(f"  outcomes: {outcome_text(r.outcomes)} "
          f"(enriched includes {r.revisions} revisions of pages' canonical URLs)")


def print_e2e(r: E2EResult, pure: PureResult) -> None:
    print()
    print(f"end to end (newswire worker: 1 process, {r.partitions} partitions, rocksdb; "
          "first produce -> last output read back)")
    print(table(
        ["articles", "seconds", "articles/s", "e2e/pure"],
        [[str(r.articles), f"{r.seconds:.2f}", f"{r.articles_per_s:.1f}",
          f"{r.ratio_to_pure:.2f}"]],
    ))
    print(f"  outcomes: {outcome_text(r.outcomes)}"
          + ("" if r.outcomes == pure.outcomes else "  (DIFFERS from the pure pipeline)"))
    busy = sum(r.worker_stage_s.values())
    stages = ", ".join(f"{s} {r.worker_stage_s[s]:.2f}s" for s in STAGES)
    print(f"  worker time in stages: {stages}; the other {max(r.seconds - busy, 0):.2f}s of "
          "wall time is Faust, Kafka clients, serialisation and waiting")
    print(f"  worker start {r.startup_s:.1f}s, warm-up article {r.warmup_s:.1f}s (not measured); "
          f"produced {mib(r.produced_bytes)} in {r.produce_s:.2f}s with {r.producer}; "
          f"worker {r.worker_stop}")
    if r.produce_s > 0.8 * r.seconds:
        print("  note: producing took most of the run, so the load generator, not the worker, "
              "may have set this pace")


# --- main -------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="newswire throughput: the pure pipeline in one process, then the "
        "streaming worker end to end through Kafka, on the same messages (the "
        "extraction-dev corpus pages, each copy made a distinct article).",
        epilog="Run with a broker: deploy/local-kafka/kafka.sh with .venv/bin/python "
        "bench/run.py (or make bench). Without KAFKA_BOOTSTRAP only the pure phase runs.",
    )
    parser.add_argument("-r", "--repeat", type=int, default=8,
                        help="copies of each corpus page (default 8: 816 articles)")
    parser.add_argument("--pages", type=int, default=None,
                        help="use only the first N corpus pages (default: all)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help=f"directory of *.html.gz pages (default {DEFAULT_CORPUS})")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP"),
                        help="Kafka host:port (default: $KAFKA_BOOTSTRAP, set by kafka.sh with)")
    parser.add_argument("--partitions", type=int, default=4,
                        help="partitions of the raw and unique topics (default 4)")
    parser.add_argument("--producer", choices=sorted(PRODUCERS), default="aiokafka",
                        help="client that loads the raw topic (default aiokafka; kafka-python "
                        "without the crc32c package is slower than the worker)")
    parser.add_argument("--skip-e2e", action="store_true",
                        help="only the pure pipeline phase, no broker needed")
    parser.add_argument("--startup-timeout", type=float, default=180.0,
                        help="seconds for the worker to start and pass the warm-up (default 180)")
    parser.add_argument("--e2e-timeout", type=float, default=900.0,
                        help="seconds for all outputs to appear (default 900)")
    parser.add_argument("--stop-timeout", type=float, default=60.0,
                        help="seconds to wait after SIGTERM before killing the worker (default 60)")
    parser.add_argument("--keep-topics", action="store_true",
                        help="keep the run's topics (default: delete them at the end)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    return parser


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    # kafka.sh (or CI) stops us with SIGTERM; turning it into SystemExit runs the
    # finally blocks that stop the worker, instead of orphaning it.
    def handler(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass
class Results:
    machine: dict[str, Any]
    workload: dict[str, Any]
    pure: PureResult
    e2e: E2EResult | None = None
    errors: list[str] = field(default_factory=list)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.repeat < 1 or args.partitions < 1:
        raise SystemExit("bench: --repeat and --partitions must be >= 1")
    corpus: Path = args.corpus
    if not corpus.is_dir():
        raise SystemExit(
            f"bench: corpus not found at {corpus}\n"
            "The benchmark reads the extraction-dev pages from ../shared next to the "
            "repository (shared/corpus/extraction-dev/html/*.html.gz); check that "
            "directory out beside this repository or pass --corpus DIR."
        )
    bootstrap = None if args.skip_e2e else args.bootstrap
    if not args.skip_e2e and not bootstrap:
        raise SystemExit(
            "bench: no Kafka broker: run it as `deploy/local-kafka/kafka.sh with "
            ".venv/bin/python bench/run.py` (or make bench), set KAFKA_BOOTSTRAP, "
            "or pass --skip-e2e for the pure pipeline only"
        )

    with sigterm_as_exit():
        log(f"preparing messages from {corpus}")
        workload = build_workload(corpus, args.repeat, args.pages)
        info = machine_info(bootstrap)
        print_header(info, workload, corpus)
        sys.stdout.flush()

        log(f"phase 1: pure pipeline on {len(workload.messages)} messages (two passes)")
        pure = run_pure(workload, Settings())
        print_pure(pure)
        sys.stdout.flush()

        results = Results(
            machine=info,
            workload={"pages": workload.pages, "repeat": workload.repeat,
                      "messages": len(workload.messages), "bytes": workload.value_bytes,
                      "varied_pages": workload.varied_pages,
                      "unvaried_pages": workload.unvaried_pages},
            pure=pure,
        )
        code = 0
        if bootstrap:
            log("phase 2: end to end through Kafka")
            try:
                results.e2e = run_e2e(workload, bootstrap, args, pure.articles_per_s)
                print_e2e(results.e2e, pure)
            except BenchError as exc:
                results.errors.append(str(exc))
                print(f"\nend to end: FAILED: {exc}")
                code = 1

    if args.json:
        args.json.write_bytes(orjson.dumps(asdict(results), option=orjson.OPT_INDENT_2) + b"\n")
        log(f"results written to {args.json}")
    return code


if __name__ == "__main__":
    sys.exit(main())
