"""Every Grafana panel shows data: a real Prometheus server (Debian's `prometheus`
package) scrapes a real worker while it processes a feed with duplicates, a
revision and dead letters, and then every PromQL expression of the dashboard is
evaluated through Prometheus' HTTP API. The alert rules are loaded into the same
server and must evaluate without error.

Grafana's interval variables become one window covering the whole run: the test
looks at a single instant, where Grafana would draw the run over time.
"""

from __future__ import annotations

import math
import subprocess
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from tests.integration.conftest import free_port
from tests.integration.support import collect_outputs, produce
from tests.tools import require_tool
from tests.unit.test_deploy import RULES, panels, rules
from worker.samples import build_feed

pytestmark = pytest.mark.integration

JOB = "newswire"  # the job name the alert rules match on, as in deploy/prometheus


def _prometheus_binary() -> str:
    return require_tool("prometheus", checks="the dashboard check against a real server")


class Prometheus:
    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self.log = log

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def api(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}{query}", timeout=30) as response:
            body = orjson.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        params = {"query": expr} if at is None else {"query": expr, "time": f"{at:.3f}"}
        data = self.api("query", **params)
        assert data["resultType"] in ("vector", "scalar"), data
        return data["result"] if data["resultType"] == "vector" else [{"value": data["result"]}]

    def value(self, expr: str, at: float | None = None) -> float | None:
        result = self.query(expr, at)
        return float(result[0]["value"][1]) if result else None


@contextmanager
def running_prometheus(tmp_path: Path, target: str) -> Iterator[Prometheus]:
    binary = _prometheus_binary()
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [{"job_name": JOB, "metrics_path": "/metrics",
                            "static_configs": [{"targets": [target]}]}],
    }
    config_file = tmp_path / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    log = tmp_path / "prometheus.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [binary, f"--config.file={config_file}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    server = Prometheus(f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"prometheus exited ({proc.returncode}):\n{server.log_tail()}")
            try:
                with urllib.request.urlopen(f"{server.url}/-/ready", timeout=5):
                    break
            except OSError:
                assert time.monotonic() < deadline, f"prometheus not ready:\n{server.log_tail()}"
                time.sleep(0.3)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(prometheus: Prometheus, expr: str, wanted: float, timeout: float) -> float:
    """Polls until ``expr`` (one sample) has the wanted value; returns the time of
    a successful scrape at or after the one that delivered it. Queries at that
    instant see that scrape's samples, even if a later scrape times out (which
    would mark every series stale) on this loaded machine."""
    deadline = time.monotonic() + timeout
    while True:
        value = prometheus.value(expr)
        if value == wanted:
            # A plain selector keeps its sample's timestamp (an aggregation would not).
            scraped = prometheus.value(f'max(timestamp(newswire_build_info{{job="{JOB}"}}))')
            if scraped is not None:
                return scraped
        assert time.monotonic() < deadline, (
            f"{expr} is {value}, not {wanted}, after {timeout:.0f} s:\n{prometheus.log_tail()}")
        time.sleep(0.5)


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:  # HTTPError (503 while not ready) included
        return False


def dashboard_queries(window: str) -> list[tuple[str, str, str]]:
    """(panel title, refId, PromQL), Grafana's interval variables set to ``window``."""
    found = []
    for panel in panels():
        for target in panel.get("targets", []):
            expr = target["expr"]
            for name in ("__rate_interval", "__interval", "__range"):
                expr = expr.replace(f"${{{name}}}", window).replace(f"${name}", window)
            found.append((panel["title"], target["refId"], expr))
    return found


def _has_data(result: list[dict[str, Any]]) -> bool:
    """Some series, none of them NaN: a rate over a window without increase gives
    a NaN quantile or ratio, and a panel would draw that series as a gap."""
    return bool(result) and all(math.isfinite(float(item["value"][1])) for item in result)


def test_every_dashboard_query_returns_data_from_a_real_worker(
    start_worker: Any, tmp_path: Path
) -> None:
    worker = start_worker()
    with running_prometheus(tmp_path, f"127.0.0.1:{worker.settings.web_port}") as prometheus:
        # Scraped before the feed, so rates see the counters rise from their primed 0.
        started = wait_for(prometheus, f'up{{job="{JOB}"}}', 1, timeout=90)

        # Fed once the worker is ready, so the latencies shown are not start-up time.
        ready = worker.metrics_url.removesuffix("metrics") + "readyz"
        deadline = time.monotonic() + 90
        while not _ok(ready):
            assert time.monotonic() < deadline, f"worker never ready:\n{worker.log_tail()}"
            time.sleep(0.3)

        feed = build_feed(20, seed=11)
        expected = Counter(item.expect for item in feed)
        assert expected["duplicates"] and expected["deadletter"] and expected["enriched"]
        produce(worker.settings, [(item.key, item.value) for item in feed])
        outputs = collect_outputs(worker.settings, len(feed), settle=0.5)
        s = worker.settings
        topic_role = {s.topic_enriched: "enriched", s.topic_duplicates: "duplicates",
                      s.topic_deadletter: "deadletter"}
        assert Counter(topic_role[o.topic] for o in outputs) == expected

        # The lag gauge has series once the worker has committed offsets and its
        # 5-second refresh has run: a fast run can get here before that.
        wait_for(prometheus, "count(newswire_consumer_lag_messages) > bool 0", 1, timeout=60)
        # Every input ended in one final record, and Prometheus has scraped them all.
        at = wait_for(prometheus, "sum(newswire_end_to_end_latency_seconds_count)", len(feed),
                      timeout=60)
        outcomes = {"enriched": "enriched", "duplicate": "duplicates",
                    "dead_letter": "deadletter"}
        for outcome, role in outcomes.items():
            count = prometheus.value(
                f'newswire_end_to_end_latency_seconds_count{{outcome="{outcome}"}}', at)
            assert count == expected[role], outcome
        enriched = prometheus.value("sum(newswire_enriched_articles_total)", at)
        assert enriched == expected["enriched"]

        # One window from the first scrape to the evaluation instant.
        window = f"{math.ceil(at - started) + 5}s"
        failures = []
        for title, ref, expr in dashboard_queries(window):
            result = prometheus.query(expr, at)
            if not _has_data(result):
                failures.append(f"  {title} ({ref}): {expr}\n    -> {result}")
        assert not failures, "dashboard queries without data:\n" + "\n".join(failures)
        for quantile in (0.5, 0.95):  # shown with -s; the numbers are not asserted
            expr = (f"histogram_quantile({quantile}, sum by (outcome, le) (rate("
                    f"newswire_end_to_end_latency_seconds_bucket[{window}])))")
            shown = {r["metric"]["outcome"]: round(float(r["value"][1]), 2)
                     for r in prometheus.query(expr, at)}
            print(f"end-to-end latency p{round(quantile * 100)} (s, {len(feed)} inputs): {shown}")

        # The alert and recording rules evaluate on real series without error.
        deadline = time.monotonic() + 30
        while True:
            loaded = [rule for group in prometheus.api("rules")["groups"]
                      for rule in group["rules"]]
            # "unknown" until a rule's first evaluation.
            if len(loaded) == len(rules()) and all(r["health"] != "unknown" for r in loaded):
                break
            assert time.monotonic() < deadline, f"rules not evaluated: {loaded}"
            time.sleep(0.5)
        for rule in loaded:
            assert rule["health"] == "ok", f"{rule['name']}: {rule.get('lastError')}"
        # The recording rule runs on its own schedule: its series follows the gauge's.
        recorded = f'topic:newswire_consumer_lag_messages:sum{{topic="{s.topic_raw}"}}'
        wait_for(prometheus, f"count({recorded})", 1, timeout=30)
