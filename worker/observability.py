"""Health endpoints and the gauges Faust's sensor does not give: consumer lag
per partition, dedup state size, rebalances. Installed on the Faust app by
``create_app``; everything here reads the app, nothing changes it."""

from __future__ import annotations

from collections.abc import Mapping
from time import monotonic
from typing import Any, cast

import faust
from faust.sensors.prometheus import PrometheusMonitor, setup_prometheus_sensors
from faust.web import Request, Response, View

from worker import metrics
from worker.status import RecentEvents, page, snapshot

_LAG_INTERVAL_S = 5.0


def consumer_lag(app: faust.App) -> dict[tuple[str, int], int]:
    """End offset minus committed offset, per assigned partition this worker has
    fetched from (a partition not fetched yet has no known end offset)."""
    consumer = app.consumer
    # Faust keeps the committed offset (the next offset to read) per partition;
    # asking the broker instead would cost a round trip per partition per scrape.
    committed: Mapping[Any, int | None] = getattr(consumer, "_committed_offset", {})
    lags: dict[tuple[str, int], int] = {}
    for tp in consumer.assignment():
        end = consumer.highwater(tp)
        done = committed.get(tp)
        if end is None or done is None:
            continue
        lags[(tp.topic, tp.partition)] = max(0, end - done)
    return lags


def readiness(app: faust.App) -> dict[str, Any]:
    # Ready once a first assignment has arrived and its tables are recovered; an
    # empty assignment (more workers than partitions) is a legitimate standby.
    assigned_once = bool(getattr(app, "_newswire_assigned_once", False))
    rebalancing = bool(app.rebalancing)
    recovering = bool(app.in_recovery)
    try:
        assigned = len(app.consumer.assignment())
    except Exception:  # the consumer does not exist before the worker starts
        assigned = 0
    return {
        "ready": assigned_once and not rebalancing and not recovering,
        "assigned_once": assigned_once,
        "rebalancing": rebalancing,
        "recovering": recovering,
        "assigned_partitions": assigned,
    }


def install(
    app: faust.App, tables: Mapping[str, Any], recent: RecentEvents, topics: dict[str, str]
) -> None:
    reported: set[tuple[str, int]] = set()
    status_page = page(topics)

    @app.page("/")
    async def index(self: View, request: Request) -> Response:
        return self.html(status_page)

    @app.page("/status.json")
    async def status(self: View, request: Request) -> Response:
        return self.json(snapshot(recent))

    @app.page("/healthz")
    async def healthz(self: View, request: Request) -> Response:
        # Liveness: the event loop answers. Nothing slower belongs here, or a
        # busy worker gets restarted for being busy.
        return self.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(self: View, request: Request) -> Response:
        state = readiness(app)
        return self.json(state, status=200 if state["ready"] else 503)

    async def on_assigned(sender: Any, assigned: Any = None, **kwargs: Any) -> None:
        app._newswire_assigned_once = True  # type: ignore[attr-defined]
        metrics.REBALANCES.inc()

    app.on_partitions_assigned.connect(on_assigned)  # type: ignore[arg-type]

    @app.timer(interval=_LAG_INTERVAL_S)  # type: ignore[untyped-decorator]
    async def observe() -> None:
        lags = consumer_lag(app)
        for topic, partition in reported - lags.keys():  # moved to another worker
            metrics.CONSUMER_LAG.remove(topic, str(partition))
        for (topic, partition), lag in lags.items():
            metrics.CONSUMER_LAG.labels(topic=topic, partition=str(partition)).set(lag)
        reported.clear()
        reported.update(lags)
        for name, table in tables.items():
            metrics.DEDUP_STATE_ENTRIES.labels(table=name).set(_size(table))


def _size(table: Any) -> int:
    """Entries in a table. Faust's len() on a RocksDB table scans every key; the
    RocksDB estimate is O(1) and close enough for a gauge."""
    estimate = getattr(table, "estimate_size", None)  # the local bands (band_store)
    if estimate is not None:
        return int(estimate())
    store = getattr(table, "data", None)
    try:
        dbs = getattr(store, "_dbs_for_actives", None)
        if dbs is not None:
            return sum(int(db.property_int_value("rocksdb.estimate-num-keys") or 0)
                       for db in dbs())
        return len(table)
    except Exception:  # a store that is not open (no partitions assigned yet)
        return 0


class PerRecordQuietMonitor(PrometheusMonitor):
    """Faust's Prometheus sensor without its per-record bookkeeping.

    Faust calls its sensor for every message in and out, every stream event in
    and out, every table read and write, and every fetch's end offsets: about a
    tenth of the main process's CPU on corpus pages (py-spy, bench/RESULTS.md),
    for series nothing here reads (``newswire_messages_consumed_total`` and
    ``newswire_consumer_lag_messages`` give the same). Those series stay
    declared and stay flat. Sends, commits, rebalances and web requests are
    measured as before (the dashboard uses the send and commit latencies and
    the committed offsets)."""

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        pass

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> None:
        # Kept: Faust's consumer reads it to warn about a stream that stopped.
        self.stream_inbound_time[tp] = monotonic()

    def on_stream_event_out(self, tp: Any, offset: int, stream: Any, event: Any,
                            state: Any = None) -> None:
        pass

    def on_message_out(self, tp: Any, offset: int, message: Any) -> None:
        pass

    def on_table_get(self, table: Any, key: Any) -> None:
        pass

    def on_table_set(self, table: Any, key: Any, value: Any) -> None:
        pass

    def on_table_del(self, table: Any, key: Any) -> None:
        pass

    def track_tp_end_offset(self, tp: Any, offset: int) -> None:
        pass


def install_faust_sensor(app: faust.App) -> None:
    """Faust's Prometheus sensor on /metrics, series prefixed ``faust_`` (apart
    from newswire_*), without the per-record part."""
    setup_prometheus_sensors(app, pattern="/metrics", name_prefix="faust")
    created = cast(PrometheusMonitor, app.monitor)
    app.monitor = PerRecordQuietMonitor(metrics=created._metrics)
