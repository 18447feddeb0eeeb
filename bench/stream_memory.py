"""Phase 5 of bench/stream.py: worker RSS over many short synthetic articles.

One worker (its main process: Faust, the Kafka clients, the RocksDB dedup tables;
and its clean/enrich pool process) is fed ``--memory-articles`` articles from
bench/stream_feed.py as one backlog. RSS of both is sampled every
``--memory-sample-s`` seconds with the number of outputs so far; the slope of the
total over the second half (least squares, bytes per article) is what a leak
would show as. Unique bodies keep the dedup state growing unless
``--memory-event-step`` advances event time past the dedup window.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.run import run_id
from bench.stream_feed import synthetic_feed
from bench.stream_kafka import Feeder, Input, Observer, ProcTree
from bench.stream_runners import (
    BenchError,
    Workers,
    fmt,
    load,
    log,
    output_roles,
    send_warm_up,
    table,
    tear_down,
)
from worker.topics import deadletter_limit, ensure_topics


@dataclass
class Memory:
    articles: int
    ner: bool
    event_step_s: float
    window_days: float
    rate: float | None = None
    # CPU ms per article of the worker's main process (Faust, Kafka, dedup) and of
    # its pool (clean, enrich), over the run.
    cpu_main_ms: float = float("nan")
    cpu_pool_ms: float = float("nan")
    seconds: float = 0.0
    samples: list[tuple[float, int, int, int]] = field(default_factory=list)  # t, n, main, pool
    # Per sample, articles through the worker's clean and dedup stages (its /metrics):
    # with a backlog the upstream stages run ahead of the outputs.
    stages: list[tuple[int, int]] = field(default_factory=list)
    slope_second_half: float = float("nan")
    slope_first_half: float = float("nan")
    outcomes: dict[str, int] = field(default_factory=dict)
    dedup_s_per_decision: float = float("nan")
    # The second half alone: past start-up and the first fill of caches.
    dedup_s_per_decision_second_half: float = float("nan")
    rate_second_half: float = float("nan")
    load_before: str = ""
    load_after: str = ""
    error: str | None = None


def slope(points: Sequence[tuple[int, int]]) -> float:
    """Least-squares bytes per article."""
    if len(points) < 2:
        return float("nan")
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / sxx if sxx else float("nan")


def run_memory(bootstrap: str, args: argparse.Namespace) -> Memory:
    window = args.memory_window_days
    mem = Memory(args.memory_articles, args.memory_ner, args.memory_event_step, window,
                 rate=args.memory_rate, load_before=load())
    log(f"memory: generating {args.memory_articles} synthetic articles")
    feed = synthetic_feed(args.memory_articles, event_step_s=args.memory_event_step)
    extra = {"NEWSWIRE_DEDUP_WINDOW_DAYS": str(window)}
    if not args.memory_ner:
        # "," parses to no language=model pair: enrichment without the NER model.
        extra["NEWSWIRE_NER_MODELS"] = ","
    rid = run_id()
    tmp = Path(tempfile.mkdtemp(prefix="newswire-stream-mem-"))
    workers = Workers(1, bootstrap, rid, args.partitions, tmp, extra)
    settings = workers.settings
    servers = settings.bootstrap_servers
    limit = deadletter_limit(settings.max_message_bytes)
    ensure_topics(settings)
    observer: Observer | None = None
    ok = False
    try:
        workers.start()
        workers.wait_ready(args.startup_timeout)
        observer = Observer(servers, output_roles(settings), limit, track=False)
        feeder = Feeder(servers, settings.topic_raw, limit, linger_ms=20)
        send_warm_up(feeder, observer, args.startup_timeout, workers.check)
        main_pid = workers.pids()[0]
        tree = ProcTree([main_pid])
        base = observer.total
        stages0 = workers.stage_seconds()

        def sample() -> None:
            rss = tree.rss()
            main = rss.pop(main_pid, 0)
            mem.samples.append((time.monotonic() - t0, observer_total() - base, main,
                                sum(rss.values())))
            counts = workers.stage_seconds()
            mem.stages.append((int(counts.get("clean", (0, 0))[0]),
                               int(counts.get("dedup", (0, 0))[0])))

        def observer_total() -> int:
            assert observer is not None
            return observer.total

        t0 = time.monotonic()
        cpu0 = tree.cpu_by_pid()
        sample()
        items = [Input(k.decode(), k, v) for k, v in feed]
        # A backlog lets the cheap route stage run far ahead of dedup and enrich in
        # the worker's one event loop (outputs trail by tens of thousands); a paced
        # feed below capacity keeps the stages in step, as in steady operation.
        producer = threading.Thread(
            target=feeder.paced if args.memory_rate else feeder.burst,
            args=(items, args.memory_rate) if args.memory_rate else (items,), daemon=True,
        )
        producer.start()
        deadline = t0 + args.memory_timeout
        half = len(items) // 2
        at_half: tuple[float, dict[str, tuple[float, float]]] | None = None
        while observer_total() - base < len(items):
            workers.check()
            if time.monotonic() > deadline:
                raise BenchError(f"only {observer_total() - base} of {len(items)} outputs "
                                 f"after {args.memory_timeout:.0f}s")
            time.sleep(args.memory_sample_s)
            sample()
            if at_half is None and mem.samples[-1][1] >= half:
                at_half = (time.monotonic(), workers.stage_seconds())
                half = mem.samples[-1][1]
            if len(mem.samples) % 30 == 0:
                _, n, main, pool = mem.samples[-1]
                log(f"memory: {n} articles, RSS main {main / 2**20:.0f} MiB, "
                    f"pool {pool / 2**20:.0f} MiB")
        producer.join(60)
        sample()
        mem.seconds = time.monotonic() - t0
        mem.outcomes = observer.snapshot()
        cpu1 = tree.cpu_by_pid()
        used = {pid: cpu1[pid] - cpu0.get(pid, 0.0) for pid in cpu1}
        mem.cpu_main_ms = 1000 * used.pop(main_pid, 0.0) / len(items)
        mem.cpu_pool_ms = 1000 * sum(used.values()) / len(items)
        stages1 = workers.stage_seconds()
        count = stages1.get("dedup", (0, 0))[0] - stages0.get("dedup", (0, 0))[0]
        if count:
            mem.dedup_s_per_decision = (
                stages1["dedup"][1] - stages0.get("dedup", (0, 0))[1]) / count
        if at_half is not None:
            mem.rate_second_half = (len(items) - half) / (time.monotonic() - at_half[0])
            c0, s0 = at_half[1].get("dedup", (0.0, 0.0))
            c1, s1 = stages1.get("dedup", (0.0, 0.0))
            if c1 > c0:
                mem.dedup_s_per_decision_second_half = (s1 - s0) / (c1 - c0)
        mem.slope_second_half = slope([(n, m + p) for _, n, m, p in mem.samples if n >= half])
        mem.slope_first_half = slope([(n, m + p) for _, n, m, p in mem.samples if n <= half])
        feeder.close()
        ok = True
    except BenchError as exc:
        mem.error = str(exc)
        log(f"memory FAILED: {exc}; logs kept in {tmp}")
    finally:
        tear_down("memory", workers, observer, rid, args.keep_topics, tmp, ok)
        mem.load_after = load()
    return mem


def print_memory(m: Memory) -> None:
    print(f"\n5. memory: one worker, {m.articles} short synthetic articles (unique bodies), "
          f"NER {'on' if m.ner else 'off'}, event time step {m.event_step_s:g}s, dedup window "
          f"{m.window_days:g} days, "
          + (f"fed at {m.rate:g}/s" if m.rate else "fed as one backlog"))
    if m.error:
        print(f"  FAILED: {m.error}")
    if not m.samples:
        return
    rows = []
    for k in range(11):
        target = m.articles * k // 10
        i = min(range(len(m.samples)),
                key=lambda j: (m.samples[j][1] < target, abs(m.samples[j][1] - target)))
        t, n, main, pool = m.samples[i]
        cleaned, deduped = m.stages[i] if i < len(m.stages) else ("-", "-")
        rows.append([str(n), str(cleaned), str(deduped), f"{t:.0f}", f"{main / 2**20:.1f}",
                     f"{pool / 2**20:.1f}",
                     f"{(main + pool) / 2**20:.1f}"])
    print(table(["articles out", "cleaned", "deduped", "seconds", "RSS main MiB",
                 "RSS pool MiB", "RSS total MiB"], rows))
    print(f"  slope of total RSS: {fmt(m.slope_second_half, '.1f')} bytes/article over the second "
          f"half, {fmt(m.slope_first_half, '.1f')} over the first; {len(m.samples)} samples in "
          f"{m.seconds:.0f}s ({m.articles / m.seconds if m.seconds else 0:.0f} art/s); outcomes "
          + ", ".join(f"{k} {v}" for k, v in m.outcomes.items()))
    print(f"  CPU per article: worker main process {fmt(m.cpu_main_ms, '.1f')} ms, pool "
          f"{fmt(m.cpu_pool_ms, '.1f')} ms")
    print(f"  second half: {fmt(m.rate_second_half, '.1f')} art/s; dedup sequencer in the "
          f"worker {fmt(1000 * m.dedup_s_per_decision_second_half, '.2f')} ms/decision (whole "
          f"run {fmt(1000 * m.dedup_s_per_decision, '.2f')}; wall time of dedup_stage, "
          f"newswire_stage_duration_seconds{{stage=dedup}}); load {m.load_before} -> "
          f"{m.load_after}")
