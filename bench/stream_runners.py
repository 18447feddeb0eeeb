"""The implementations bench/stream.py measures, as processes it starts and stops:
``Workers`` (n ``newswire worker`` processes in one consumer group) and ``Loop``
(an alternative from bench/stream_loops.py), plus the small helpers the phases share."""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from bench.run import (
    WorkerProcess,
    delete_run_topics,
    fetch_metrics,
    free_port,
    stage_seconds,
    warmup_message,
    worker_env,
)
from bench.stream_kafka import Feeder, Input, Observer, group_members
from worker.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"[stream] {message}", file=sys.stderr, flush=True)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


class BenchError(RuntimeError):
    pass


# --- the implementations under test --------------------------------------------------


class Runner(Protocol):
    name: str
    settings: Settings
    group: str

    def start(self) -> None: ...
    def wait_ready(self, timeout_s: float) -> float: ...
    def check(self) -> None: ...
    def pids(self) -> list[int]: ...
    def stop(self) -> str: ...
    def stage_seconds(self) -> dict[str, tuple[float, float]]: ...


class Workers:
    """``n`` newswire worker processes in one consumer group (the app id)."""

    def __init__(
        self, n: int, bootstrap: str, rid: str, partitions: int, tmp: Path,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.name = "newswire worker" if n == 1 else f"newswire worker x{n}"
        self.group = rid
        self.ports = [free_port() for _ in range(n)]
        self.envs = []
        for i, port in enumerate(self.ports):
            env = worker_env(bootstrap, rid, partitions, tmp / f"state{i}", port)
            env.update(extra_env or {})
            self.envs.append(env)
        self.settings = Settings.from_env(self.envs[0])
        self.procs = [WorkerProcess(env, tmp / f"worker{i}.log") for i, env in enumerate(self.envs)]

    def start(self) -> None:
        for proc in self.procs:
            proc.start()

    def wait_ready(self, timeout_s: float) -> float:
        started = time.monotonic()
        deadline = started + timeout_s
        for port in self.ports:
            while fetch_metrics(port) is None:
                self.check()
                if time.monotonic() > deadline:
                    raise BenchError(f"worker on port {port} not up after {timeout_s:.0f}s")
                time.sleep(0.2)
        if len(self.procs) > 1:
            # A rebalance in the middle of the burst would be measured as slowness:
            # wait until the group is stable with every worker in it.
            servers = self.settings.bootstrap_servers
            while (state := self._group_state(servers)) != ("Stable", len(self.procs)):
                self.check()
                if time.monotonic() > deadline:
                    raise BenchError(f"group {self.group} not stable with {len(self.procs)} "
                                     f"members: {state}")
                time.sleep(0.5)
        return time.monotonic() - started

    def _group_state(self, servers: list[str]) -> tuple[str, int]:
        try:
            return group_members(servers, self.group)
        except Exception as exc:
            # On a fresh broker the group coordinator (__consumer_offsets) may not
            # exist yet: CoordinatorNotAvailable until it does.
            return f"not known yet ({type(exc).__name__})", 0

    def check(self) -> None:
        try:
            for proc in self.procs:
                proc.check_alive()
        except Exception as exc:
            raise BenchError(str(exc)) from None

    def pids(self) -> list[int]:
        return [p.proc.pid for p in self.procs if p.proc is not None]

    def stop(self) -> str:
        return "; ".join(p.stop(60) for p in self.procs)

    def stage_seconds(self) -> dict[str, tuple[float, float]]:
        total: dict[str, tuple[float, float]] = {}
        for port in self.ports:
            for stage, (count, secs) in stage_seconds(fetch_metrics(port) or "").items():
                c, s = total.get(stage, (0.0, 0.0))
                total[stage] = (c + count, s + secs)
        return total


class Loop:
    """An alternative implementation from bench/stream_loops.py as a child process."""

    def __init__(self, kind: str, bootstrap: str, rid: str, partitions: int, tmp: Path) -> None:
        self.kind = kind
        self.name = {"kafka-python": "kafka-python loop", "quix": "Quix Streams"}[kind]
        self.group = rid
        self.settings = Settings.from_env(
            worker_env(bootstrap, rid, partitions, tmp / "unused", free_port())
        )
        self.log_path = tmp / f"{kind}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        s = self.settings
        command = [
            sys.executable, "-m", "bench.stream_loops", self.kind,
            "--bootstrap", ",".join(s.bootstrap_servers), "--group", self.group,
            "--raw", s.topic_raw, "--enriched", s.topic_enriched,
            "--duplicates", s.topic_duplicates, "--deadletter", s.topic_deadletter,
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWIRE_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen(
                command, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )

    def wait_ready(self, timeout_s: float) -> float:
        started = time.monotonic()
        while b"ready" not in self.log_path.read_bytes():
            self.check()
            if time.monotonic() - started > timeout_s:
                raise BenchError(f"{self.name} not ready after {timeout_s:.0f}s")
            time.sleep(0.2)
        return time.monotonic() - started

    def tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])

    def check(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise BenchError(f"{self.name} exited with code {self.proc.returncode}:\n{self.tail()}")

    def pids(self) -> list[int]:
        return [self.proc.pid] if self.proc is not None else []

    def stop(self) -> str:
        if self.proc is None or self.proc.poll() is not None:
            return "already stopped"
        self.proc.send_signal(signal.SIGTERM)
        try:
            return f"stopped (exit code {self.proc.wait(60)})"
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return f"killed after 60s (exit code {self.proc.wait()})"

    def stage_seconds(self) -> dict[str, tuple[float, float]]:
        return {}


def fmt(value: float | None, spec: str = ".1f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        parts = [cells[0].ljust(widths[0])]
        parts += [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  " + "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def output_roles(settings: Settings) -> dict[str, str]:
    """The output topics an Observer reads, by the outcome each stands for."""
    return {settings.topic_enriched: "enriched", settings.topic_duplicates: "duplicates",
            settings.topic_deadletter: "deadletter"}


def send_warm_up(
    feeder: Feeder, observer: Observer, timeout_s: float, check: Callable[[], None]
) -> None:
    """One article through the implementation before anything is measured: its
    models loaded, its consumer group settled."""
    warm = warmup_message()
    feeder.burst([Input("warm-up", warm.key, warm.value)])
    if not observer.wait_for(1, timeout_s, check):
        raise BenchError("the warm-up article did not come out")


def tear_down(phase: str, workers: Workers, observer: Observer | None, rid: str,
              keep_topics: bool, tmp: Path, remove_tmp: bool) -> None:
    """The end of a phase that ran ``workers``: observer closed, workers stopped,
    the run's topics deleted (unless kept), its directory removed if asked."""
    if observer is not None:
        observer.close()
    log(f"{phase}: {workers.name} {workers.stop()}")
    if not keep_topics:
        try:
            delete_run_topics(workers.settings, rid)
        except Exception as exc:
            log(f"could not delete topics of {rid}: {exc}")
    if remove_tmp:
        shutil.rmtree(tmp, ignore_errors=True)
