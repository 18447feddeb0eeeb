"""Where the worker's main process spends its CPU: py-spy on a running worker.

    deploy/local-kafka/kafka.sh with .venv/bin/python -m bench.stream_profile [flags]

Starts one ``newswire worker`` (as bench/stream.py does), feeds it short
synthetic articles (bench/stream_feed.py) or the corpus pages at a fixed rate,
and samples its main process with py-spy (``--py-spy``, a separate install:
``pip install py-spy`` anywhere; it is not a dependency of newswire) while the
feed runs. Prints the CPU seconds per article of the main process and of the
pool, and the functions that hold the most samples (self and inclusive), by
module; the raw collapsed stacks are kept for flame graphs.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import DEFAULT_CORPUS, build_workload, delete_run_topics, run_id, warmup_message
from bench.stream_feed import synthetic_feed
from bench.stream_kafka import Feeder, Input, Observer, ProcTree
from bench.stream_runners import BenchError, Workers, load, log
from worker.topics import deadletter_limit, ensure_topics


def _frame_label(frame: str) -> str:
    # py-spy's collapsed frames read "function (path/to/module.py:line)".
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "lib/python3.11/", "/worker/", "/bench/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


def summarise(collapsed: Path, top: int) -> str:
    """Self and inclusive sample shares per function from py-spy's collapsed output."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    by_thread: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        by_thread[frames[0]] += count
        labels = [_frame_label(f) for f in frames[1:]] or [frames[0]]
        own[labels[-1]] += count
        for label in set(labels):
            inclusive[label] += count
    if not total:
        return "  no samples"
    lines = [f"  {total} samples"]
    lines.append("  per thread:")
    lines += [f"    {100 * n / total:5.1f}%  {t}" for t, n in by_thread.most_common(8)]
    lines.append("  self (where the CPU was when sampled):")
    lines += [f"    {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    lines.append("  inclusive (the function or anything it called):")
    lines += [f"    {100 * n / total:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/stream_profile.py", description=__doc__.split("\n")[0])
    p.add_argument("--bootstrap", default=None, help="host:port (default: $KAFKA_BOOTSTRAP)")
    p.add_argument("--feed", choices=("short", "pages"), default="short",
                   help="short synthetic articles (NER off) or the corpus pages (NER on)")
    p.add_argument("--articles", type=int, default=2000)
    p.add_argument("--rate", type=float, default=15.0, help="articles/s (0: one burst)")
    p.add_argument("--partitions", type=int, default=4)
    p.add_argument("--py-spy", default="py-spy", help="py-spy executable ('' to run without)")
    p.add_argument("--sample-rate", type=int, default=100, help="py-spy samples/s")
    p.add_argument("--out", type=Path, default=Path("profile-main.txt"),
                   help="collapsed stacks of the main process (py-spy --format raw)")
    p.add_argument("--top", type=int, default=40)
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment of the worker (repeatable)")
    p.add_argument("--timeout", type=float, default=1800.0)
    args = p.parse_args(argv)
    import os

    bootstrap = args.bootstrap or os.environ.get("KAFKA_BOOTSTRAP")
    if not bootstrap:
        raise SystemExit("no broker: run under deploy/local-kafka/kafka.sh with")
    extra = dict(kv.split("=", 1) for kv in args.env)
    if args.feed == "short":
        extra.setdefault("NEWSWIRE_NER_MODELS", ",")
        items = [Input(k.decode(), k, v) for k, v in synthetic_feed(args.articles)]
    else:
        workload = build_workload(DEFAULT_CORPUS, max(1, -(-args.articles // 102)), None)
        items = [Input(m.key.decode(), m.key, m.value)
                 for m in workload.messages[: args.articles]]
    rid = run_id()
    tmp = Path(tempfile.mkdtemp(prefix="newswire-profile-"))
    workers = Workers(1, bootstrap, rid, args.partitions, tmp, extra)
    settings = workers.settings
    limit = deadletter_limit(settings.max_message_bytes)
    ensure_topics(settings)
    observer: Observer | None = None
    spy: subprocess.Popen[bytes] | None = None
    try:
        workers.start()
        workers.wait_ready(240)
        roles = {settings.topic_enriched: "enriched", settings.topic_duplicates: "duplicates",
                 settings.topic_deadletter: "deadletter"}
        observer = Observer(settings.bootstrap_servers, roles, limit)
        feeder = Feeder(settings.bootstrap_servers, settings.topic_raw, limit,
                        linger_ms=0 if args.rate else 5)
        warm = warmup_message()
        feeder.burst([Input("warm-up", warm.key, warm.value)])
        if not observer.wait_for(1, 240, workers.check):
            raise BenchError("the warm-up article did not come out")
        main_pid = workers.pids()[0]
        tree = ProcTree([main_pid])
        if args.py_spy:
            spy = subprocess.Popen(
                [args.py_spy, "record", "--pid", str(main_pid), "--rate", str(args.sample_rate),
                 "--format", "raw", "--output", str(args.out), "--threads", "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )
        base = observer.total
        load_before = load()
        cpu0, t0 = tree.cpu_by_pid(), time.monotonic()
        sender = threading.Thread(
            target=feeder.paced if args.rate else feeder.burst,
            args=(items, args.rate) if args.rate else (items,), daemon=True)
        sender.start()
        if not observer.wait_for(base + len(items), args.timeout, workers.check):
            raise BenchError(f"only {observer.total - base} of {len(items)} outputs")
        seconds = time.monotonic() - t0
        cpu1 = tree.cpu_by_pid()
        sender.join(30)
        used = {pid: cpu1[pid] - cpu0.get(pid, 0.0) for pid in cpu1}
        main_ms = 1000 * used.pop(main_pid, 0.0) / len(items)
        pool_ms = 1000 * sum(used.values()) / len(items)
        lat = sorted(observer.arrived[i.ident] - feeder.sent[i.ident]
                     for i in items if i.ident in observer.arrived)
        feeder.close()
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        print(f"{len(items)} {args.feed} articles at {args.rate or 'burst'}/s in {seconds:.1f}s; "
              f"outcomes {observer.snapshot()}; load {load_before} -> {load()}")
        print(f"CPU per article: main process {main_ms:.1f} ms, pool {pool_ms:.1f} ms")
        if lat:
            print(f"latency p50 {1000 * lat[len(lat) // 2]:.0f} ms, "
                  f"p99 {1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))]:.0f} ms, "
                  f"max {1000 * lat[-1]:.0f} ms")
        if spy is not None and args.out.exists():
            print(f"py-spy profile of the main process ({args.out}):")
            print(summarise(args.out, args.top))
        return 0
    except BenchError as exc:
        log(f"FAILED: {exc}; logs in {tmp}")
        return 1
    finally:
        if spy is not None and spy.poll() is None:
            spy.kill()
        if observer is not None:
            observer.close()
        log(f"worker {workers.stop()}")
        try:
            delete_run_topics(settings, rid)
        except Exception as exc:
            log(f"could not delete topics of {rid}: {exc}")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
