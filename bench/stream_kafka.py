"""Broker-side instruments of bench/stream.py: feeding, observing, lag, CPU and RSS.

Every implementation under test (the newswire worker, a kafka-python loop, a
Quix Streams app) reads one raw topic and writes the same three output topics;
what is measured here is identical for all of them:

- ``Feeder`` produces inputs with kafka-python and remembers when each was sent
  (wall clock, just before ``send``), all at once or at a fixed rate;
- ``Observer`` reads the output topics from their start in a thread and notes
  when each output arrived (wall clock at receipt) and which input it answers
  (the URL in the record, or the key of a dead letter, which is the input key);
- ``LagSampler`` reads the consumer group's committed offsets once a second;
- ``ProcTree`` sums CPU seconds and RSS over a process and its children (the
  worker's process pool, librdkafka threads are in the process itself).

End-to-end latency is receipt minus send: the output record's own timestamp
would do for the worker, but Quix Streams copies the input's timestamp onto its
outputs, so only the receipt time means the same thing for all three.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.run import assign_from_beginning

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True, slots=True)
class Input:
    ident: str  # the URL: unique per input, and carried by every output
    key: bytes
    value: bytes


# --- processes ------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: split after the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out.setdefault(ppid, []).append(int(entry.name))
    return out


class ProcTree:
    """A set of root processes and all their descendants, looked up on each call
    (the worker's pool children start after the worker)."""

    def __init__(self, roots: Sequence[int]) -> None:
        self.roots = list(roots)

    def pids(self) -> list[int]:
        children = _children()
        seen: list[int] = []
        todo = list(self.roots)
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.append(pid)
            todo.extend(children.get(pid, []))
        return seen

    def cpu_seconds(self) -> float:
        return sum(self.cpu_by_pid().values())

    def cpu_by_pid(self) -> dict[int, float]:
        """pid -> CPU seconds (user + system) so far."""
        out: dict[int, float] = {}
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[pid] = (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
        return out

    def rss(self) -> dict[int, int]:
        """pid -> resident bytes."""
        out: dict[int, int] = {}
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        out[pid] = int(line.split()[1]) * 1024
            except OSError:
                continue
        return out


# --- producing --------------------------------------------------------------------


class Feeder:
    """kafka-python producer (with the crc32c package installed, its checksums are
    native) that records the send time of every input."""

    def __init__(self, bootstrap: list[str], topic: str, limit_bytes: int, linger_ms: int) -> None:
        from kafka import KafkaProducer

        self.topic = topic
        self.producer = KafkaProducer(
            bootstrap_servers=bootstrap, acks="all", linger_ms=linger_ms,
            max_request_size=limit_bytes,
        )
        self.sent: dict[str, float] = {}
        self.failed = 0

    def _send(self, item: Input) -> None:
        self.sent[item.ident] = time.time()
        future = self.producer.send(self.topic, key=item.key, value=item.value)
        future.add_errback(self._on_error)

    def _on_error(self, exc: BaseException) -> None:
        self.failed += 1

    def burst(self, items: Sequence[Input]) -> float:
        """Send everything now; returns the seconds until the broker acknowledged all."""
        started = time.perf_counter()
        for item in items:
            self._send(item)
        self.producer.flush()
        return time.perf_counter() - started

    def paced(
        self, items: Sequence[Input], rate: float, until: Callable[[], bool] | None = None
    ) -> float:
        """Send ``items`` at ``rate`` per second on a fixed schedule (a late send does
        not shift the ones after it), or until ``until()`` says stop (asked before
        each send); returns the achieved rate."""
        started = time.perf_counter()
        for n, item in enumerate(items):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            if until is not None and until():
                items = items[:n]
                break
            self._send(item)
        last_send = time.perf_counter()
        self.producer.flush()
        # n sends span n - 1 intervals.
        return (len(items) - 1) / max(last_send - started, 1e-9) if len(items) > 1 else rate

    def close(self) -> None:
        self.producer.close()


# --- observing --------------------------------------------------------------------


class Observer:
    """Reads the output topics in a background thread. With ``track`` it decodes
    each record to find the input it answers; without, it only counts."""

    def __init__(
        self, bootstrap: list[str], roles: dict[str, str], limit_bytes: int, track: bool = True
    ) -> None:
        from kafka import KafkaConsumer

        self.roles = roles
        self.track = track
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
            fetch_max_wait_ms=20, max_partition_fetch_bytes=max(4 << 20, limit_bytes),
            fetch_max_bytes=64 << 20, check_crcs=False,
            # What a downstream consumer sees: in exactly-once mode an output
            # counts once its transaction commits (no difference without one).
            isolation_level="read_committed",
        )
        assign_from_beginning(self.consumer, list(roles), timeout_s=60)
        self.counts: dict[str, int] = dict.fromkeys(roles.values(), 0)
        self.arrived: dict[str, float] = {}
        # Outputs per input: more than one is a repeat (at-least-once re-processing).
        self.outputs: dict[str, int] = {}
        self.unmatched = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="observer", daemon=True)
        self._thread.start()

    def _ident(self, role: str, key: bytes | None, value: bytes) -> str | None:
        if role == "deadletter":
            return key.decode("utf-8", "replace") if key is not None else None
        url = orjson.loads(value).get("url")
        return url if isinstance(url, str) else None

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self.consumer.poll(timeout_ms=100)
            now = time.time()
            with self._lock:
                for tp, records in batch.items():
                    role = self.roles[tp.topic]
                    self.counts[role] += len(records)
                    if not self.track:
                        continue
                    for record in records:
                        ident = self._ident(role, record.key, record.value)
                        if ident is None:
                            self.unmatched += 1
                        else:
                            self.arrived.setdefault(ident, now)
                            self.outputs[ident] = self.outputs.get(ident, 0) + 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.counts.values())

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)

    def answers(self) -> tuple[dict[str, float], dict[str, int]]:
        """Copies of (input -> first receipt time, input -> outputs so far)."""
        with self._lock:
            return dict(self.arrived), dict(self.outputs)

    def wait_for(
        self, total: int, timeout_s: float, check: Callable[[], None] | None = None
    ) -> bool:
        deadline = time.monotonic() + timeout_s
        while self.total < total:
            if check is not None:
                check()
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.consumer.close()


# --- consumer-group lag -------------------------------------------------------------


@dataclass
class LagSeries:
    samples: list[tuple[float, dict[str, int]]] = field(default_factory=list)

    def peak(self) -> tuple[int, dict[str, int]]:
        if not self.samples:
            return 0, {}
        _, worst = max(self.samples, key=lambda s: sum(s[1].values()))
        return sum(worst.values()), worst


class LagSampler:
    """Committed-offset lag of one consumer group, per topic, once a second.
    It is what an operator's lag alert sees: commits come every few seconds, so
    it overstates the true backlog by up to one commit interval of input."""

    def __init__(self, bootstrap: list[str], group: str, interval_s: float = 1.0) -> None:
        from kafka import KafkaAdminClient, KafkaConsumer

        self.group = group
        self.interval_s = interval_s
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
        self.series = LagSeries()
        self.errors = 0
        self.last_error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> dict[str, int]:
        committed = self.admin.list_group_offsets(self.group).get(self.group, {})
        if not committed:
            return {}
        ends = self.consumer.end_offsets(list(committed))
        lag: dict[str, int] = {}
        for tp, meta in committed.items():
            if meta.offset >= 0:
                end = ends.get(tp)
                if end is not None:
                    lag[tp.topic] = lag.get(tp.topic, 0) + max(end - meta.offset, 0)
        return lag

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.series.samples.append((time.time(), self.sample()))
            except Exception as exc:  # a sample lost to a busy broker is no failed run
                self.errors += 1
                self.last_error = repr(exc)

    def start(self) -> LagSampler:
        self.series = LagSeries()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="lag", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> LagSeries:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        return self.series

    def close(self) -> None:
        self.stop()
        self.admin.close()
        self.consumer.close()


def group_members(bootstrap: list[str], group: str) -> tuple[str, int]:
    """(state, members) of a consumer group."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        info: dict[str, Any] = admin.describe_groups([group]).get(group, {})
        return str(info.get("group_state")), len(info.get("members") or [])
    finally:
        admin.close()


# --- statistics ---------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1]


def latencies(
    sent: dict[str, float], arrived: dict[str, float], idents: Sequence[str]
) -> list[float]:
    return [arrived[i] - sent[i] for i in idents if i in arrived and i in sent]
