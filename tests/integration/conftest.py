"""Integration fixtures: a real Apache Kafka broker for the session, and workers.

The broker comes from deploy/local-kafka/kafka.sh (Maven Central jars, KRaft),
unless KAFKA_BOOTSTRAP points at one. A broker that cannot start fails the
tests: a skipped broker test in CI would be a silent red run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
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


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("KAFKA_BOOTSTRAP")
    if configured:
        yield configured
        return
    data_dir = tmp_path_factory.mktemp("kafka")
    result = subprocess.run(
        ["bash", str(KAFKA_SH), "start", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"local Kafka did not start:\n{result.stderr}", pytrace=False)
    bootstrap = result.stdout.strip().splitlines()[-1]
    try:
        yield bootstrap
    finally:
        subprocess.run(["bash", str(KAFKA_SH), "stop", str(data_dir)], timeout=60, check=False)


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


@pytest.fixture
def start_worker(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Callable[..., WorkerHandle]]:
    """Starts a worker with its own app id and topic names, so tests never share state."""
    handles: list[WorkerHandle] = []

    def start(**overrides: str) -> WorkerHandle:
        prefix = f"t{uuid.uuid4().hex[:10]}"
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP": kafka_bootstrap,
            "NEWSWIRE_BROKER": f"kafka://{kafka_bootstrap}",
            "NEWSWIRE_APP_ID": prefix,
            "NEWSWIRE_TOPIC_RAW": f"{prefix}.raw",
            "NEWSWIRE_TOPIC_ENRICHED": f"{prefix}.enriched",
            "NEWSWIRE_TOPIC_DUPLICATES": f"{prefix}.duplicates",
            "NEWSWIRE_TOPIC_DEADLETTER": f"{prefix}.deadletter",
            "NEWSWIRE_PARTITIONS": "4",
            "NEWSWIRE_DATADIR": str(tmp_path / f"{prefix}-state"),
            "NEWSWIRE_WEB_PORT": str(free_port()),
            "NEWSWIRE_LOG_LEVEL": "warning",
            **overrides,
        }
        settings = Settings.from_env(env)
        ensure_topics(settings)
        handle = WorkerHandle(settings, env, tmp_path / f"{prefix}-worker.log")
        handles.append(handle)
        handle.start()
        return handle

    yield start
    for handle in handles:
        handle.stop()
