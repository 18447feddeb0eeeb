"""Streaming performance of newswire against its limit and the alternatives, in one run.

    deploy/local-kafka/kafka.sh with .venv/bin/python bench/stream.py [flags]   (make bench-stream)

Phases (``--only`` picks some; all use one broker, one after the other):

1. pure      the limit: ``InProcessPipeline.run`` in this process, no broker, on the
             burst articles (the extraction-dev pages, each copy a unique article,
             as bench/run.py builds them); articles/s on one core.
2. ours      ``newswire worker`` (1 process + its clean/enrich pool): a burst of the
             same articles (throughput, ratio to pure, CPU seconds per article,
             committed lag per topic), then a paced feed at half the burst rate
             (p50/p99 end-to-end latency: the "latency at 50% of max" target).
3. kafka-python, quix   the same pipeline functions in a plain kafka-python loop and
             in a Quix Streams app (bench/stream_loops.py): the same burst, then
             the same paced rate as ours, so latencies compare at one offered load.
4. scaling   two ``newswire worker`` processes in one group on the burst: throughput
             ratio to one, committed lag per topic.
5. memory    one worker on ``--memory-articles`` short synthetic articles
             (bench/stream_feed.py) fed at ``--memory-rate``, unique bodies, so the
             dedup state grows with every article unless ``--memory-event-step`` lets
             the window expire it; RSS of the worker and its pool at checkpoints,
             slope over the second half.
6. failover  (opt-in: ``--only failover``; ~4 min at Faust's 60 s session timeout, more
             with ``--failover-prefill``) two workers on a paced feed of short synthetic
             articles; the one holding the dedup sequencer is SIGKILLed; detection,
             changelog restore and catch-up times, latency before/after, every input
             accounted for (bench/stream_failover.py).

End-to-end latency is the output's receipt by the observer minus the input's
send time (see bench/stream_kafka.py). Throughput is articles / (last output
receipt - first send). Numbers are printed, never asserted (no timed asserts).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

# Run as a script (make bench-stream): the repository root makes `bench` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import (
    DEFAULT_CORPUS,
    STAGES,
    build_workload,
    delete_run_topics,
    machine_info,
    run_id,
    sigterm_as_exit,
)
from bench.stream_failover import Failover, print_failover, run_failover
from bench.stream_kafka import (
    Feeder,
    Input,
    LagSampler,
    Observer,
    ProcTree,
    latencies,
    percentile,
)
from bench.stream_memory import Memory, print_memory, run_memory
from bench.stream_runners import (
    BenchError,
    Loop,
    Runner,
    Workers,
    fmt,
    load,
    log,
    output_roles,
    send_warm_up,
    table,
)
from worker.pipeline.enrich import warm_up
from worker.pipeline.flow import InProcessPipeline, route_of
from worker.pipeline.records import Origin
from worker.schemas import validator
from worker.settings import Settings
from worker.topics import deadletter_limit, ensure_topics

REPO = Path(__file__).resolve().parent.parent
PHASES = ("pure", "ours", "kafka-python", "quix", "scaling", "memory")
# Opt-in (--only failover): about 4 minutes at the default 60 s session timeout,
# and the restore grows with the dedup state (--failover-prefill).
OPT_IN = ("failover",)
OUTCOMES = ("enriched", "duplicates", "deadletter")


# --- measuring one implementation ------------------------------------------------------


@dataclass
class Run:
    name: str
    processes: int
    articles: int = 0
    seconds: float = 0.0
    rate: float = 0.0
    produce_s: float = 0.0
    cpu_s: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)
    lag_peak: dict[str, int] = field(default_factory=dict)
    lag_samples: int = 0
    lag_errors: str = ""
    stage_s: dict[str, float] = field(default_factory=dict)
    dedup_decisions: float = 0.0
    paced_target: float | None = None
    paced_rate: float | None = None
    paced_articles: int = 0
    paced_lost: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    burst_p50_ms: float | None = None
    burst_p99_ms: float | None = None
    startup_s: float = 0.0
    load_before: str = ""
    load_after: str = ""
    stopped: str = ""
    error: str | None = None

    @property
    def cpu_per_article_ms(self) -> float:
        return 1000 * self.cpu_s / self.articles if self.articles else float("nan")


def measure(
    runner: Runner, burst: Sequence[Input], paced: Sequence[Input], rate: float | None,
    args: argparse.Namespace, processes: int, rate_of_burst: float | None = None,
) -> Run:
    """Burst, then (with ``rate``, or ``rate_of_burst`` x the burst rate) a paced feed."""
    settings = runner.settings
    servers = settings.bootstrap_servers
    limit = deadletter_limit(settings.max_message_bytes)
    result = Run(runner.name, processes, load_before=load())
    ensure_topics(settings)
    observer: Observer | None = None
    lag: LagSampler | None = None
    try:
        runner.start()
        result.startup_s = runner.wait_ready(args.startup_timeout)
        observer = Observer(servers, output_roles(settings), limit)
        feeder = Feeder(servers, settings.topic_raw, limit, linger_ms=5)
        send_warm_up(feeder, observer, args.startup_timeout, runner.check)
        log(f"{runner.name}: ready after {result.startup_s:.1f}s; burst of {len(burst)}")

        base = observer.snapshot()
        lag = LagSampler(servers, runner.group).start()
        tree = ProcTree(runner.pids())
        cpu0, stages0 = tree.cpu_seconds(), runner.stage_seconds()
        result.produce_s = feeder.burst(burst)
        if feeder.failed:
            raise BenchError(f"{feeder.failed} inputs refused by the broker")
        done = observer.wait_for(sum(base.values()) + len(burst), args.drain_timeout,
                                 runner.check)
        cpu1, stages1 = tree.cpu_seconds(), runner.stage_seconds()
        series = lag.stop()
        if not done:
            raise BenchError(f"only {observer.total - sum(base.values())} of {len(burst)} "
                             f"outputs within {args.drain_timeout:.0f}s")
        idents = [i.ident for i in burst]
        first = min(feeder.sent[i] for i in idents)
        last = max(observer.arrived.get(i, time.time()) for i in idents)
        result.articles, result.seconds = len(burst), last - first
        result.rate = len(burst) / result.seconds
        result.cpu_s = cpu1 - cpu0
        result.outcomes = {k: v - base[k] for k, v in observer.snapshot().items()}
        for _, sample in series.samples:
            for topic, n in sample.items():
                short = topic.removeprefix(f"{runner.group}.").removeprefix(f"{runner.group}-")
                result.lag_peak[short] = max(result.lag_peak.get(short, 0), n)
        result.lag_samples = len(series.samples)
        if lag.errors:
            result.lag_errors = f"{lag.errors} samples failed, last: {lag.last_error}"
        result.stage_s = {s: stages1.get(s, (0, 0))[1] - stages0.get(s, (0, 0))[1]
                          for s in STAGES if s in stages1}
        result.dedup_decisions = stages1.get("dedup", (0, 0))[0] - stages0.get("dedup", (0, 0))[0]
        burst_lat = latencies(feeder.sent, observer.arrived, idents)
        result.burst_p50_ms = 1000 * percentile(burst_lat, 0.5)
        result.burst_p99_ms = 1000 * percentile(burst_lat, 0.99)
        log(f"{runner.name}: {result.rate:.2f} articles/s over {result.seconds:.1f}s")

        if rate is None and rate_of_burst is not None:
            rate = rate_of_burst * result.rate
        if rate and paced:
            count = min(len(paced), max(1, round(rate * args.paced_seconds)))
            items = paced[:count]
            # No linger: every input leaves at its scheduled time.
            pacer = Feeder(servers, settings.topic_raw, limit, linger_ms=0)
            before = observer.total
            log(f"{runner.name}: paced feed of {count} articles at {rate:.2f}/s")
            result.paced_target = rate
            result.paced_rate = pacer.paced(items, rate)
            pacer.close()
            observer.wait_for(before + count, args.drain_timeout, runner.check)
            lat = latencies(pacer.sent, observer.arrived, [i.ident for i in items])
            result.paced_articles = len(lat)
            result.paced_lost = count - len(lat)
            result.p50_ms = 1000 * percentile(lat, 0.5)
            result.p99_ms = 1000 * percentile(lat, 0.99)
            result.max_ms = 1000 * max(lat) if lat else None
        feeder.close()
    finally:
        if lag is not None:
            lag.close()
        if observer is not None:
            observer.close()
        result.stopped = runner.stop()
        result.load_after = load()
    return result


def isolated(
    make: Any, burst: Sequence[Input], paced: Sequence[Input], rate: float | None,
    args: argparse.Namespace, processes: int, name: str, rate_of_burst: float | None = None,
) -> Run:
    """One implementation on run-unique topics and a fresh temp dir; failures are
    reported in the result, so the other phases still run."""
    rid = run_id()
    tmp = Path(tempfile.mkdtemp(prefix="newswire-stream-"))
    ok = False
    runner: Runner | None = None
    try:
        runner = make(rid, tmp)
        result = measure(runner, burst, paced, rate, args, processes, rate_of_burst)
        ok = True
        return result
    except BenchError as exc:
        log(f"{name} FAILED: {exc}; logs kept in {tmp}")
        return Run(name, processes, error=str(exc))
    finally:
        if runner is not None and not args.keep_topics:
            try:
                delete_run_topics(runner.settings, rid)
            except Exception as exc:  # cleanup must not hide the result
                log(f"could not delete topics of {rid}: {exc}")
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)


# --- the pure limit --------------------------------------------------------------


@dataclass
class Pure:
    articles: int
    seconds: float
    rate: float
    cpu_s: float
    outcomes: dict[str, int]
    load_before: str
    load_after: str


def run_pure(burst: Sequence[Input], settings: Settings) -> Pure:
    config = settings.pipeline_config()
    validate = validator("raw")
    warm_up(config.enrich)
    scratch = InProcessPipeline(validate, config)
    for n, item in enumerate(burst[:3]):
        scratch.run(item.value, Origin(settings.topic_raw, 0, n, item.key))
    pipeline = InProcessPipeline(validate, config)
    outcomes = dict.fromkeys(OUTCOMES, 0)
    before = load()
    cpu0, t0 = time.process_time(), time.perf_counter()
    for n, item in enumerate(burst):
        record = pipeline.run(item.value, Origin(settings.topic_raw, 0, n, item.key))
        outcomes[route_of(record)] += 1
    seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return Pure(len(burst), seconds, len(burst) / seconds, cpu, outcomes, before, load())


# --- report -------------------------------------------------------------------------


def print_pure(p: Pure) -> None:
    print("\n1. limit: pure pipeline (InProcessPipeline.run, this process, no broker)")
    print(table(
        ["articles", "seconds", "articles/s", "CPU ms/article", "articles/CPU-s", "load"],
        [[str(p.articles), f"{p.seconds:.1f}", f"{p.rate:.2f}",
          f"{1000 * p.cpu_s / p.articles:.1f}", f"{p.articles / p.cpu_s:.2f}",
          f"{p.load_before} -> {p.load_after}"]],
    ))
    print("  outcomes: " + ", ".join(f"{k} {v}" for k, v in p.outcomes.items()))


def print_runs(runs: list[Run], pure: Pure | None) -> None:
    print("\n2. end to end through Kafka, same articles and broker (burst: all inputs produced "
          "at once; paced: a fixed rate, the same for all)")
    rows = []
    for r in runs:
        if r.error:
            rows.append([r.name, "FAILED"] + ["-"] * 11)
            continue
        pure_cpu_ms = 1000 * pure.cpu_s / pure.articles if pure else None
        rows.append([
            r.name, str(r.processes), f"{r.rate:.2f}",
            fmt(r.rate / pure.rate if pure else None, ".2f"),
            f"{r.cpu_s / r.seconds:.2f}", f"{r.cpu_per_article_ms:.1f}",
            fmt(pure_cpu_ms / r.cpu_per_article_ms if pure_cpu_ms else None, ".2f"),
            fmt(r.paced_target, ".2f"), fmt(r.paced_rate, ".2f"),
            fmt(r.p50_ms, ".0f"), fmt(r.p99_ms, ".0f"), fmt(r.max_ms, ".0f"),
            f"{r.load_before} -> {r.load_after}",
        ])
    print(table(["implementation", "procs", "burst art/s", "x pure", "cores busy", "CPU ms/art",
                 "x pure CPU", "paced target/s", "paced got/s", "p50 ms", "p99 ms", "max ms",
                 "load"], rows))
    for r in runs:
        if r.error:
            print(f"  {r.name}: FAILED: {r.error.splitlines()[0]}")
            continue
        outcomes = ", ".join(f"{k} {v}" for k, v in r.outcomes.items())
        same = "" if pure is None or r.outcomes == pure.outcomes else " (DIFFERS from pure)"
        print(f"  {r.name}: {r.articles} articles in {r.seconds:.1f}s (produced in "
              f"{r.produce_s:.1f}s), outcomes {outcomes}{same}; burst latency p50 "
              f"{fmt(r.burst_p50_ms, '.0f')} ms p99 {fmt(r.burst_p99_ms, '.0f')} ms; paced "
              f"{r.paced_articles} articles, {r.paced_lost} missing; start {r.startup_s:.1f}s; "
              f"{r.stopped}")
        if r.stage_s:
            stages = ", ".join(f"{s} {v:.1f}s" for s, v in r.stage_s.items())
            print(f"    worker stage time: {stages}; dedup "
                  f"{1000 * r.stage_s.get('dedup', 0) / max(r.dedup_decisions, 1):.2f} ms/decision")


def print_scaling(one: Run | None, two: Run | None) -> None:
    print("\n3. scaling: newswire workers in one group, same burst")
    rows = []
    for r in (one, two):
        if r is None or r.error:
            continue
        lag = ", ".join(f"{t} {n}" for t, n in sorted(r.lag_peak.items()))
        rows.append([r.name, f"{r.rate:.2f}", f"{r.cpu_per_article_ms:.1f}",
                     f"{r.lag_samples}", lag or "-"])
        if r.lag_errors:
            print(f"  {r.name}: lag sampling: {r.lag_errors}")
    if rows:
        print(table(["workers", "art/s", "CPU ms/art", "lag samples",
                     "peak committed lag per topic (messages)"], rows))
    if one and two and not one.error and not two.error:
        print(f"  throughput ratio 2 workers / 1 worker: {two.rate / one.rate:.2f}")


def print_latency(ours: Run | None) -> None:
    print("\n4. latency at 50% of max throughput (newswire worker)")
    if ours is None or ours.error or ours.p99_ms is None:
        print("  not measured")
        return
    verdict = "meets" if ours.p99_ms < 500 else "MISSES"
    print(f"  max (burst) {ours.rate:.2f} art/s; fed {ours.paced_articles} articles at "
          f"{fmt(ours.paced_rate, '.2f')}/s: p50 {ours.p50_ms:.0f} ms, p99 {ours.p99_ms:.0f} ms, "
          f"max {fmt(ours.max_ms, '.0f')} ms ({verdict} the p99 < 500 ms target)")


# --- main --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="bench/stream.py",
        description="newswire streaming performance: the pure limit, the worker end to end, "
        "kafka-python and Quix Streams loops, scaling, latency at half load, memory; "
        "failover (a worker killed, its tables restored by the survivor) only with "
        "--only failover.",
        epilog="Needs a broker: deploy/local-kafka/kafka.sh with .venv/bin/python "
        "bench/stream.py (make bench-stream).",
    )
    p.add_argument("--only", action="append", choices=PHASES + OPT_IN,
                   help="run only these phases (repeatable; default: all but failover, "
                   "which runs only when named here: it takes ~4 minutes or more)")
    p.add_argument("--skip", action="append", choices=PHASES + OPT_IN, default=[],
                   help="skip these phases (repeatable)")
    p.add_argument("-r", "--repeat", type=int, default=4,
                   help="burst: copies of each corpus page (default 4: 408 articles)")
    p.add_argument("--pages", type=int, default=None, help="only the first N corpus pages")
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP"))
    p.add_argument("--partitions", type=int, default=4, help="raw/internal partitions (4)")
    p.add_argument("--paced-seconds", type=float, default=60.0,
                   help="length of each paced feed (default 60)")
    p.add_argument("--paced-pool", type=int, default=6,
                   help="copies of each page set aside for the paced feeds (default 6); a "
                   "feed stops early when they run out")
    p.add_argument("--rate", type=float, default=None,
                   help="paced rate (default: half of the worker's burst rate)")
    p.add_argument("--memory-articles", type=int, default=10_000,
                   help="synthetic articles of the memory run (default 10,000)")
    p.add_argument("--memory-rate", type=float, default=10.0,
                   help="articles/s of the memory feed (default 10; 0: all at once)")
    p.add_argument("--memory-ner", action="store_true",
                   help="keep the NER model in the memory run (default off: ~10x slower)")
    p.add_argument("--memory-event-step", type=float, default=0.0,
                   help="seconds of event time between synthetic articles (default 0: "
                   "nothing expires, the dedup state grows)")
    p.add_argument("--memory-window-days", type=float, default=7.0)
    p.add_argument("--memory-sample-s", type=float, default=2.0)
    p.add_argument("--memory-timeout", type=float, default=3600.0)
    p.add_argument("--failover-rate", type=float, default=10.0,
                   help="failover: articles/s of the paced feed (default 10: short articles, "
                   "NER off, well within one worker's capacity)")
    p.add_argument("--failover-before-s", type=float, default=30.0,
                   help="failover: seconds of feed before the kill (default 30)")
    p.add_argument("--failover-after-s", type=float, default=None,
                   help="failover: seconds of feed after the kill (default: until 60 s "
                   "after the survivor's log says it is ready, at most the session timeout "
                   "+ 960 s)")
    p.add_argument("--failover-session-timeout", type=float, default=None, metavar="S",
                   help="failover: the workers' Faust BROKER_SESSION_TIMEOUT (default: "
                   "Faust's, 60 s, as deployed): how long the group takes to notice the kill")
    p.add_argument("--failover-prefill", type=int, default=0, metavar="N",
                   help="failover: feed N short articles as a backlog first, so the dedup "
                   "changelogs hold their state (default 0)")
    p.add_argument("--failover-catchup", type=float, default=2.0, metavar="X",
                   help="failover: caught up once every later latency is <= X x the p99 "
                   "before the kill (default 2)")
    p.add_argument("--keep-logs", action="store_true",
                   help="keep the workers' logs and state of a successful failover run")
    p.add_argument("--startup-timeout", type=float, default=240.0)
    p.add_argument("--drain-timeout", type=float, default=900.0)
    p.add_argument("--keep-topics", action="store_true")
    p.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    p.add_argument("--processes", type=int, metavar="N",
                   help="offload processes per worker (NEWSWIRE_PROCESSES; default: the "
                        "worker's own default) for the ours and scaling phases")
    p.add_argument("--guarantee", choices=["at_least_once", "exactly_once"],
                   help="the worker's NEWSWIRE_PROCESSING_GUARANTEE (default: its own, "
                        "at_least_once) for the ours and scaling phases")
    p.add_argument("--from-json", type=Path, metavar="IN",
                   help="print the report of a run saved with --json, run nothing")
    return p


def report_from(results: dict[str, Any]) -> None:
    """The report of a saved run, section by section as ``main`` prints it."""
    pure = Pure(**results["pure"]) if "pure" in results else None
    if pure:
        print_pure(pure)
    runs = [Run(**r) for r in results.get("runs", [])]
    if runs:
        print_runs(runs, pure)
    ours = next((r for r in runs if r.name == "newswire worker"), None)
    if "scaling" in results:
        print_scaling(ours, Run(**results["scaling"]))
    if ours:
        print_latency(ours)
    if "memory" in results:
        print_memory(Memory(**results["memory"]))
    if "failover" in results:
        saved = results["failover"]
        for key in ("before_ms", "after_ms"):
            if saved.get(key) is not None:
                saved[key] = tuple(saved[key])
        saved["buckets"] = [tuple(b) for b in saved.get("buckets", [])]
        print_failover(Failover(**saved))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.from_json:
        report_from(orjson.loads(args.from_json.read_bytes()))
        return 0
    phases = [ph for ph in (args.only or PHASES) if ph not in args.skip]
    if not args.bootstrap and phases != ["pure"]:
        raise SystemExit("bench: no broker: run under deploy/local-kafka/kafka.sh with, set "
                         "KAFKA_BOOTSTRAP, or --only pure")
    bootstrap: str = args.bootstrap or ""
    results: dict[str, Any] = {"machine": machine_info(args.bootstrap), "phases": phases}
    info = results["machine"]
    print(f"newswire stream benchmark {info['date']} commit {info['commit']}")
    print(f"machine  {info['cores']} cores, {info['cpu']}, {info['memory']} RAM; load {load()}")
    code = 0
    with sigterm_as_exit():
        burst: list[Input] = []
        paced: list[Input] = []
        if any(ph in phases for ph in ("pure", "ours", "kafka-python", "quix", "scaling")):
            log("building the page workload")
            workload = build_workload(args.corpus, args.repeat + args.paced_pool, args.pages)
            items = [Input(m.key.decode(), m.key, m.value) for m in workload.messages]
            split = workload.pages * args.repeat
            burst, paced = items[:split], items[split:]
            print(f"articles {len(burst)} burst = {workload.pages} pages x {args.repeat}, "
                  f"{sum(len(i.value) for i in burst) / 2**20:.1f} MiB; paced pool {len(paced)}")
        pure = None
        if "pure" in phases:
            log("pure pipeline")
            pure = run_pure(burst, Settings())
            results["pure"] = asdict(pure)
            print_pure(pure)
            sys.stdout.flush()
        runs: list[Run] = []
        ours = None
        rate = args.rate
        offload = args.processes if args.processes is not None else Settings().processes
        procs = offload + 1
        worker_env = {"NEWSWIRE_PROCESSES": str(offload)}
        results["processes"] = offload
        if args.guarantee:
            worker_env["NEWSWIRE_PROCESSING_GUARANTEE"] = args.guarantee
            results["guarantee"] = args.guarantee
        if "ours" in phases:
            # Paced at half of its own burst rate (unless --rate), which the
            # alternatives are then fed at too: latencies compare at one load.
            ours = isolated(
                lambda rid, tmp: Workers(1, bootstrap, rid, args.partitions, tmp, worker_env),
                burst, paced, args.rate, args, procs, "newswire worker",
                rate_of_burst=0.5,
            )
            runs.append(ours)
            if rate is None and not ours.error:
                rate = ours.paced_target
        for kind in ("kafka-python", "quix"):
            if kind in phases:
                runs.append(isolated(
                    lambda rid, tmp, k=kind: Loop(k, bootstrap, rid, args.partitions, tmp),
                    burst, paced, rate, args, 1, kind,
                ))
        if runs:
            print_runs(runs, pure)
            results["runs"] = [asdict(r) for r in runs]
            sys.stdout.flush()
        if "scaling" in phases:
            two = isolated(
                lambda rid, tmp: Workers(2, bootstrap, rid, args.partitions, tmp, worker_env),
                burst, [], None, args, 2 * procs, "newswire worker x2",
            )
            results["scaling"] = asdict(two)
            print_scaling(ours, two)
            sys.stdout.flush()
        if "ours" in phases:
            print_latency(ours)
        if "memory" in phases:
            mem = run_memory(bootstrap, args)
            results["memory"] = asdict(mem)
            print_memory(mem)
            code |= 1 if mem.error else 0
        if "failover" in phases:
            fo = run_failover(bootstrap, args)
            results["failover"] = asdict(fo)
            print_failover(fo)
            # An input without an output is a loss: the run fails (a loop can count it).
            code |= 1 if fo.error or fo.answered < fo.inputs else 0
        code |= 1 if any(r.error for r in runs) else 0
    print(f"\nload at end {load()}")
    if args.json:
        args.json.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2
                                           | orjson.OPT_SERIALIZE_NUMPY) + b"\n")
        log(f"results written to {args.json}")
    return code


if __name__ == "__main__":
    sys.exit(main())
