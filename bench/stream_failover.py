"""Phase "failover" of bench/stream.py: how long a survivor takes over from a killed worker.

The worker runs without standby replicas (worker/app.py, README "No standby
replicas"): when one of two workers dies, the survivor rebuilds the tables of
the partitions it inherits from their changelogs before it processes them. For
the dedup sequencer that is its four tables (one partition each; it then
rebuilds the local LSH bands from them) and, for the by-source partitions it
inherits, the learned-boilerplate table.

Two workers of one group start on fresh topics (NER off). Optionally
``--failover-prefill`` short synthetic articles are fed first as one backlog,
so the sequencer's changelogs hold that much state. Then short articles are
fed at ``--failover-rate`` for ``--failover-before-s``, the worker holding the
sequencer (the one whose dedup stage decided during that feed) is SIGKILLed
with its whole process group (no commit, no leaving the group: a crash), and
the feed goes on at the same rate for ``--failover-after-s`` (by default until
60 s after the survivor's log says "Worker ready" for the takeover); then
everything is drained.

The group notices a SIGKILLed member only when its session expires (Faust's
``broker_session_timeout``, 60 s by default; ``--failover-session-timeout``
sets BROKER_SESSION_TIMEOUT for both workers). From the survivor's own log
(INFO) the takeover is split into detection (kill -> "Revoking previously
assigned partitions"), restore ("Restoring state from changelog topics" ->
"Done reading from changelog topics") and resume (-> "Worker ready"). From the
outputs: kill -> first output of an input sent after the kill, and kill -> the
point from which every later input's latency stays under ``--failover-catchup``
x the p99 before the kill (caught up). Latency is output receipt minus input
send (bench/stream_kafka.py). Inputs are accounted for: each must have an
output on enriched, duplicates or deadletter; at-least-once may repeat one.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.run import fetch_metrics, run_id, stage_seconds
from bench.stream_feed import synthetic_feed
from bench.stream_kafka import Feeder, Input, Observer, percentile
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

FAUST_DEFAULT_SESSION_TIMEOUT_S = 60.0
READY_TAIL_S = 60.0  # feed after the survivor is ready (default --failover-after-s)
MAX_RESTORE_S = 900.0  # cap on the feed's wait for it

# Lines of the survivor's log that mark the takeover, in the order they come.
MARKERS = {
    "rebalance": "Revoking previously assigned partitions",
    "assigned": "Setting newly assigned partitions",
    "restore_start": "Restoring state from changelog topics",
    "restore_done": "Done reading from changelog topics",
    "ready": "Worker ready",
}


@dataclass
class Failover:
    rate: float
    before_s: float
    after_s: float
    prefill: int
    session_timeout_s: float
    catchup_factor: float
    prefill_s: float = 0.0
    sent_before: int = 0
    sent_after: int = 0
    # Seconds after the kill, from the survivor's log (first occurrence of each
    # marker after the kill; the restore and ready markers after the rebalance).
    marks: dict[str, float] = field(default_factory=dict)
    rebalances: int = 0
    first_output_s: float | None = None
    caught_up_s: float | None = None
    threshold_ms: float | None = None
    before_ms: tuple[float, float, float] | None = None  # p50, p99, max
    after_ms: tuple[float, float, float] | None = None
    answered_before: int = 0  # sent and answered before the kill
    in_flight: int = 0  # sent before the kill, answered after it
    in_flight_max_ms: float | None = None
    buckets: list[tuple[float, int, int, float, float]] = field(default_factory=list)
    inputs: int = 0
    answered: int = 0
    repeats: int = 0
    repeated_inputs: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    # Changelog topic -> records in it at the kill (end - beginning offset, all partitions).
    changelogs: dict[str, int] = field(default_factory=dict)
    # Changelog topic -> records the survivor's recovery planned to read (Faust's
    # highwater - start offset for the active partitions it was assigned).
    read_plan: dict[str, int] = field(default_factory=dict)
    killed: str = ""
    survivor_log: str = ""
    load_before: str = ""
    load_after: str = ""
    error: str | None = None


# --- the survivor's log ------------------------------------------------------------

_LINE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\] \[\d+\] \[\w+\] (.*)$")


def log_events(text: str) -> list[tuple[float, str]]:
    """(epoch seconds, message) per log record of the worker's text format
    (worker/logs.py); lines without a timestamp (Faust's log tables) are joined
    to the record before them. Timestamps are local time, as the worker wrote them."""
    events: list[tuple[float, str]] = []
    for line in text.splitlines():
        m = _LINE.match(line)
        if m:
            ts = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            events.append((ts, m.group(2)))
        elif events:
            ts, message = events[-1]
            events[-1] = (ts, f"{message}\n{line}")
    return events


def takeover_marks(
    events: Sequence[tuple[float, str]], since: float
) -> tuple[dict[str, float], int]:
    """Seconds after ``since`` of each takeover marker, and how many rebalances the
    log shows after it. Each marker is taken at its first occurrence after the one
    before it in MARKERS, so a start-up "Worker ready" cannot stand in for the
    takeover's."""
    marks: dict[str, float] = {}
    after = since
    for name, text in MARKERS.items():
        hit = next((ts for ts, msg in events if ts >= after and text in msg), None)
        if hit is None:
            break
        marks[name] = hit - since
        after = hit
    rebalances = sum(1 for ts, msg in events if ts >= since and MARKERS["rebalance"] in msg)
    return marks, rebalances


def _table_rows(message: str) -> dict[tuple[str, int], int]:
    """Faust's log table (topic | partition | offset) as {(topic, partition): offset};
    a ditto mark repeats the topic above."""
    rows: dict[tuple[str, int], int] = {}
    topic = ""
    for line in message.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not line.lstrip().startswith("|"):
            continue
        name, part, value = cells
        if not part.isdigit() or not value.lstrip("-").isdigit():
            continue  # the header row
        topic = topic if name in ("〃", '"') else name
        rows[(topic, int(part))] = int(value)
    return rows


def read_plan(events: Sequence[tuple[float, str]], since: float) -> dict[str, int]:
    """Changelog records the survivor's first recovery after ``since`` set out to read
    for its active tables: per topic, the sum over partitions of highwater - start
    (both as Faust logs them, before "Restoring state from changelog topics")."""
    start_at = next((ts for ts, msg in events
                     if ts >= since and MARKERS["restore_start"] in msg), None)
    if start_at is None:
        return {}
    window = [msg for ts, msg in events if since <= ts <= start_at]
    highwaters = next((_table_rows(m) for m in reversed(window)
                       if "Highwater for active" in m), {})
    starts = next((_table_rows(m) for m in reversed(window)
                   if "offsets at start of reading" in m and "Active" in m), {})
    plan: dict[str, int] = {}
    for tp, high in highwaters.items():
        todo = max(high - starts.get(tp, -1), 0)
        plan[tp[0]] = plan.get(tp[0], 0) + todo
    return plan


# --- latencies -----------------------------------------------------------------------


def caught_up(points: Sequence[tuple[float, float]], threshold_s: float) -> int | None:
    """Index of the first (sent, arrived) point, in send order, from which every
    later point's latency is at most ``threshold_s``; None if the last one is above
    it (or there are none)."""
    first: int | None = None
    for n in range(len(points) - 1, -1, -1):
        sent, arrived = points[n]
        if arrived - sent > threshold_s:
            break
        first = n
    return first


def spread(values: Sequence[float]) -> tuple[float, float, float] | None:
    """p50, p99, max in milliseconds."""
    if not values:
        return None
    return (1000 * percentile(values, 0.5), 1000 * percentile(values, 0.99), 1000 * max(values))


def buckets(
    sent: dict[str, float], arrived: dict[str, float], idents: Iterable[str], zero: float,
    width_s: float = 10.0,
) -> list[tuple[float, int, int, float, float]]:
    """Per ``width_s`` of send time relative to ``zero``: (start, sent, answered,
    p50 ms, max ms)."""
    groups: dict[int, list[float | None]] = {}
    for ident in idents:
        k = int((sent[ident] - zero) // width_s)
        got = arrived.get(ident)
        groups.setdefault(k, []).append(None if got is None else got - sent[ident])
    out = []
    for k in sorted(groups):
        lat = [v for v in groups[k] if v is not None]
        out.append((k * width_s, len(groups[k]), len(lat),
                    1000 * statistics.median(lat) if lat else float("nan"),
                    1000 * max(lat) if lat else float("nan")))
    return out


# --- Kafka ---------------------------------------------------------------------------


def changelog_records(servers: list[str], rid: str) -> dict[str, int]:
    """Records per changelog topic of the run (end - beginning offset, all partitions)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=servers, group_id=None)
    try:
        topics = sorted(t for t in consumer.topics()
                        if t.startswith(rid) and t.endswith("-changelog"))
        tps = [TopicPartition(t, p) for t in topics
               for p in sorted(consumer.partitions_for_topic(t) or ())]
        begin, end = consumer.beginning_offsets(tps), consumer.end_offsets(tps)
        out: dict[str, int] = {}
        for tp in tps:
            out[tp.topic] = out.get(tp.topic, 0) + end[tp] - begin[tp]
        return out
    finally:
        consumer.close()


def decisions(port: int) -> float:
    """Decisions the dedup stage of the worker on ``port`` has made (0 if it holds none)."""
    return stage_seconds(fetch_metrics(port) or "").get("dedup", (0.0, 0.0))[0]


# --- the run ---------------------------------------------------------------------------


def run_failover(bootstrap: str, args: argparse.Namespace) -> Failover:
    session = args.failover_session_timeout or FAUST_DEFAULT_SESSION_TIMEOUT_S
    # Without --failover-after-s the feed goes on until the survivor has been ready
    # for READY_TAIL_S (its log says "Worker ready" after the takeover), at most this:
    after_s = (args.failover_after_s if args.failover_after_s is not None
               else session + MAX_RESTORE_S + READY_TAIL_S)
    rate = args.failover_rate
    res = Failover(rate, args.failover_before_s, after_s, args.failover_prefill, session,
                   args.failover_catchup, load_before=load())
    n_before = round(rate * args.failover_before_s)
    n_after = round(rate * after_s)
    log(f"failover: generating {args.failover_prefill + n_before + n_after} synthetic articles")
    feed = [Input(k.decode(), k, v)
            for k, v in synthetic_feed(args.failover_prefill + n_before + n_after, seed=31)]
    prefill = feed[:args.failover_prefill]
    before = feed[args.failover_prefill:args.failover_prefill + n_before]
    after = feed[args.failover_prefill + n_before:]
    # "," parses to no language=model pair: enrichment without the NER model.
    extra = {"NEWSWIRE_NER_MODELS": ","}
    if args.failover_session_timeout:
        extra["BROKER_SESSION_TIMEOUT"] = f"{args.failover_session_timeout:g}"
    if args.processes is not None:
        extra["NEWSWIRE_PROCESSES"] = str(args.processes)
    rid = run_id()
    tmp = Path(tempfile.mkdtemp(prefix="newswire-stream-failover-"))
    workers = Workers(2, bootstrap, rid, args.partitions, tmp, extra)
    settings = workers.settings
    servers = settings.bootstrap_servers
    limit = deadletter_limit(settings.max_message_bytes)
    ensure_topics(settings)
    observer: Observer | None = None
    ok = False
    try:
        workers.start()
        workers.wait_ready(args.startup_timeout)
        observer = Observer(servers, output_roles(settings), limit)
        feeder = Feeder(servers, settings.topic_raw, limit, linger_ms=20)
        send_warm_up(feeder, observer, args.startup_timeout, workers.check)
        if prefill:
            log(f"failover: prefill of {len(prefill)} articles as one backlog")
            t0 = time.monotonic()
            feeder.burst(prefill)
            if not observer.wait_for(1 + len(prefill), args.drain_timeout, workers.check):
                raise BenchError(f"prefill: only {observer.total - 1} of {len(prefill)} "
                                 f"outputs within {args.drain_timeout:.0f}s")
            res.prefill_s = time.monotonic() - t0
            log(f"failover: prefill done in {res.prefill_s:.0f}s")
        feeder.close()

        counts0 = [decisions(p) for p in workers.ports]
        pacer = Feeder(servers, settings.topic_raw, limit, linger_ms=0)
        log(f"failover: {len(before)} articles at {rate:g}/s before the kill")
        pacer.paced(before, rate)
        workers.check()
        counts1 = [decisions(p) for p in workers.ports]
        grew = [c1 - c0 for c0, c1 in zip(counts0, counts1, strict=True)]
        if sum(1 for g in grew if g > 0) != 1:
            raise BenchError(f"cannot tell which worker holds the sequencer: decisions "
                             f"during the feed {grew}")
        dead = next(i for i, g in enumerate(grew) if g > 0)
        alive = 1 - dead
        victim = workers.procs[dead].proc
        assert victim is not None
        kill_at = time.time()
        # Its own session (start_new_session): the group is the worker and its pool.
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(30)
        res.killed = f"worker{dead} (pid {victim.pid}, {grew[dead]:.0f} decisions in the feed)"
        log(f"failover: killed {res.killed}; feeding " + (
            f"{len(after)} more over {after_s:.0f}s" if args.failover_after_s is not None
            else f"until {READY_TAIL_S:.0f}s after the survivor is ready"))
        try:
            res.changelogs = changelog_records(servers, rid)
        except Exception as exc:  # a number lost to a busy broker is no failed run
            log(f"failover: changelog offsets not read: {exc!r}")
        survivor = workers.procs[alive]

        def check() -> None:
            try:
                survivor.check_alive()
            except Exception as exc:
                raise BenchError(f"the survivor died: {exc}") from None

        ready_seen: list[float] = []
        last_look = [0.0]

        def enough() -> bool:
            """True READY_TAIL_S after the survivor's takeover "Worker ready"."""
            if args.failover_after_s is not None:
                return False
            now = time.time()
            if not ready_seen and now - last_look[0] >= 1.0:
                last_look[0] = now
                text = survivor.log_path.read_text(errors="replace")
                marks, _ = takeover_marks(log_events(text), kill_at)
                if "ready" in marks:
                    ready_seen.append(kill_at + marks["ready"])
            return bool(ready_seen) and now >= ready_seen[0] + READY_TAIL_S

        pacer.paced(after, rate, until=enough)
        pacer.close()
        after = [i for i in after if i.ident in pacer.sent]
        res.after_s = max((pacer.sent[i.ident] for i in after), default=kill_at) - kill_at
        check()
        log("failover: draining")
        timed = before + after
        everything = prefill + timed
        deadline = time.monotonic() + args.drain_timeout
        while True:
            arrived_so_far = observer.answers()[0]  # once a round: a copy of every answer
            if all(i.ident in arrived_so_far for i in everything):
                break
            check()
            if time.monotonic() > deadline:
                log("failover: drain timeout; some inputs have no output")
                break
            time.sleep(1.0)
        time.sleep(5.0)  # late repeats
        sent = {**feeder.sent, **pacer.sent}
        arrived, outputs = observer.answers()

        res.sent_before, res.sent_after = len(before), len(after)
        res.inputs = len(everything)
        res.answered = sum(1 for i in everything if i.ident in arrived)
        res.repeats = sum(max(outputs.get(i.ident, 0) - 1, 0) for i in everything)
        res.repeated_inputs = sum(1 for i in everything if outputs.get(i.ident, 0) > 1)
        res.outcomes = observer.snapshot()

        pre = [arrived[i.ident] - sent[i.ident] for i in before
               if arrived.get(i.ident, kill_at + 1) < kill_at]
        flying = [arrived[i.ident] - sent[i.ident] for i in before
                  if arrived.get(i.ident, 0) >= kill_at]
        post_points = [(sent[i.ident], arrived[i.ident]) for i in after if i.ident in arrived]
        res.answered_before = len(pre)
        res.before_ms = spread(pre)
        res.after_ms = spread([a - s for s, a in post_points])
        res.in_flight = len(flying)
        res.in_flight_max_ms = 1000 * max(flying) if flying else None
        if post_points:
            res.first_output_s = min(a for _, a in post_points) - kill_at
        if res.before_ms is not None:
            threshold = args.failover_catchup * res.before_ms[1] / 1000
            res.threshold_ms = 1000 * threshold
            n = caught_up(post_points, threshold)
            if n is not None:
                res.caught_up_s = post_points[n][1] - kill_at
        res.buckets = buckets(sent, arrived, [i.ident for i in timed], kill_at)

        res.survivor_log = str(survivor.log_path)
        events = log_events(survivor.log_path.read_text(errors="replace"))
        res.marks, res.rebalances = takeover_marks(events, kill_at)
        res.read_plan = read_plan(events, kill_at)
        ok = True
    except BenchError as exc:
        res.error = str(exc)
        log(f"failover FAILED: {exc}; logs kept in {tmp}")
    finally:
        tear_down("failover", workers, observer, rid, args.keep_topics, tmp,
                  remove_tmp=ok and not args.keep_logs)
        res.load_after = load()
    # Topic names without the run id: they read as the deployment's.
    res.changelogs = {k.removeprefix(f"{rid}-"): v for k, v in res.changelogs.items()}
    res.read_plan = {k.removeprefix(f"{rid}-"): v for k, v in res.read_plan.items()}
    return res


# --- report --------------------------------------------------------------------------


def _ms(values: Sequence[float] | None) -> str:
    if values is None:
        return "-"
    return " / ".join(f"{v:.0f}" for v in values)


def print_failover(f: Failover) -> None:
    print(f"\n6. failover: two workers, the one holding the dedup sequencer SIGKILLed; short "
          f"synthetic articles, NER off, {f.rate:g}/s for {f.before_s:g}s before the kill and "
          f"{f.after_s:.0f}s after; session timeout {f.session_timeout_s:g}s; prefill "
          f"{f.prefill} articles" + (f" ({f.prefill_s:.0f}s)" if f.prefill else ""))
    if f.error:
        print(f"  FAILED: {f.error}")
    if not f.inputs:
        return
    print(f"  killed {f.killed}")
    marks = ", ".join(f"{name} +{s:.1f}s" for name, s in f.marks.items()) or "none found"
    print(f"  survivor's log after the kill: {marks}; {f.rebalances} rebalance(s)")
    m = f.marks
    if "rebalance" in m and "restore_start" in m and "restore_done" in m and "ready" in m:
        print(f"  detection (kill -> rebalance) {m['rebalance']:.1f}s, assignment and restore "
              f"planning {m['restore_start'] - m['rebalance']:.1f}s, reading changelogs "
              f"{m['restore_done'] - m['restore_start']:.1f}s, resume "
              f"{m['ready'] - m['restore_done']:.1f}s")
    print(f"  kill -> first output of an input sent after the kill: "
          f"{fmt(f.first_output_s)}s; caught up (every later latency <= "
          f"{f.catchup_factor:g} x p99 before = {fmt(f.threshold_ms, '.0f')} ms): "
          f"{fmt(f.caught_up_s)}s" + ("" if f.caught_up_s is not None else " (not caught up)"))
    print(table(["inputs", "count", "p50 / p99 / max ms"], [
        ["sent and answered before the kill", str(f.answered_before),
         _ms(f.before_ms)],
        ["in flight at the kill", str(f.in_flight),
         f"max {fmt(f.in_flight_max_ms, '.0f')}"],
        [f"sent in the {f.after_s:.0f}s after the kill", str(f.sent_after), _ms(f.after_ms)],
    ]))
    print(table(["sent at s (kill = 0)", "sent", "answered", "p50 ms", "max ms"],
                [[f"{s:+.0f}", str(n), str(a), fmt(p50, ".0f"), fmt(mx, ".0f")]
                 for s, n, a, p50, mx in f.buckets]))
    print(f"  accounted for: {f.answered} of {f.inputs} inputs have an output; {f.repeats} "
          f"repeated outputs over {f.repeated_inputs} inputs; outcomes "
          + ", ".join(f"{k} {v}" for k, v in f.outcomes.items()) + " (with the warm-up)")
    rows = [[t, str(n), str(f.read_plan[t]) if t in f.read_plan else "-"]
            for t, n in sorted(f.changelogs.items())]
    rows += [[t, "-", str(n)] for t, n in sorted(f.read_plan.items()) if t not in f.changelogs]
    if rows:
        print(table(["changelog", "records at the kill", "survivor read (its partitions)"], rows))
        dedup = sum(n for t, n in f.changelogs.items() if t.startswith("dedup-"))
        print(f"  dedup changelogs: {dedup} records in all")
    print(f"  load {f.load_before} -> {f.load_after}")
