"""worker.table_batches: the dedup agent over Faust's RocksDB store reads an article's
bands in one multi-get and writes and deletes them in one write batch, reaches
the decisions the index reaches over dicts, and leaves a changelog that rebuilds
the bands table byte for byte."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_agents import captured_sends, sent
from tests.unit.test_dedup_tables import stream
from worker.app import create_app
from worker.pipeline.dedup import DedupIndex
from worker.pipeline.records import CleanArticle, DuplicateNotice
from worker.settings import Settings
from worker.table_batches import BatchTable


def expected(articles: list[CleanArticle], settings: Settings | None = None
             ) -> tuple[list[Any], list[Any]]:
    """(unique, duplicates) as the worker would publish them, from the pure index."""
    options = (settings or Settings()).pipeline_config().dedup
    index = DedupIndex({}, {}, {}, {}, {}, options=options)
    uniques: list[Any] = []
    duplicates: list[Any] = []
    for article in articles:
        d = index.decide(article)
        if isinstance(d, DuplicateNotice):
            duplicates.append((d.article_id, d.duplicate_of, d.method, d.similarity))
        else:
            uniques.append((d.article.article_id, d.revision, d.supersedes))
    return uniques, duplicates


@pytest.mark.parametrize(("store", "batched"), [("rocksdb://", True), ("memory://", False)])
async def test_the_dedup_agent_reads_bands_in_one_call_and_decides_as_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: str, batched: bool
) -> None:
    articles = [article for article, _ in stream(150, seed=8)]
    reads: Counter[str] = Counter()
    database = BatchTable._database

    def counted(self: BatchTable) -> tuple[Any, Any, int]:
        db, found, partition = database(self)
        reads["one call" if db is not None else "key by key"] += 1
        return db, found, partition

    monkeypatch.setattr(BatchTable, "_database", counted)
    settings = Settings(store=store, datadir=str(tmp_path / "faust"), processes=0)
    newswire = create_app(settings, prometheus=False)
    with captured_sends(newswire) as sends:
        async with newswire.app.agents["dedup"].test_context() as agent:
            for article in articles:
                await agent.put(article.to_dict(), key=article.article_id.encode())
    uniques = [(v["article_id"], v["revision"], v["supersedes"]) for _, v in sent(sends, "unique")]
    duplicates = [(v["article_id"], v["duplicate_of"], v["method"], v["similarity"])
                  for _, v in sent(sends, "duplicates")]
    assert (uniques, duplicates) == expected(articles)
    assert {method for _, _, method, _ in duplicates} == {"url", "exact", "near"}
    # Over RocksDB every band read went to the database in one call; the memory
    # store has no database to batch, so it reads key by key.
    assert reads["one call" if batched else "key by key"] > 100
    assert reads["key by key" if batched else "one call"] == 0


async def test_band_writes_go_in_batches_and_their_changelog_rebuilds_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A one-day window over articles half an hour apart: bands are written for
    every unique article and deleted as each leaves the window, in batches. What
    recovery would read back (the changelog records, applied in order) is the
    table as stored, and the decisions are the pure index's."""
    articles = [article for article, _ in stream(200, seed=3)]
    settings = Settings(store="rocksdb://", datadir=str(tmp_path / "faust"), processes=0,
                        dedup_window_days=1.0)
    newswire = create_app(settings, prometheus=False)
    bands = newswire.tables["bands"]
    changelog: list[Any] = []
    monkeypatch.setattr(newswire.app.producer, "send_soon", changelog.append)
    batches: Counter[str] = Counter()
    write = BatchTable._write

    def counted(self: BatchTable, db: Any, partition: int, records: list[Any]) -> None:
        batches["puts" if records[0][1] is not None else "deletes"] += 1
        write(self, db, partition, records)

    monkeypatch.setattr(BatchTable, "_write", counted)
    with captured_sends(newswire) as sends:
        async with newswire.app.agents["dedup"].test_context() as agent:
            for article in articles:
                await agent.put(article.to_dict(), key=article.article_id.encode())
            store: Any = bands.data
            db = store._db_for_partition(0)
            stored = {k: v for k, v in db.items() if k != store.offset_key}
    uniques = [(v["article_id"], v["revision"], v["supersedes"]) for _, v in sent(sends, "unique")]
    duplicates = [(v["article_id"], v["duplicate_of"], v["method"], v["similarity"])
                  for _, v in sent(sends, "duplicates")]
    assert (uniques, duplicates) == expected(articles, settings)
    assert batches["puts"] > 50 and batches["deletes"] > 20  # expiry ran too
    replayed: dict[bytes, bytes] = {}
    topic = bands.changelog_topic.get_topic_name()
    records = [f.message for f in changelog if f.message.channel.get_topic_name() == topic]
    for m in records:
        assert isinstance(m.key, bytes)  # all of them through the batches
        if m.value is None:
            del replayed[m.key]
        else:
            replayed[m.key] = m.value
    assert stored and replayed == stored
    # the persisted offset is set once a batch, by its last record
    assert sum(m.callback is not None for m in records) == sum(batches.values())
