"""worker.observability.PerRecordQuietMonitor: Faust's Prometheus sensor
without its per-record bookkeeping, keeping what the dashboard reads (send and
commit latency, committed offsets) and what Faust's stall warning reads."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from faust.sensors.prometheus import FaustMetrics
from faust.types import TP
from prometheus_client import CollectorRegistry

from worker.observability import PerRecordQuietMonitor


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


def test_per_record_hooks_are_quiet_and_the_dashboards_series_are_not() -> None:
    registry = CollectorRegistry()
    created: Any = FaustMetrics.create(registry, "faust")
    monitor = PerRecordQuietMonitor(metrics=created)
    tp = TP("newswire-unique", 2)
    message = SimpleNamespace(topic=tp.topic, partition=2, offset=7)
    monitor.on_message_in(tp, 7, message)  # type: ignore[arg-type]
    monitor.on_table_set(SimpleNamespace(name="dedup-urls"), "k", "v")  # type: ignore[arg-type]
    monitor.track_tp_end_offset(tp, 9)
    assert value(registry, "faust_messages_received_total") == 0
    assert value(registry, "faust_table_operations_total",
                 table="table.dedup-urls", operation="keys_updated") == 0
    # Faust's "stream has stopped processing" warning reads this.
    monitor.on_stream_event_in(tp, 7, SimpleNamespace(), SimpleNamespace())  # type: ignore[arg-type]
    assert tp in monitor.stream_inbound_time
    # Kept: the producer's send latency and the committed offsets.
    state = monitor.on_send_initiated(SimpleNamespace(), "newswire-unique",  # type: ignore[arg-type]
                                      message, 10, 20)
    monitor.on_send_completed(SimpleNamespace(), state, SimpleNamespace())  # type: ignore[arg-type]
    assert value(registry, "faust_producer_send_latency_count") == 1
    monitor.on_tp_commit({tp: 8})
    assert value(registry, "faust_topic_partition_offset_commited",
                 topic=tp.topic, partition="2") == 8
