"""Hostile raw values (tests/hostile.py) through the pure pipeline: each ends in
exactly one sensible outcome, memory stays bounded, and parsing reads no file
and opens no connection."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.hostile import MiB, corpus, gzip_bomb
from worker.inputs import MAX_INFLATED_BYTES
from worker.pipeline.flow import InProcessPipeline, route_of
from worker.pipeline.records import DeadLetter, Origin
from worker.schemas import validator
from worker.topics import deadletter_limit

REPO = Path(__file__).resolve().parents[2]
# Peak RSS growth over a warmed-up worker process for the whole corpus (values
# up to 50 MiB, pages up to 9 MiB). `python -m tests.hostile` printed 138 to
# 227 MiB on the development machine; the bound is generous but far below what
# inflating the 1 GiB gzip bomb or expanding the billion laughs would take.
MAX_RSS_GROWTH_MIB = 640


def _child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.fixture(scope="module")
def corpus_run() -> dict[str, Any]:
    """The corpus through InProcessPipeline in a fresh process (python -m
    tests.hostile), so the peak RSS it reports is the corpus's own."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.hostile"], cwd=REPO, env=_child_env(),
        capture_output=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    run: dict[str, Any] = orjson.loads(result.stdout.splitlines()[-1])
    return run


def test_every_hostile_input_ends_in_one_sensible_outcome(corpus_run: dict[str, Any]) -> None:
    outcomes = corpus_run["outcomes"]
    assert [o["name"] for o in outcomes] == [h.name for h in corpus(huge=True)]
    wrong = [(o["name"], o["route"], o["reason"]) for o in outcomes if not o["allowed"]]
    assert wrong == []
    # Never "a bug of ours, caught": hostile input must get its own reason code.
    assert not [o for o in outcomes if o["reason"] in ("clean_error", "enrich_error")]
    assert {o["name"]: o["forbidden"] for o in outcomes if o["forbidden"]} == {}
    # Every output fits the topics the worker creates, so none becomes publish_failed.
    too_big = [o["name"] for o in outcomes if o["output_size"] > deadletter_limit(10 * MiB)]
    assert too_big == []


def test_memory_stays_bounded(corpus_run: dict[str, Any]) -> None:
    growth = max(o["rss_growth_mib"] for o in corpus_run["outcomes"])
    by_input = {o["name"]: o["rss_growth_mib"] for o in corpus_run["outcomes"]}
    assert growth < MAX_RSS_GROWTH_MIB, by_input


@pytest.fixture
def trap() -> Iterator[socket.socket]:
    """A listening socket no parser may connect to: a connection attempt would
    wait in its backlog, where accept() finds it."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.setblocking(False)
        yield server


_WATCHING: list[tuple[str, tuple[Any, ...]]] | None = None
_NETWORK_EVENTS = ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
                   "urllib.Request", "http.client.connect", "subprocess.Popen", "os.system")


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _WATCHING is not None and (event == "open" or event in _NETWORK_EVENTS):
        _WATCHING.append((event, args))


sys.addaudithook(_audit)  # hooks cannot be removed; it records only while watching


def test_parsing_reads_no_file_and_opens_no_connection(
    tmp_path: Path, trap: socket.socket
) -> None:
    global _WATCHING
    secret = tmp_path / "secret.txt"
    token = "newswire-secret-token-0d5c8e"
    secret.write_text(token)
    port = trap.getsockname()[1]
    items = [h for h in corpus(huge=False, secret_path=str(secret),
                                trap_url=f"http://127.0.0.1:{port}/trap")
             if h.name.startswith("entity/")]
    assert len(items) >= 10
    pipeline = InProcessPipeline(validator("raw"))
    # Models and lazily imported modules load here, not while watching.
    pipeline.run(items[0].value, Origin())
    pipeline = InProcessPipeline(validator("raw"))

    _WATCHING = []
    try:
        records = [pipeline.run(h.value, Origin("raw", 0, n)) for n, h in enumerate(items)]
    finally:
        watched, _WATCHING = _WATCHING, None

    for item, record in zip(items, records, strict=True):
        value = orjson.dumps(record.to_dict())
        reason = record.reason if isinstance(record, DeadLetter) else None
        assert item.allows(route_of(record), reason), (item.name, reason)
        assert token.encode() not in value, item.name
        assert not [f for f in item.forbidden if f in value], item.name
    opened = [args for event, args in watched if event == "open"
              and (str(secret) in str(args[0]) or "passwd" in str(args[0]))]
    assert opened == []
    assert [event for event, _ in watched if event != "open"] == []
    with pytest.raises(BlockingIOError):
        trap.accept()  # nobody knocked


def test_a_gzip_bomb_file_is_refused_by_the_cli_without_inflating_it(tmp_path: Path) -> None:
    """`newswire process`/`produce` read .gz inputs; one that inflates past
    MAX_INFLATED_BYTES is refused (exit 2) after reading at most that much."""
    bomb = tmp_path / "page.html.gz"
    bomb.write_bytes(gzip_bomb(4 * MAX_INFLATED_BYTES))  # 1 GiB of zeros in ~1 MB
    assert bomb.stat().st_size < 2 * MiB
    # The child reports its own peak RSS: RUSAGE_CHILDREN would include other tests'.
    script = (
        "import resource, sys\n"
        "from worker.cli import main\n"
        "code = main(['process', sys.argv[1]])\n"
        "print('maxrss_kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(bomb)], cwd=REPO, env=_child_env(),
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"inflates beyond {MAX_INFLATED_BYTES} bytes" in result.stderr
    peak_mib = int(result.stderr.rsplit("maxrss_kib", 1)[1].split()[0]) / 1024
    # At most the capped bytes and one decoded copy of them, plus the interpreter
    # and its libraries (measured 619 MiB in all); inflating the whole bomb would
    # take 1 GiB for the bytes alone.
    assert peak_mib < 2 * MAX_INFLATED_BYTES / MiB + 300 < 4 * MAX_INFLATED_BYTES / MiB, peak_mib
    assert result.stdout == ""
