"""worker.table_reads: the dedup agent over Faust's RocksDB store reads an article's
bands in one multi-get, and reaches the decisions the index reaches over dicts."""

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
from worker.table_reads import BatchReads


def expected(articles: list[CleanArticle]) -> tuple[list[Any], list[Any]]:
    """(unique, duplicates) as the worker would publish them, from the pure index."""
    index = DedupIndex({}, {}, {}, {}, {}, options=Settings().pipeline_config().dedup)
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
    database = BatchReads._database

    def counted(self: BatchReads) -> tuple[Any, Any]:
        db, found = database(self)
        reads["one call" if db is not None else "key by key"] += 1
        return db, found

    monkeypatch.setattr(BatchReads, "_database", counted)
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
