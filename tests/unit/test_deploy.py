"""deploy/k8s, deploy/prometheus and deploy/grafana agree with the worker.

The Kubernetes manifests are read, not applied (there is no cluster in CI): their
ports, probes, paths and settings must be the ones the worker really serves and
reads. The Prometheus config, alert rules and their unit tests go through
promtool, and so does every PromQL expression of the Grafana dashboard.

promtool comes from Debian's prometheus package (deploy/install-test-tools.sh).
Without it these tests skip, except under CI=true, where they fail: a CI run must
not pass without having checked the rules.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import fields
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from tests.tools import require_tool
from tests.unit.test_compose import image_env, runtime_stage
from worker import metrics as worker_metrics
from worker.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS / "rules.yml"
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "newswire.json"

# Series Prometheus itself adds to every scrape.
SCRAPE_SERIES = {"up": {"job", "instance"}}
TARGET_LABELS = {"job", "instance"}


# --- promtool ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def promtool() -> str:
    return require_tool(
        "promtool", checks="the check of the Prometheus config, alert rules and dashboard queries"
    )


def run_promtool(promtool: str, *args: str | Path, cwd: Path = ROOT) -> str:
    result = subprocess.run(
        [promtool, *map(str, args)], capture_output=True, text=True, timeout=120, cwd=cwd
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"promtool {' '.join(map(str, args))} failed:\n{output}"
    return output


# --- what the worker exports ------------------------------------------------------


def _families(metric: MetricWrapperBase) -> dict[str, set[str]]:
    """Series names a prometheus_client metric exposes -> its label names."""
    (family,) = metric.describe()
    labels = set(metric._labelnames)
    suffixes = {"counter": ["_total"], "gauge": [""], "histogram": ["_bucket", "_sum", "_count"],
                "summary": ["", "_sum", "_count"]}[family.type]
    return {
        family.name + suffix: labels | ({"le"} if suffix == "_bucket" else set())
        for suffix in suffixes
    }


@cache
def newswire_series() -> dict[str, set[str]]:
    """Every series name in worker/metrics.py -> label names."""
    series: dict[str, set[str]] = {}
    for value in vars(worker_metrics).values():
        if isinstance(value, MetricWrapperBase):
            series.update(_families(value))
    assert series, "worker/metrics.py declares no metric"
    return series


@cache
def faust_series() -> dict[str, set[str]]:
    """The series of Faust's Prometheus sensor, under the prefix observability.py gives it."""
    from faust.sensors.prometheus import FaustMetrics

    source = (ROOT / "worker" / "observability.py").read_text(encoding="utf-8")
    prefix = re.search(r"setup_prometheus_sensors\([^)]*name_prefix=\"(\w+)\"", source)
    assert prefix, "observability.py no longer sets up Faust's sensor with a name_prefix"
    created = FaustMetrics.create(CollectorRegistry(), prefix[1])
    members = created if isinstance(created, tuple) else vars(created).values()
    series: dict[str, set[str]] = {}
    for metric in members:
        if isinstance(metric, MetricWrapperBase):
            series.update(_families(metric))
    assert series, "found none of Faust's sensor metrics"
    return series


def known_series() -> dict[str, set[str]]:
    return {**newswire_series(), **faust_series(), **SCRAPE_SERIES}


# PromQL functions, keywords and aggregations: words in an expression that are not
# series names. Only what the rules and the dashboard use needs to be here.
_PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "by", "without", "on", "ignoring", "group_left",
    "group_right", "and", "or", "unless", "offset", "bool", "rate", "irate", "increase",
    "deriv", "delta", "changes", "resets", "absent", "histogram_quantile", "min_over_time",
    "max_over_time", "avg_over_time", "topk", "bottomk", "time", "vector", "scalar",
    "clamp_min", "clamp_max", "label_replace", "inf", "nan",
}


def referenced_series(expr: str) -> set[str]:
    """Series names an expression selects (strings, label matchers and grouping
    clauses removed first, so label names and values are not mistaken for them)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    words = set(re.findall(r"(?<![\w.])[A-Za-z_:][\w:]*", text))
    return {w for w in words if w.lower() not in _PROMQL_WORDS}


def grouping_labels(expr: str) -> set[str]:
    return {
        label.strip()
        for clause in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", expr)
        for label in clause.split(",") if label.strip()
    }


# --- alert rules ----------------------------------------------------------------------


@cache
def rule_groups() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    assert isinstance(groups, list) and groups
    return groups


def rules() -> list[dict[str, Any]]:
    return [rule for group in rule_groups() for rule in group["rules"]]


def alerts() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in rules() if "alert" in rule}


def recorded() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


def test_prometheus_config_is_valid_and_loads_the_rules(promtool: str) -> None:
    config = PROMETHEUS / "prometheus.yml"
    rule_files = yaml.safe_load(config.read_text(encoding="utf-8")).get("rule_files") or []
    assert (PROMETHEUS / "rules.yml").name in rule_files, "prometheus.yml does not load rules.yml"
    output = run_promtool(promtool, "check", "config", config)
    assert f"{len(rule_files)} rule files found" in output, output


def test_rules_are_valid(promtool: str) -> None:
    output = run_promtool(promtool, "check", "rules", RULES)
    assert f"{len(rules())} rules found" in output, output


def test_rule_unit_tests_pass(promtool: str) -> None:
    assert RULE_TESTS, "deploy/prometheus/tests has no promtool unit test"
    output = run_promtool(promtool, "test", "rules", *RULE_TESTS)
    assert output.count("SUCCESS") == len(RULE_TESTS), output


def test_the_issue_asks_for_these_alerts() -> None:
    expected = {
        "NewswireConsumerLagGrowing", "NewswireNoThroughput", "NewswireDeadLetterRateHigh",
        "NewswireWorkerDown", "NewswireRebalanceStorm",
    }
    assert expected <= set(alerts()), f"missing alerts: {expected - set(alerts())}"


def test_every_alert_says_how_bad_and_what_happened() -> None:
    for name, rule in alerts().items():
        assert rule.get("labels", {}).get("severity") in ("warning", "critical"), name
        annotations = rule.get("annotations") or {}
        assert annotations.get("summary") and annotations.get("description"), name


def test_rules_use_only_series_the_worker_exports() -> None:
    known = known_series()
    for rule in rules():
        name = rule.get("alert") or rule["record"]
        for series in referenced_series(rule["expr"]):
            assert series in known or series in recorded(), (
                f"{name} reads {series}, which neither the worker nor Faust's sensor exports")


def _test_documents() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in RULE_TESTS:
        yield path, yaml.safe_load(path.read_text(encoding="utf-8"))


def test_rule_tests_load_the_real_rules_and_real_series_names() -> None:
    known = known_series()
    for path, document in _test_documents():
        loaded = {(path.parent / f).resolve() for f in document["rule_files"]}
        assert loaded == {RULES}, f"{path.name} tests {loaded}, not {RULES}"
        for test in document["tests"]:
            for item in test.get("input_series", []):
                name = item["series"].split("{", 1)[0].strip()
                assert name in known, f"{path.name}: {name} is not a series the worker exports"
                labels = set(re.findall(r"(\w+)\s*=", item["series"].partition("{")[2]))
                assert labels - TARGET_LABELS <= known[name], (
                    f"{path.name}: {item['series']} has labels the worker does not set")


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    firing: set[str] = set()
    silent: set[str] = set()
    for _path, document in _test_documents():
        for test in document["tests"]:
            for case in test.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else silent).add(case["alertname"])
    for name in alerts():
        assert name in firing, f"no unit test shows {name} firing"
        assert name in silent, f"no unit test shows {name} staying quiet"
    assert firing | silent <= set(alerts()), f"tests of unknown alerts: {firing | silent}"


# --- Grafana dashboard -----------------------------------------------------------------

# Grafana's built-in interval variables, replaced by fixed windows to evaluate a
# query outside Grafana. Anything else starting with $ is a dashboard variable.
_GRAFANA_INTERVALS = {"__rate_interval": "1m", "__interval": "1m", "__range": "1h"}


@cache
def dashboard() -> dict[str, Any]:
    data = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def panels() -> list[dict[str, Any]]:
    found = []
    for panel in dashboard()["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))  # a collapsed row holds its panels
    return found


def queries() -> list[tuple[str, str, str]]:
    """(panel title, refId, PromQL with Grafana's variables replaced)."""
    found = []
    for panel in panels():
        for target in panel.get("targets", []):
            expr = target["expr"]
            for name, window in _GRAFANA_INTERVALS.items():
                expr = expr.replace(f"${{{name}}}", window).replace(f"${name}", window)
            found.append((panel["title"], target["refId"], expr))
    return found


def test_dashboard_panels_have_ids_places_and_queries() -> None:
    data = dashboard()
    assert data.get("uid") and data.get("title")
    ids = [panel["id"] for panel in panels()]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    cells: dict[tuple[int, int], str] = {}
    for panel in panels():
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]
        if panel["type"] != "row":
            assert panel.get("targets"), f"{panel['title']} has no query"
            assert all(t.get("expr") for t in panel["targets"]), panel["title"]
            refs = [t["refId"] for t in panel["targets"]]
            assert len(refs) == len(set(refs)), panel["title"]


def test_dashboard_queries_the_prometheus_data_source_variable() -> None:
    variables = {v["name"]: v for v in dashboard()["templating"]["list"]}
    source = variables.get("datasource")
    assert source and source["type"] == "datasource" and source["query"] == "prometheus"
    for panel in panels():
        if panel["type"] == "row":
            continue
        for owner in (panel, *panel["targets"]):
            assert owner.get("datasource") == {"type": "prometheus", "uid": "${datasource}"}, (
                f"{panel['title']}: query the data source variable, not a fixed data source")


def test_dashboard_queries_use_no_undefined_variables() -> None:
    for title, ref, expr in queries():
        assert "$" not in expr, f"{title} ({ref}): unknown variable in {expr}"


def test_dashboard_uses_only_series_and_labels_the_worker_exports() -> None:
    known = known_series()
    for title, ref, expr in queries():
        names = referenced_series(expr)
        assert names, f"{title} ({ref}) selects no series: {expr}"
        labels = set(TARGET_LABELS)
        for name in names:
            assert name in known, f"{title} ({ref}) reads {name}, which nothing exports"
            labels |= known[name]
        unknown = grouping_labels(expr) - labels
        assert not unknown, f"{title} ({ref}) groups by {unknown}, not labels of {names}"


def test_dashboard_shows_every_newswire_metric() -> None:
    """A metric nobody looks at is a metric nobody needs: a new one gets a panel."""
    used = {name for _t, _r, expr in queries() for name in referenced_series(expr)}
    families = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in newswire_series()}
    for family in sorted(families):
        assert any(name.startswith(family) for name in used if name in newswire_series()), (
            f"worker/metrics.py exports {family}, but no dashboard panel shows it")


def _dashboard_rules(tmp_path: Path, make_rule: Any) -> Path:
    rules_file = tmp_path / "dashboard-rules.yml"
    group = {"name": "dashboard", "rules": [make_rule(i, expr) for i, (_t, _r, expr)
                                            in enumerate(queries())]}
    rules_file.write_text(yaml.safe_dump({"groups": [group]}, sort_keys=False))
    return rules_file


def _listing() -> str:
    return "\n".join(f"  #{i} {t} ({r}): {e}" for i, (t, r, e) in enumerate(queries()))


def test_dashboard_queries_parse(promtool: str, tmp_path: Path) -> None:
    """promtool checks PromQL only inside rule files: one recording rule per query."""
    rules_file = _dashboard_rules(
        tmp_path, lambda i, expr: {"record": f"dashboard:query_{i}", "expr": expr})
    result = subprocess.run([promtool, "check", "rules", str(rules_file)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (
        f"a dashboard query does not parse:\n{result.stdout}{result.stderr}\n"
        f"rule N is query #N:\n{_listing()}")


def _synthetic_series() -> list[dict[str, str]]:
    """Half an hour of every series the worker and Faust's sensor export, with one
    plausible value per label, as a worker under load would show them."""
    values = {"topic": "articles.raw", "partition": "0", "stage": "clean",
              "reason": "empty_body", "method": "exact", "input": "html", "table": "urls",
              "version": "0.1.0"}
    series = [{"series": 'up{job="newswire", instance="w1:6066"}', "values": "1x30"}]
    for name, labels in {**newswire_series(), **faust_series()}.items():
        # Histograms get a finite bucket too: a panel may read one (le="5.0").
        for le in ("5.0", "+Inf") if "le" in labels else ("",):
            pairs = {"job": "newswire", "instance": "w1:6066",
                     **{label: values.get(label, "x") for label in sorted(labels)},
                     **({"le": le} if le else {})}
            text = ", ".join(f'{k}="{v}"' for k, v in pairs.items())
            is_counter = name.endswith(("_total", "_bucket", "_sum", "_count"))
            series.append({"series": f"{name}{{{text}}}",
                           "values": "0+10x30" if is_counter else "5x30"})
    return series


def test_every_dashboard_query_returns_data(promtool: str, tmp_path: Path) -> None:
    """Each query, evaluated on series named and labelled as the worker exports
    them, returns something: no typo in a name, a label or a filter."""
    rules_file = _dashboard_rules(
        tmp_path, lambda i, expr: {"alert": f"NoData{i}", "expr": f"absent({expr})"})
    tests = {
        "rule_files": [rules_file.name],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": _synthetic_series(),
            "alert_rule_test": [{"eval_time": "30m", "alertname": f"NoData{i}", "exp_alerts": []}
                                for i in range(len(queries()))],
        }],
    }
    tests_file = tmp_path / "dashboard-tests.yml"
    tests_file.write_text(yaml.safe_dump(tests, sort_keys=False))
    result = subprocess.run([promtool, "test", "rules", tests_file.name], capture_output=True,
                            text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, (
        f"a dashboard query returns nothing (NoDataN fired for query #N):\n"
        f"{result.stdout}{result.stderr}\n{_listing()}")


# --- Kubernetes --------------------------------------------------------------------------


@cache
def manifests() -> dict[str, list[dict[str, Any]]]:
    """file name -> its Kubernetes objects (kustomization.yaml excluded)."""
    found = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        found[path.name] = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return found


def objects(kind: str) -> list[dict[str, Any]]:
    return [obj for docs in manifests().values() for obj in docs if obj["kind"] == kind]


def the(kind: str) -> dict[str, Any]:
    (found,) = objects(kind)
    return found


def workload() -> dict[str, Any]:
    (found,) = objects("StatefulSet") + objects("Deployment")
    return found


def worker_container() -> dict[str, Any]:
    containers = workload()["spec"]["template"]["spec"]["containers"]
    (container,) = [c for c in containers if c["name"] == "worker"]
    return container  # type: ignore[no-any-return]


def configmap_env(container: dict[str, Any]) -> dict[str, str]:
    env: dict[str, str] = {}
    maps = {m["metadata"]["name"]: m for m in objects("ConfigMap")}
    for source in container.get("envFrom", []):
        name = source["configMapRef"]["name"]
        assert name in maps, f"envFrom names ConfigMap {name}, which deploy/k8s does not define"
        env.update({k: str(v) for k, v in maps[name]["data"].items()})
    for item in container.get("env", []):
        env[item["name"]] = str(item.get("value", ""))
    return env


def effective_settings() -> Settings:
    """What the worker container runs with: the image's ENV, then the pod's."""
    return Settings.from_env({**image_env(), **configmap_env(worker_container())})


def container_port(port: int | str) -> int:
    if isinstance(port, int):
        return port
    (number,) = [p["containerPort"] for p in worker_container()["ports"] if p["name"] == port]
    return int(number)


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def pod_labels() -> dict[str, str]:
    return workload()["spec"]["template"]["metadata"]["labels"]  # type: ignore[no-any-return]


def test_k8s_has_a_workload_service_configmap_and_pdb() -> None:
    for kind in ("Service", "ConfigMap", "PodDisruptionBudget"):
        assert objects(kind), f"deploy/k8s has no {kind}"
    assert workload()["kind"] in ("StatefulSet", "Deployment")


def test_kustomization_applies_every_long_running_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    for name in listed:
        assert (K8S / name).is_file(), f"kustomization lists missing {name}"
    one_shot = {name for name, docs in manifests().items()
                if all(d["kind"] in ("Job", "Pod") for d in docs)}
    assert listed == set(manifests()) - one_shot, "kustomization.yaml and deploy/k8s differ"


def test_configmap_holds_real_settings_that_agree_with_the_defaults() -> None:
    settings = {f"NEWSWIRE_{f.name.upper()}": f for f in fields(Settings)}
    env = configmap_env(worker_container())
    # Values a cluster deployment sets on purpose; every other one is the default
    # spelled out, and must stay the default the README documents.
    deliberate = {"NEWSWIRE_BROKER", "NEWSWIRE_REPLICATION", "NEWSWIRE_DATADIR",
                  "NEWSWIRE_WEB_HOST", "NEWSWIRE_LOG_FORMAT"}
    for key, value in env.items():
        assert key in settings, f"{key} is not a newswire setting (worker/settings.py)"
        if key not in deliberate:
            assert value == str(settings[key].default), (
                f"{key}={value} differs from the default {settings[key].default}")
    effective = effective_settings()  # raises on a value the worker would refuse
    assert effective.web_host == "0.0.0.0", "probes and Prometheus come from outside the pod"
    assert effective.replication >= 1


def test_probes_reach_the_workers_health_endpoints(tmp_path: Path) -> None:
    from worker.app import create_app

    newswire = create_app(Settings(store="memory://", datadir=str(tmp_path), processes=0),
                          prometheus=False)
    served = set(newswire.app.web.views)
    container = worker_container()
    port = effective_settings().web_port
    expected = {"livenessProbe": "/healthz", "readinessProbe": "/readyz",
                "startupProbe": "/healthz"}
    for probe, path in expected.items():
        if probe == "startupProbe" and probe not in container:
            continue
        get = container[probe]["httpGet"]
        assert get["path"] == path, f"{probe} asks {get['path']}, expected {path}"
        assert get["path"] in served, f"the worker does not serve {get['path']}"
        assert container_port(get["port"]) == port, f"{probe} asks another port than {port}"


def test_ports_match_the_workers_web_port() -> None:
    port = effective_settings().web_port
    assert [p["containerPort"] for p in worker_container()["ports"]] == [port]
    annotations = workload()["spec"]["template"]["metadata"].get("annotations", {})
    if "prometheus.io/port" in annotations:
        assert int(annotations["prometheus.io/port"]) == port
        assert annotations.get("prometheus.io/path", "/metrics") == "/metrics"
    for service in objects("Service"):
        for service_port in service["spec"]["ports"]:
            assert container_port(service_port.get("targetPort", service_port["port"])) == port


def test_selectors_pick_the_worker_pods() -> None:
    labels = pod_labels()
    assert selects(workload()["spec"]["selector"]["matchLabels"], labels)
    for service in objects("Service"):
        assert selects(service["spec"]["selector"], labels), service["metadata"]["name"]
    assert selects(the("PodDisruptionBudget")["spec"]["selector"]["matchLabels"], labels)
    if workload()["kind"] == "StatefulSet":
        headless = {s["metadata"]["name"] for s in objects("Service")
                    if s["spec"].get("clusterIP") == "None"}
        assert workload()["spec"]["serviceName"] in headless, "serviceName must be headless"


def test_rocksdb_state_is_on_a_persistent_volume() -> None:
    settings = effective_settings()
    assert settings.store.startswith("rocksdb://")
    mounts = {m["mountPath"].rstrip("/"): m["name"] for m in worker_container()["volumeMounts"]}
    assert settings.datadir.rstrip("/") in mounts, f"{settings.datadir} is not a volume"
    claims = {c["metadata"]["name"] for c in workload()["spec"].get("volumeClaimTemplates", [])}
    assert mounts[settings.datadir.rstrip("/")] in claims, (
        "the data directory should be a per-pod PersistentVolumeClaim, so a restarted "
        "worker finds its RocksDB tables instead of replaying the changelogs")


def test_pods_run_as_the_images_user_and_can_write_their_volume() -> None:
    (user,) = [args for kw, args in runtime_stage() if kw == "USER"][-1:]
    uid, _, gid = user.partition(":")
    context = workload()["spec"]["template"]["spec"]["securityContext"]
    assert context.get("runAsNonRoot") is True
    assert str(context.get("runAsUser")) == uid
    assert str(context.get("fsGroup")) == (gid or uid), "the volume would not be writable"


def test_worker_has_resource_requests_and_limits() -> None:
    resources = worker_container()["resources"]
    for kind in ("cpu", "memory"):
        assert kind in resources["requests"], f"no {kind} request"
        assert kind in resources["limits"], f"no {kind} limit"
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}

    def memory(value: str) -> float:
        match = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi)?", value)
        assert match, value
        return float(match[1]) * units.get(match[2] or "", 1)

    def cpu(value: str | int) -> float:
        text = str(value)
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)

    assert memory(resources["limits"]["memory"]) >= memory(resources["requests"]["memory"])
    assert cpu(resources["limits"]["cpu"]) >= cpu(resources["requests"]["cpu"])


def test_replicas_do_not_exceed_the_partition_count() -> None:
    replicas = workload()["spec"].get("replicas", 1)
    assert 1 <= replicas <= effective_settings().partitions, (
        "workers beyond NEWSWIRE_PARTITIONS get no partition")


def test_disruption_budget_lets_a_drain_proceed_one_worker_at_a_time() -> None:
    spec = the("PodDisruptionBudget")["spec"]
    replicas = workload()["spec"].get("replicas", 1)
    if "maxUnavailable" in spec:
        assert spec["maxUnavailable"] == 1
    else:
        assert int(spec["minAvailable"]) == replicas - 1, "a drain must be able to evict one"


def test_graceful_shutdown_has_time_to_commit() -> None:
    grace = workload()["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
    assert grace >= 30


def test_topics_job_creates_the_workers_topics() -> None:
    (job,) = objects("Job")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["topics", "create"]
    assert container["image"] == worker_container()["image"]
    assert configmap_env(container) == configmap_env(worker_container()), (
        "the Job must create the topics the workers read: same configuration")


def test_k8s_readme_has_the_scaling_note() -> None:
    text = (K8S / "README.md").read_text(encoding="utf-8")
    assert "NEWSWIRE_PARTITIONS" in text and "partition count" in text
    assert "sequencer" in text and "one partition" in text
