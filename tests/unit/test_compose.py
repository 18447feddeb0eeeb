"""docker-compose.yml, deploy/Dockerfile and deploy/prometheus agree with each other
and with the worker's settings.

There is no Docker engine in CI, so these checks read the files: the names, ports
and paths that must line up for `docker compose up` to give a working stack.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import subprocess
import sys
import tomllib
from collections import Counter
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from worker.settings import Settings
from worker.topics import deadletter_limit

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
PROMETHEUS_CONFIG_IN_IMAGE = "/etc/prometheus/prometheus.yml"  # prom/prometheus's default


# --- reading the files -----------------------------------------------------------


@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]  # type: ignore[no-any-return]


def env_of(service: str) -> dict[str, str]:
    """A service's environment as strings, from either compose spelling."""
    raw = services()[service].get("environment") or {}
    if isinstance(raw, list):
        return dict(item.split("=", 1) for item in raw)
    return {key: "" if value is None else str(value) for key, value in raw.items()}


def depends_on(service: str) -> dict[str, str]:
    """target -> condition, from either compose spelling."""
    raw = services()[service].get("depends_on") or {}
    if isinstance(raw, list):
        return {name: "service_started" for name in raw}
    return {name: spec.get("condition", "service_started") for name, spec in raw.items()}


def volume_mounts(service: str) -> list[tuple[str, str]]:
    """(source, target) of every mount; source is "" for an anonymous volume."""
    mounts = []
    for item in services()[service].get("volumes") or []:
        if isinstance(item, dict):
            mounts.append((str(item.get("source", "")), str(item["target"])))
        else:
            parts = item.split(":")
            mounts.append(("", parts[0]) if len(parts) == 1 else (parts[0], parts[1]))
    return mounts


def is_path(source: str) -> bool:
    return source.startswith((".", "/", "~"))


def repo_path_behind(service: str, container_path: str) -> Path | None:
    """The repository file or directory a bind mount shows at container_path."""
    wanted = PurePosixPath(container_path)
    for source, target in volume_mounts(service):
        if not is_path(source):
            continue
        mount = PurePosixPath(target)
        if wanted == mount or mount in wanted.parents:
            return (COMPOSE.parent / source / wanted.relative_to(mount)).resolve()
    return None


def container_port(service: str) -> int:
    """The port a service listens on inside the network, from its single mapping."""
    (mapping,) = services()[service].get("ports") or [None]
    assert mapping is not None, f"{service} publishes no port"
    return int(str(mapping).split("/")[0].rsplit(":", 1)[-1])


def built_from_dockerfile(service: str) -> bool:
    build = services()[service].get("build")
    if not isinstance(build, dict):
        return False
    context = COMPOSE.parent / str(build.get("context", "."))
    return (context / str(build.get("dockerfile", "Dockerfile"))).resolve() == DOCKERFILE


def newswire_services() -> list[str]:
    return sorted(name for name in services() if built_from_dockerfile(name))


@cache
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # also inside a continued instruction, as Docker does
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        if full:
            keyword, _, args = full.partition(" ")
            instructions.append((keyword.upper(), args.strip()))
    return instructions


def runtime_stage() -> list[tuple[str, str]]:
    """The instructions of the last stage: the image that runs."""
    stages: list[list[tuple[str, str]]] = []
    for keyword, args in dockerfile():
        if keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((keyword, args))
    assert stages, "deploy/Dockerfile has no FROM"
    return stages[-1]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, args in runtime_stage():
        if keyword == "ENV":
            for token in shlex.split(args):
                key, sep, value = token.partition("=")
                assert sep, f"use ENV KEY=VALUE, got {token!r}"
                env[key] = value
    return env


def exec_form(keyword: str) -> list[str]:
    found = [args for kw, args in runtime_stage() if kw == keyword]
    assert found, f"the runtime stage of deploy/Dockerfile has no {keyword}"
    try:
        value = json.loads(found[-1])
    except json.JSONDecodeError:
        value = None
    assert isinstance(value, list), f"{keyword} should use the exec (JSON array) form"
    return [str(v) for v in value]


def worker_web_port() -> int:
    """What the worker listens on: compose env, else the image's, else the default."""
    env = {**image_env(), **env_of("worker")}
    return Settings.from_env(env).web_port


def kafka_listeners(variable: str) -> dict[str, tuple[str, int]]:
    """KAFKA_LISTENERS-style value -> {listener name: (host, port)}."""
    parsed = {}
    for entry in env_of("kafka")[variable].split(","):
        match = re.fullmatch(r"\s*([A-Za-z0-9_-]+)://([^:]*):(\d+)\s*", entry)
        assert match, f"{variable}: cannot parse {entry!r}"
        parsed[match[1]] = (match[2], int(match[3]))
    return parsed


def kafka_names() -> set[str]:
    """Names under which other containers reach the kafka service."""
    kafka = services()["kafka"]
    return {"kafka", *([kafka["hostname"]] if "hostname" in kafka else [])}


# --- compose: services and references --------------------------------------------


def test_the_stack_has_its_services() -> None:
    assert {"kafka", "worker", "prometheus", "grafana", "feeder"} <= set(services())
    assert set(newswire_services()) >= {"worker", "feeder"}


def test_every_depends_on_target_is_a_service() -> None:
    for name in services():
        for target, condition in depends_on(name).items():
            assert target in services(), f"{name} depends on unknown service {target!r}"
            if condition == "service_healthy":
                healthcheck = services()[target].get("healthcheck") or {}
                has_own = bool(healthcheck.get("test")) and not healthcheck.get("disable")
                assert has_own or (
                    built_from_dockerfile(target) and not healthcheck.get("disable")
                    and any(kw == "HEALTHCHECK" for kw, _ in runtime_stage())
                ), f"{name} waits for {target} to be healthy, but it has no healthcheck"


def test_newswire_services_wait_for_a_healthy_broker() -> None:
    for name in newswire_services():
        assert depends_on(name).get("kafka") == "service_healthy", name


def test_build_files_exist() -> None:
    for name, service in services().items():
        build = service.get("build")
        if build is None:
            continue
        if isinstance(build, str):
            build = {"context": build}
        context = COMPOSE.parent / build.get("context", ".")
        assert context.is_dir(), f"{name}: build context {context} is missing"
        assert (context / build.get("dockerfile", "Dockerfile")).is_file(), name


def test_named_volumes_are_declared_and_bind_sources_exist() -> None:
    declared = set(compose().get("volumes") or {})
    used = set()
    for name in services():
        for source, _target in volume_mounts(name):
            if not source:
                continue
            if is_path(source):
                assert (COMPOSE.parent / source).exists(), f"{name}: {source} does not exist"
            else:
                assert source in declared, f"{name}: volume {source!r} is not declared"
                used.add(source)
    assert used == declared, f"declared but unused volumes: {declared - used}"


def test_kafka_and_prometheus_keep_their_data_in_volumes() -> None:
    kafka_dirs = env_of("kafka")["KAFKA_LOG_DIRS"].split(",")
    kafka_targets = {target for source, target in volume_mounts("kafka") if source}
    assert set(kafka_dirs) <= kafka_targets, "KAFKA_LOG_DIRS is not on a volume"
    assert "/prometheus" in {target for source, target in volume_mounts("prometheus") if source}


# --- compose: Kafka ------------------------------------------------------------------


def test_kafka_is_the_official_image_at_the_dev_broker_version() -> None:
    image = services()["kafka"]["image"]
    assert image.startswith("apache/kafka:"), image
    pom = ROOT / "deploy" / "local-kafka" / "pom.xml"
    if not pom.exists():
        pytest.skip("deploy/local-kafka/pom.xml is absent")
    version = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom.read_text())
    assert version, "no <kafka.version> in deploy/local-kafka/pom.xml"
    assert image == f"apache/kafka:{version[1]}", "compose and local-kafka run different brokers"


def test_kafka_has_a_healthcheck_against_its_own_listener() -> None:
    healthcheck = services()["kafka"].get("healthcheck") or {}
    assert healthcheck.get("test") and not healthcheck.get("disable")
    command = " ".join(healthcheck["test"]) if isinstance(healthcheck["test"], list) else (
        healthcheck["test"])
    match = re.search(r"--bootstrap-server\s+[^\s:]+:(\d+)", command)
    assert match, f"healthcheck does not ask a broker: {command}"
    ports = {port for _host, port in kafka_listeners("KAFKA_LISTENERS").values()}
    assert int(match[1]) in ports


def test_kafka_is_a_consistent_single_node_kraft_cluster() -> None:
    env = env_of("kafka")
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env.get("CLUSTER_ID"), "a fixed CLUSTER_ID keeps the data volume usable"
    listeners = kafka_listeners("KAFKA_LISTENERS")
    advertised = kafka_listeners("KAFKA_ADVERTISED_LISTENERS")
    protocol_map = env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
    protocols = dict(pair.split(":") for pair in protocol_map.split(","))
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]

    assert set(listeners) <= set(protocols), "a listener has no security protocol"
    assert controller in listeners
    assert controller not in advertised, "the controller listener must not be advertised"
    for name, (_host, port) in advertised.items():
        assert name in listeners and listeners[name][1] == port, f"{name} is advertised, not bound"
    assert env.get("KAFKA_INTER_BROKER_LISTENER_NAME", "PLAINTEXT") in listeners

    (voter,) = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
    node, _, address = voter.partition("@")
    host, _, voter_port = address.rpartition(":")
    assert node == env["KAFKA_NODE_ID"]
    assert host in kafka_names() | {"localhost"}
    assert int(voter_port) == listeners[controller][1]

    # One broker cannot hold the default three replicas of its internal topics.
    for variable in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
                     "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"):
        assert env.get(variable) == "1", variable


def test_kafka_accepts_the_largest_record_newswire_publishes() -> None:
    limit = deadletter_limit(Settings().max_message_bytes)
    assert int(env_of("kafka")["KAFKA_MESSAGE_MAX_BYTES"]) >= limit


@pytest.mark.parametrize("service", ["worker", "feeder"])
def test_newswire_broker_is_kafkas_advertised_in_network_listener(service: str) -> None:
    servers = Settings.from_env(env_of(service)).bootstrap_servers
    advertised = kafka_listeners("KAFKA_ADVERTISED_LISTENERS")
    controller = env_of("kafka")["KAFKA_CONTROLLER_LISTENER_NAMES"]
    internal = {
        f"{host}:{port}" for name, (host, port) in advertised.items()
        if host in kafka_names() and name != controller
    }
    assert servers, f"{service} has no broker"
    for server in servers:
        assert server in internal, f"{service}: {server} is not one of {sorted(internal)}"


# --- compose: worker and feeder -------------------------------------------------------


def test_worker_can_be_scaled() -> None:
    worker = services()["worker"]
    assert "container_name" not in worker
    for port in worker.get("ports") or []:
        published = port.get("published") if isinstance(port, dict) else (
            str(port).rsplit(":", 1)[0] if ":" in str(port) else None)
        assert not published, f"a fixed host port stops --scale: {port}"
    # RocksDB locks its directory: replicas must not share one through a named volume.
    datadir = Settings.from_env({**image_env(), **env_of("worker")}).datadir
    for source, target in volume_mounts("worker"):
        assert not (source and target.rstrip("/") == datadir.rstrip("/")), (
            f"{source} would be shared by every worker replica")


def test_feeder_creates_topics_and_produces_the_mounted_samples() -> None:
    feeder = services()["feeder"]
    command = " ".join([*(feeder.get("entrypoint") or []), *(feeder.get("command") or [])])
    assert "newswire topics create" in command
    produce = re.search(r"newswire produce(?:\s+-\S+)*\s+(\S+)", command)
    assert produce, command
    mounts = {target: source for source, target in volume_mounts("feeder")}
    assert produce[1] in mounts, f"{produce[1]} is not mounted into the feeder"
    assert (COMPOSE.parent / mounts[produce[1]]).resolve() == ROOT / "deploy" / "samples"
    assert feeder.get("restart", "no") == "no", "a one-shot job must not restart"


def test_samples_reach_every_public_output_topic() -> None:
    """Offline, the samples end in enriched, duplicates and deadletter alike."""
    result = subprocess.run(
        [sys.executable, "-m", "worker.cli", "process", str(ROOT / "deploy" / "samples")],
        capture_output=True, check=True, timeout=120, cwd=ROOT,
    )
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    topics = Counter(line["topic"] for line in lines)
    settings = Settings()
    for topic in (settings.topic_enriched, settings.topic_duplicates, settings.topic_deadletter):
        assert topics[topic] >= 1, f"no sample ends in {topic}: {dict(topics)}"


# --- Prometheus ----------------------------------------------------------------------


def prometheus_config_path() -> Path:
    service = services()["prometheus"]
    assert str(service.get("image", "")).startswith("prom/prometheus:")
    command = " ".join(service.get("command") or [])
    flag = re.search(r"--config\.file=(\S+)", command)
    in_container = flag[1] if flag else PROMETHEUS_CONFIG_IN_IMAGE
    for source, target in volume_mounts("prometheus"):
        if target == in_container:
            assert is_path(source), "the Prometheus config should be a file from the repo"
            return (COMPOSE.parent / source).resolve()
    pytest.fail(f"nothing is mounted at {in_container}, where Prometheus reads its config")


def test_prometheus_config_is_mounted_from_the_repo() -> None:
    path = prometheus_config_path()
    assert path == ROOT / "deploy" / "prometheus" / "prometheus.yml"
    assert path.is_file()


def test_prometheus_discovers_every_worker_on_its_metrics_port() -> None:
    config = yaml.safe_load(prometheus_config_path().read_text(encoding="utf-8"))
    discovered = [
        (job, sd) for job in config["scrape_configs"] for sd in job.get("dns_sd_configs", [])
    ]
    assert discovered, "no dns_sd_configs: scaled workers would not be scraped"
    for job, sd in discovered:
        assert sd.get("type") == "A", "Docker's DNS answers A records, one per container"
        assert set(sd["names"]) <= set(services()), f"{sd['names']} are not compose services"
        assert job.get("metrics_path", "/metrics") == "/metrics"
    ports = {sd["port"] for _job, sd in discovered if "worker" in sd["names"]}
    assert ports == {worker_web_port()}, "Prometheus scrapes another port than the worker serves"
    exposed = {int(str(p).split("/")[0]) for p in services()["worker"].get("expose", [])}
    assert exposed in (set(), {worker_web_port()})


def test_prometheus_loads_the_alert_rules_mounted_beside_its_config() -> None:
    config_path = prometheus_config_path()
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    rule_files = config.get("rule_files") or []
    assert rule_files, "prometheus.yml loads no alert rules"
    config_dir = PurePosixPath(PROMETHEUS_CONFIG_IN_IMAGE).parent
    for entry in rule_files:
        assert not any(ch in entry for ch in "*?["), f"name the rule file, not a glob: {entry}"
        # Prometheus resolves a relative rule file against its config file's directory,
        # in the container as promtool does in the repository.
        in_container = config_dir / entry
        behind = repo_path_behind("prometheus", str(in_container))
        assert behind is not None, f"nothing is mounted at {in_container}"
        assert behind == (config_path.parent / entry).resolve(), (
            f"{in_container} in the container is {behind}, not {entry} beside prometheus.yml")
        assert behind.is_file(), behind


# --- Grafana -------------------------------------------------------------------------

GRAFANA_PROVISIONING = "/etc/grafana/provisioning"  # the image's GF_PATHS_PROVISIONING


def grafana_provisioning(kind: str) -> list[dict[str, Any]]:
    """Every provisioning document of one kind ("datasources", "dashboards")."""
    directory = repo_path_behind("grafana", f"{GRAFANA_PROVISIONING}/{kind}")
    assert directory is not None and directory.is_dir(), (
        f"{GRAFANA_PROVISIONING}/{kind} is not mounted from the repository")
    files = sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")])
    assert files, f"no provisioning file in {directory}"
    return [yaml.safe_load(f.read_text(encoding="utf-8")) for f in files]


def test_grafana_is_the_official_image_with_newswires_provisioning() -> None:
    grafana = services()["grafana"]
    assert str(grafana.get("image", "")).startswith("grafana/grafana:"), grafana.get("image")
    assert "GF_PATHS_PROVISIONING" not in env_of("grafana")
    provisioning = repo_path_behind("grafana", GRAFANA_PROVISIONING)
    assert provisioning == ROOT / "deploy" / "grafana" / "provisioning"
    assert depends_on("grafana").get("prometheus") == "service_healthy"
    assert "/var/lib/grafana" in {t for s, t in volume_mounts("grafana") if s and not is_path(s)}


def test_grafana_datasource_is_the_compose_prometheus() -> None:
    datasources = [ds for doc in grafana_provisioning("datasources") for ds in doc["datasources"]]
    prometheus = [ds for ds in datasources if ds["type"] == "prometheus"]
    assert len(prometheus) == 1 and prometheus[0].get("isDefault"), prometheus
    (source,) = prometheus
    match = re.fullmatch(r"http://([^:/]+):(\d+)/?", source["url"])
    assert match, source["url"]
    assert match[1] == "prometheus" and int(match[2]) == container_port("prometheus")
    scrape = yaml.safe_load(prometheus_config_path().read_text())["global"]["scrape_interval"]
    # $__rate_interval is built from timeInterval: it must be the real scrape interval.
    assert source.get("jsonData", {}).get("timeInterval") == scrape


def test_grafana_loads_the_repositorys_dashboards() -> None:
    providers = [p for doc in grafana_provisioning("dashboards") for p in doc["providers"]]
    assert providers
    loaded = set()
    for provider in providers:
        assert provider.get("type", "file") == "file"
        directory = repo_path_behind("grafana", provider["options"]["path"])
        assert directory == ROOT / "deploy" / "grafana" / "dashboards", (
            f"provider {provider['name']} reads {provider['options']['path']}, "
            "where deploy/grafana/dashboards is not mounted")
        loaded |= {p.name for p in directory.glob("*.json")}
    assert "newswire.json" in loaded
    home = env_of("grafana").get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    if home:
        behind = repo_path_behind("grafana", home)
        assert behind is not None and behind.is_file(), f"home dashboard {home} is not mounted"


def test_grafana_answers_on_loopback_and_has_a_healthcheck() -> None:
    (mapping,) = services()["grafana"]["ports"]
    assert str(mapping).startswith("127.0.0.1:"), "publish Grafana on loopback only"
    healthcheck = services()["grafana"].get("healthcheck") or {}
    test = " ".join(healthcheck.get("test") or [])
    assert f"localhost:{container_port('grafana')}/api/health" in test, test


# --- the image -------------------------------------------------------------------------


def test_image_runs_the_console_script_as_a_worker_by_default() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert exec_form("ENTRYPOINT") == ["newswire"]
    assert "newswire" in pyproject["project"]["scripts"]
    assert exec_form("CMD") == ["worker"]


def test_image_is_slim_python_and_runs_unprivileged() -> None:
    froms = [args for kw, args in dockerfile() if kw == "FROM"]
    assert len(froms) >= 2, "expected a multi-stage build"
    default_base = dict(
        args.split("=", 1) for kw, args in dockerfile() if kw == "ARG" and "=" in args
    )
    base = re.sub(r"\$\{(\w+)\}", lambda m: default_base.get(m[1], m[0]), froms[-1].split()[0])
    assert base == "python:3.11-slim", base
    users = [args for kw, args in runtime_stage() if kw == "USER"]
    assert users, "the image would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_image_serves_metrics_where_its_healthcheck_and_volume_expect() -> None:
    env = image_env()
    assert env.get("NEWSWIRE_WEB_HOST") == "0.0.0.0", "metrics must be reachable from outside"
    port = Settings.from_env(env).web_port
    assert [args for kw, args in runtime_stage() if kw == "EXPOSE"] == [str(port)]
    healthcheck = " ".join(args for kw, args in runtime_stage() if kw == "HEALTHCHECK")
    assert "/metrics" in healthcheck and "python" in healthcheck
    volumes = [yaml.safe_load(args) for kw, args in runtime_stage() if kw == "VOLUME"]
    flat = [v for vol in volumes for v in (vol if isinstance(vol, list) else [vol])]
    assert env.get("NEWSWIRE_DATADIR") in flat, "the data directory is not a volume"


# --- the build context -------------------------------------------------------------------


def _glob_regex(pattern: str) -> str:
    """Go's filepath.Match syntax plus '**', as .dockerignore uses it."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            if body[:1] in ("!", "^"):
                body = "^" + body[1:]
            out.append(f"[{body}]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def dockerignore_excludes(path: str) -> bool:
    """moby's rules, closely enough: last matching pattern wins, '!' re-includes,
    and a pattern that matches a parent directory matches everything below it."""
    excluded = False
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for line in lines:
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        regex = _glob_regex(pattern.lstrip("!").strip("/"))
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            excluded = not negate
    return excluded


def copied_sources() -> list[str]:
    sources: list[str] = []
    for keyword, args in dockerfile():
        if keyword not in ("COPY", "ADD"):
            continue
        tokens = shlex.split(args)
        if any(t.startswith("--from") for t in tokens):
            continue  # copies from another stage, not from the context
        paths = [t for t in tokens if not t.startswith("--")]
        sources.extend(t.rstrip("/") for t in paths[:-1])
    return sources


def test_everything_the_build_copies_is_in_the_build_context() -> None:
    sources = copied_sources()
    assert sources, "the Dockerfile copies nothing from the context"
    for source in sources:
        matches = [p.relative_to(ROOT).as_posix() for p in ROOT.glob(source)]
        if not any(ch in source for ch in "*?["):
            assert matches, f"COPY {source}: no such file in the repository"
        for match in matches:
            assert not dockerignore_excludes(match), f".dockerignore drops {match}"


def test_hatchling_finds_what_it_packages_in_the_build_context() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    needed = [pyproject["project"]["readme"]]
    wheel = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]
    needed += wheel.get("packages", []) + list(wheel.get("force-include", {}))
    copied = copied_sources()
    for path in needed:
        assert not dockerignore_excludes(path), f".dockerignore drops {path}"
        assert any(fnmatch.fnmatch(path, source) for source in copied), f"{path} is not COPYed"


def test_dockerignore_keeps_the_heavy_and_private_things_out() -> None:
    for path in (".git", ".venv", "deploy/local-kafka/.cache", "var", "worker/__pycache__",
                 "worker/pipeline/clean.pyc", "tests", "docker-compose.yml"):
        assert dockerignore_excludes(path), path
