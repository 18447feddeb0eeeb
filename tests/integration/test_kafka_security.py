"""A broker that demands TLS and a SCRAM login: the worker and the CLI work with
the right password, and a wrong password (or an untrusted certificate) ends the
command at once with exit code 3 and a line naming the cause, not a hang."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.integration.conftest import KAFKA_SH
from tests.integration.support import collect_outputs, produce
from worker.samples import build_feed

pytestmark = pytest.mark.integration

USER = "newswire-it"
# A login failure must end the command well before this; a hang would not.
REFUSAL_TIMEOUT_S = 120


@dataclass(frozen=True)
class SecureKafka:
    bootstrap: str  # the SASL_SSL listener
    cafile: Path
    password: str

    def env(self, password: str | None = None, mechanism: str = "SCRAM-SHA-256",
            cafile: Path | None = None) -> dict[str, str]:
        return {
            "NEWSWIRE_BROKER": f"kafka://{self.bootstrap}",
            "NEWSWIRE_SECURITY_PROTOCOL": "SASL_SSL",
            "NEWSWIRE_SASL_MECHANISM": mechanism,
            "NEWSWIRE_SASL_USERNAME": USER,
            "NEWSWIRE_SASL_PASSWORD": self.password if password is None else password,
            "NEWSWIRE_SSL_CAFILE": str(cafile or self.cafile),
        }


@pytest.fixture(scope="module")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    data_dir = tmp_path_factory.mktemp("kafka-sasl-ssl")
    password = secrets.token_hex(12)
    result = subprocess.run(
        ["bash", str(KAFKA_SH), "start", str(data_dir)],
        env={**os.environ, "KAFKA_SASL_USERS": f"{USER}:{password}"},
        capture_output=True, text=True, timeout=300, check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"local Kafka with SASL_SSL did not start:\n{result.stderr}", pytrace=False)
    try:
        yield SecureKafka(
            bootstrap=(data_dir / "bootstrap.sasl_ssl").read_text().strip(),
            cafile=data_dir / "tls" / "ca.pem",
            password=password,
        )
    finally:
        subprocess.run(["bash", str(KAFKA_SH), "stop", str(data_dir)], timeout=60, check=False)


def newswire(env: dict[str, str], *args: str, timeout: float = REFUSAL_TIMEOUT_S,
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "worker.cli", *args], env={**os.environ, **env},
        capture_output=True, text=True, timeout=timeout, check=False,
    )


def test_worker_and_cli_work_over_tls_with_the_right_password(
    secure_kafka: SecureKafka, start_worker: Callable[..., Any]
) -> None:
    # The PLAINTEXT listener of this broker is not used: every client below must
    # speak SASL_SSL to the listener that accepts nothing else.
    worker = start_worker(**secure_kafka.env(mechanism="SCRAM-SHA-512"))
    feed = build_feed(12, seed=5)
    produce(worker.settings, [(i.key, i.value) for i in feed])
    outputs = collect_outputs(worker.settings, len(feed), timeout=240)
    assert len(outputs) == len(feed), worker.log_tail()
    s = worker.settings
    route = {s.topic_enriched: "enriched", s.topic_duplicates: "duplicates",
             s.topic_deadletter: "deadletter"}
    assert Counter(route[o.topic] for o in outputs) == Counter(i.expect for i in feed)

    # The CLI reads the results back with the other SCRAM mechanism.
    env = {**worker.env, **secure_kafka.env(mechanism="SCRAM-SHA-256")}
    tail = newswire(env, "tail", "enriched", "--from-beginning", "--compact", "-n", "3",
                    "--timeout", "60")
    assert tail.returncode == 0, tail.stderr
    records = [orjson.loads(line) for line in tail.stdout.splitlines()]
    assert len(records) == 3
    assert all(r["value"]["schema_version"] for r in records)


def test_a_wrong_password_is_refused_with_a_clear_error(secure_kafka: SecureKafka,
                                                        tmp_path: Path) -> None:
    env = {
        **secure_kafka.env(password="not-the-password"),
        "NEWSWIRE_APP_ID": "refused", "NEWSWIRE_DATADIR": str(tmp_path / "state"),
    }
    for command in (["worker"], ["topics", "create"], ["tail", "raw", "--timeout", "5"]):
        result = newswire(env, *command)
        assert result.returncode == 3, (command, result.stderr[-2000:])
        assert (
            f"kafka authentication failed: Kafka at {secure_kafka.bootstrap} refused the "
            f"login of user '{USER}' (SCRAM-SHA-256)"
        ) in result.stderr, result.stderr[-2000:]
        assert "not-the-password" not in result.stderr + result.stdout


def test_an_untrusted_broker_certificate_is_refused(secure_kafka: SecureKafka) -> None:
    # Right password, but trusting the public CAs of certifi's bundle instead of
    # the broker's own: TLS must fail before any password is sent.
    import certifi

    result = newswire(secure_kafka.env(cafile=Path(certifi.where())), "topics", "create")
    assert result.returncode == 3, result.stderr[-2000:]
    assert "TLS certificate of Kafka at" in result.stderr
    assert "is not trusted" in result.stderr
