"""Integration fixtures: a real Apache Kafka broker for the session, and workers.

The broker comes from deploy/local-kafka/kafka.sh (Maven Central jars, KRaft),
unless KAFKA_BOOTSTRAP points at one. A broker that cannot start fails the
tests: a skipped broker test in CI would be a silent red run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from worker.scrape import Snapshot, scrape
from worker.settings import Settings
from worker.topics import ensure_topics

REPO = Path(__file__).resolve().parents[2]
KAFKA_SH = REPO / "deploy" / "local-kafka" / "kafka.sh"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_broker(data_dir: Path) -> str:
    """Starts (or restarts, on the same data and port) a local broker in ``data_dir``."""
    result = subprocess.run(
        ["bash", str(KAFKA_SH), "start", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"local Kafka did not start:\n{result.stderr}", pytrace=False)
    return result.stdout.strip().splitlines()[-1]


def stop_broker(data_dir: Path) -> None:
    subprocess.run(["bash", str(KAFKA_SH), "stop", str(data_dir)], timeout=60, check=False)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("KAFKA_BOOTSTRAP")
    if configured:
        yield configured
        return
    data_dir = tmp_path_factory.mktemp("kafka")
    bootstrap = start_broker(data_dir)
    try:
        yield bootstrap
    finally:
        stop_broker(data_dir)


@dataclass
class WorkerHandle:
    settings: Settings
    env: dict[str, str]
    log_path: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.web_port}/metrics"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "worker.cli", "worker"],
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    # Its own process group: the worker and its process pool end
                    # together (a SIGKILLed worker would otherwise orphan the pool).
                    start_new_session=True,
                )
            )
        self.wait_serving()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_serving(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            proc = self.procs[-1]
            if proc.poll() is not None:
                pytest.fail(f"worker exited ({proc.returncode}):\n{self.log_tail()}")
            try:
                scrape(self.metrics_url)
                return
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"worker did not serve /metrics:\n{self.log_tail()}")
                time.sleep(0.25)

    def metrics(self) -> Snapshot:
        return scrape(self.metrics_url)

    def kill(self) -> None:
        """SIGKILL to the worker and its process pool: no commit, no flush, no
        leaving the group (a crash, as of a host or container)."""
        proc = self.procs[-1]
        _kill_group(proc.pid)
        proc.wait(30)

    def sibling(self, state_dir: Path) -> WorkerHandle:
        """Another worker process of the same app (same group, topics and tables),
        with its own web port and state directory, as a second host would be."""
        env = {**self.env, "NEWSWIRE_WEB_PORT": str(free_port()),
               "NEWSWIRE_DATADIR": str(state_dir / "state")}
        state_dir.mkdir(parents=True, exist_ok=True)
        log_path = state_dir.with_suffix(".log")
        return WorkerHandle(Settings.from_env(env), env, log_path)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            _kill_group(proc.pid)  # whatever of its pool outlived it


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


class WorkerFactory:
    """Starts workers, each with its own app id and topic names so tests never
    share state, against the given broker; stops them all at the end."""

    def __init__(self, bootstrap: str, tmp_path: Path) -> None:
        self.bootstrap = bootstrap
        self.tmp_path = tmp_path
        self.handles: list[WorkerHandle] = []

    def __call__(self, *, start: bool = True, **overrides: str) -> WorkerHandle:
        prefix = f"t{uuid.uuid4().hex[:10]}"
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP": self.bootstrap,
            "NEWSWIRE_BROKER": f"kafka://{self.bootstrap}",
            "NEWSWIRE_APP_ID": prefix,
            "NEWSWIRE_TOPIC_RAW": f"{prefix}.raw",
            "NEWSWIRE_TOPIC_ENRICHED": f"{prefix}.enriched",
            "NEWSWIRE_TOPIC_DUPLICATES": f"{prefix}.duplicates",
            "NEWSWIRE_TOPIC_DEADLETTER": f"{prefix}.deadletter",
            "NEWSWIRE_PARTITIONS": "4",
            "NEWSWIRE_DATADIR": str(self.tmp_path / f"{prefix}-state"),
            "NEWSWIRE_WEB_PORT": str(free_port()),
            "NEWSWIRE_LOG_LEVEL": os.environ.get("NEWSWIRE_TEST_LOG_LEVEL", "warning"),
            **overrides,
        }
        settings = Settings.from_env(env)
        ensure_topics(settings)
        handle = WorkerHandle(settings, env, self.tmp_path / f"{prefix}-worker.log")
        self.adopt(handle)
        if start:
            handle.start()
        return handle

    def adopt(self, handle: WorkerHandle) -> WorkerHandle:
        """Stops ``handle`` with the others at the end (for siblings)."""
        self.handles.append(handle)
        return handle

    def stop_all(self) -> None:
        for handle in self.handles:
            handle.stop()


@pytest.fixture
def start_worker(kafka_bootstrap: str, tmp_path: Path) -> Iterator[WorkerFactory]:
    """Starts a worker with its own app id and topic names, so tests never share state."""
    factory = WorkerFactory(kafka_bootstrap, tmp_path)
    yield factory
    factory.stop_all()
