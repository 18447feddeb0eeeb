"""The status page at ``/`` of the web port: for operators without Grafana.

``/status.json`` is built from the same Prometheus registry that ``/metrics``
serves (so the page and the dashboards cannot disagree) plus two short lists
of recent events kept in memory: dead letters and duplicates. The page is one
self-contained HTML document (no external assets) that polls the JSON and
derives rates from counter deltas in the browser.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry

from worker import __version__
from worker.pipeline.records import DeadLetter, DuplicateNotice

_RECENT = 20


@dataclass
class RecentEvents:
    dead_letters: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=_RECENT))
    duplicates: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=_RECENT))

    def dead_letter(self, letter: DeadLetter) -> None:
        self.dead_letters.appendleft({
            "at": time.time(), "reason": letter.reason, "stage": letter.stage,
            "error": letter.error[:200], "topic": letter.origin.topic,
            "partition": letter.origin.partition, "offset": letter.origin.offset,
        })

    def duplicate(self, notice: DuplicateNotice) -> None:
        self.duplicates.appendleft({
            "at": time.time(), "article_id": notice.article_id, "url": notice.url,
            "duplicate_of": notice.duplicate_of, "method": notice.method,
            "similarity": notice.similarity,
        })


def _samples(registry: CollectorRegistry, names: Iterable[str]) -> dict[str, list[Any]]:
    wanted = set(names)
    out: dict[str, list[Any]] = {name: [] for name in wanted}
    for family in registry.collect():
        for s in family.samples:
            if s.name in wanted:
                out[s.name].append({"labels": s.labels, "value": s.value})
    return out


def snapshot(recent: RecentEvents, registry: CollectorRegistry = REGISTRY) -> dict[str, Any]:
    s = _samples(registry, [
        "newswire_messages_consumed_total", "newswire_records_published_total",
        "newswire_duplicates_total", "newswire_dead_letters_total",
        "newswire_consumer_lag_messages", "newswire_dedup_state_entries",
    ])

    def total(name: str) -> float:
        return float(sum(x["value"] for x in s[name]))

    def by(name: str, label: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for x in s[name]:
            key = x["labels"].get(label, "")
            out[key] = out.get(key, 0.0) + x["value"]
        return out

    return {
        "version": __version__,
        "time": time.time(),
        "consumed": total("newswire_messages_consumed_total"),
        "published": by("newswire_records_published_total", "topic"),
        "duplicates": by("newswire_duplicates_total", "method"),
        "dead_letters": by("newswire_dead_letters_total", "reason"),
        "lag": sorted(
            ({"topic": x["labels"]["topic"], "partition": int(x["labels"]["partition"]),
              "lag": x["value"]} for x in s["newswire_consumer_lag_messages"]),
            key=lambda r: (r["topic"], r["partition"]),
        ),
        "dedup_state": by("newswire_dedup_state_entries", "table"),
        "recent_dead_letters": list(recent.dead_letters),
        "recent_duplicates": list(recent.duplicates),
    }


def page(topics: dict[str, str]) -> str:
    """The page, with the topic names of this deployment filled in."""
    html = resources.files("worker").joinpath("status.html").read_text(encoding="utf-8")
    return html.replace("__TOPICS__", json.dumps(topics))
