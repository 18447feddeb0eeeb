"""/healthz, /readyz and the worker's own gauges on a real broker."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.integration.support import collect_outputs, produce
from worker.samples import build_feed

pytestmark = pytest.mark.integration


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_health_readiness_and_gauges(start_worker: Any) -> None:
    worker = start_worker()
    base = worker.metrics_url.removesuffix("/metrics")
    assert _get(f"{base}/healthz") == (200, {"status": "ok"})

    deadline = time.monotonic() + 60
    while (state := _get(f"{base}/readyz"))[0] != 200:
        assert time.monotonic() < deadline, f"never ready: {state}"
        time.sleep(0.2)
    assert state[1]["assigned_partitions"] > 0

    feed = build_feed(30, seed=3)
    produce(worker.settings, [(i.key, i.value) for i in feed])
    assert len(collect_outputs(worker.settings, len(feed), settle=0.5)) == len(feed)

    # The gauges refresh on a timer: poll until lag is reported and drained.
    raw = worker.settings.topic_raw
    deadline = time.monotonic() + 60
    while True:
        snap = worker.metrics()
        lags = {
            dict(labels)["partition"]: value
            for (name, labels), value in snap.samples.items()
            if name == "newswire_consumer_lag_messages" and dict(labels)["topic"] == raw
        }
        entries = snap.total("newswire_dedup_state_entries", table="hashes")
        if lags and sum(lags.values()) == 0 and entries > 0:
            break
        assert time.monotonic() < deadline, f"lag {lags}, dedup entries {entries}"
        time.sleep(0.5)
    assert snap.total("newswire_rebalances_total") >= 1
