"""`newswire demo` (what `make run` runs): start a worker, feed it a sample feed,
print what became of every message, then keep the worker running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kafka import KafkaProducer

from worker.samples import FeedItem, build_feed, seed_items
from worker.scrape import Snapshot, scrape
from worker.security import client_options
from worker.settings import Settings
from worker.topics import deadletter_limit, ensure_topics

_READY_TIMEOUT_S = 120.0
_DRAIN_TIMEOUT_S = 180.0


class DemoError(RuntimeError):
    pass


def _metrics_url(settings: Settings) -> str:
    host = "127.0.0.1" if settings.web_host in ("0.0.0.0", "") else settings.web_host
    return f"http://{host}:{settings.web_port}/metrics"


def _log_tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start_worker(log_path: Path) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "worker.cli", "worker"], stdout=log, stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )


def wait_until_serving(proc: subprocess.Popen[bytes], url: str, log_path: Path) -> Snapshot:
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise DemoError(f"the worker exited ({proc.returncode}):\n{_log_tail(log_path)}")
        try:
            return scrape(url)
        except OSError:
            if time.monotonic() > deadline:
                raise DemoError(f"the worker did not serve {url} in time") from None
            time.sleep(0.25)


def publish(settings: Settings, items: list[FeedItem]) -> None:
    producer = KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        max_request_size=deadletter_limit(settings.max_message_bytes),
        acks="all",
        **client_options(settings),
    )
    try:
        for item in items:
            producer.send(settings.topic_raw, key=item.key, value=item.value)
        producer.flush()
    finally:
        producer.close()


def outputs(settings: Settings, snap: Snapshot) -> dict[str, float]:
    published = snap.by_label("newswire_records_published_total", "topic")
    return {
        "consumed": snap.total("newswire_messages_consumed_total"),
        "enriched": published.get(settings.topic_enriched, 0.0),
        "duplicates": published.get(settings.topic_duplicates, 0.0),
        "deadletter": published.get(settings.topic_deadletter, 0.0),
    }


def wait_for_drain(settings: Settings, url: str, expected: int, proc: subprocess.Popen[bytes],
                   log_path: Path) -> Snapshot:
    """Poll the worker's counters until every message sent is accounted for."""
    deadline = time.monotonic() + _DRAIN_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise DemoError(f"the worker exited ({proc.returncode}):\n{_log_tail(log_path)}")
        snap = scrape(url)
        o = outputs(settings, snap)
        done = o["enriched"] + o["duplicates"] + o["deadletter"]
        if o["consumed"] >= expected and done >= o["consumed"]:
            return snap
        if time.monotonic() > deadline:
            raise DemoError(f"only {done:.0f} of {expected} messages accounted for in time")
        time.sleep(0.2)


def summary(settings: Settings, snap: Snapshot, sent: int) -> str:
    o = outputs(settings, snap)
    dups = snap.by_label("newswire_duplicates_total", "method")
    dead = snap.by_label("newswire_dead_letters_total", "reason")
    revisions = snap.total("newswire_revisions_total")

    def fmt(counts: dict[str, float]) -> str:
        return ", ".join(f"{k}: {v:.0f}" for k, v in sorted(counts.items()) if v)

    lines = [
        "",
        "newswire demo summary",
        f"  sent           {sent}",
        f"  consumed       {o['consumed']:.0f}",
        f"  enriched       {o['enriched']:.0f}  ({revisions:.0f} of them new revisions)",
        f"  duplicates     {o['duplicates']:.0f}  ({fmt(dups)})",
        f"  dead-lettered  {o['deadletter']:.0f}  ({fmt(dead)})",
        f"  metrics        {_metrics_url(settings)}",
        "  see records    .venv/bin/newswire tail enriched --from-beginning",
        "                 (also: duplicates, deadletter)",
        "",
    ]
    return "\n".join(lines)


def stop_worker(proc: subprocess.Popen[bytes], timeout: float = 60.0) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def run_demo(settings: Settings, *, once: bool, seed_dir: str, count: int) -> int:
    log_path = Path(settings.datadir) / "worker.log"
    url = _metrics_url(settings)
    print(f"broker {','.join(settings.bootstrap_servers)}; creating topics", flush=True)
    ensure_topics(settings, timeout_s=60)
    print(f"starting the worker (log: {log_path})", flush=True)
    proc = start_worker(log_path)
    try:
        before = outputs(settings, wait_until_serving(proc, url, log_path))
        items = build_feed(count) + seed_items(Path(seed_dir))
        print(f"feeding {len(items)} sample messages to {settings.topic_raw}", flush=True)
        publish(settings, items)
        snap = wait_for_drain(settings, url, int(before["consumed"]) + len(items), proc, log_path)
        print(summary(settings, snap, len(items)), flush=True)
        if once:
            return 0 if stop_worker(proc) == 0 else 1
        print(f"the worker keeps consuming {settings.topic_raw}; Ctrl-C stops it", flush=True)
        try:
            proc.wait()
        except KeyboardInterrupt:
            print("\nstopping the worker...", flush=True)
        return 0 if stop_worker(proc) in (0, -signal.SIGTERM) else 1
    except DemoError as exc:
        print(f"newswire demo: {exc}", file=sys.stderr)
        stop_worker(proc)
        return 1
    except KeyboardInterrupt:
        stop_worker(proc)
        return 130
