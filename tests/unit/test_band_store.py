"""worker.band_store: the sequencer's LSH bands in a local RocksDB database,
rebuilt from the changelogged tables instead of changelogged themselves. The
dedup agent over it reaches the pure index's decisions and band state, also
after a restart that has to rebuild the bands from what the tables kept."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest

import worker.app as app_module
from tests.unit.test_agents import captured_sends, sent
from tests.unit.test_dedup_tables import OPTIONS, TABLES, stream
from worker.app import create_app
from worker.band_store import LocalBands, _Spread, rebuild
from worker.pipeline.dedup import DedupIndex
from worker.pipeline.records import CleanArticle, DuplicateNotice
from worker.settings import Settings


def pure(articles: list[CleanArticle], settings: Settings
         ) -> tuple[list[Any], list[Any], dict[int, str]]:
    """(unique, duplicates) as the worker would publish them, and the bands left,
    from the index over dicts."""
    bands: dict[int, str] = {}
    index = DedupIndex({}, {}, bands, {}, {}, options=settings.pipeline_config().dedup)
    uniques: list[Any] = []
    duplicates: list[Any] = []
    for article in articles:
        d = index.decide(article)
        if isinstance(d, DuplicateNotice):
            duplicates.append((d.article_id, d.duplicate_of, d.method, d.similarity))
        else:
            uniques.append((d.article.article_id, d.revision, d.supersedes))
    return uniques, duplicates, bands


async def decide(settings: Settings, articles: list[CleanArticle], *, revoke: bool = False
                 ) -> tuple[list[Any], list[Any], dict[int, str]]:
    """What one worker process publishes for ``articles``, and its bands after;
    ``revoke``: then it gives up its partitions, as in a rebalance."""
    newswire = create_app(settings, prometheus=False)
    with captured_sends(newswire) as sends:
        async with newswire.app.agents["dedup"].test_context() as agent:
            for article in articles:
                await agent.put(article.to_dict(), key=article.article_id.encode())
            if revoke:
                await newswire.app.on_partitions_revoked.send(set())
    uniques = [(v["article_id"], v["revision"], v["supersedes"]) for _, v in sent(sends, "unique")]
    duplicates = [(v["article_id"], v["duplicate_of"], v["method"], v["similarity"])
                  for _, v in sent(sends, "duplicates")]
    bands = dict(newswire.bands.items())
    newswire.bands.close()
    # As a process exit would: Faust leaves its databases to the collector.
    for table in newswire.tables.values():
        store: Any = table.data
        for db in getattr(store, "_dbs", {}).values():
            db.close()
        getattr(store, "_dbs", {}).clear()
    return uniques, duplicates, bands


@pytest.mark.parametrize("store", ["rocksdb://", "memory://"])
async def test_the_dedup_agent_decides_as_the_index_with_local_bands(
    tmp_path: Path, store: str
) -> None:
    """A one-day window over articles half an hour apart: bands are written for
    every unique article and deleted as each leaves the window."""
    articles = [article for article, _ in stream(200, seed=3)]
    settings = Settings(store=store, datadir=str(tmp_path / "faust"), processes=0,
                        dedup_window_days=1.0)
    uniques, duplicates, bands = await decide(settings, articles)
    assert (uniques, duplicates, bands) == pure(articles, settings)
    assert {method for _, _, method, _ in duplicates} == {"url", "exact", "near"}
    assert bands
    if store == "rocksdb://":
        assert (Path(settings.datadir) / "v1" / "tables" / "dedup-bands-local.db").is_dir()


async def test_a_restart_rebuilds_the_bands_from_the_tables(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The second process finds the first one's tables on disk and an empty band
    database: it rebuilds the bands before its first decision, and its near
    duplicates of articles the first process saw are the pure index's."""
    articles = [article for article, _ in stream(300, seed=4)]
    settings = Settings(store="rocksdb://", datadir=str(tmp_path / "faust"), processes=0)
    first = await decide(settings, articles[:150])
    with caplog.at_level(logging.INFO, logger="newswire"):
        second = await decide(settings, articles[150:])
    uniques, duplicates, bands = pure(articles, settings)
    assert first[0] + second[0] == uniques
    assert first[1] + second[1] == duplicates
    assert second[2] == bands
    rebuilt = [r.getMessage() for r in caplog.records if "rebuilt the LSH bands" in r.message]
    assert len(rebuilt) == 1 and not rebuilt[0].startswith("rebuilt the LSH bands of 0 ")
    # Near duplicates across the restart: decided from rebuilt bands.
    first_ids = {u[0] for u in first[0]}
    assert any(m == "near" and of in first_ids for _, of, m, _ in second[1])


def messages(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


async def test_bands_given_up_cleanly_are_kept_unless_the_tables_moved_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A rebalance stamps the bands with the tables' version. The next process
    over the same tables keeps them; bands stamped with an older version than
    the tables (another worker decided in between) are rebuilt. The decisions
    are the pure index's either way."""
    articles = [article for article, _ in stream(300, seed=4)]
    settings = Settings(store="rocksdb://", datadir=str(tmp_path / "faust"), processes=0)
    database = Path(settings.datadir) / "v1" / "tables" / "dedup-bands-local.db"
    caplog.set_level(logging.INFO, logger="newswire")
    first = await decide(settings, articles[:100], revoke=True)
    stamped_after_first = tmp_path / "stamped-after-first"
    shutil.copytree(database, stamped_after_first)
    second = await decide(settings, articles[100:200], revoke=True)
    assert len(messages(caplog, "kept, not rebuilt")) == 1
    assert len(messages(caplog, "rebuilt the LSH bands")) == 1  # the first, empty
    # As if this host had held the sequencer after the first part only.
    shutil.rmtree(database)
    shutil.copytree(stamped_after_first, database)
    third = await decide(settings, articles[200:])
    assert len(messages(caplog, "kept, not rebuilt")) == 1
    assert len(messages(caplog, "rebuilt the LSH bands")) == 2
    uniques, duplicates, bands = pure(articles, settings)
    assert first[0] + second[0] + third[0] == uniques
    assert first[1] + second[1] + third[1] == duplicates
    assert third[2] == bands


async def test_bands_not_given_up_cleanly_are_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No stamp (a crash, a SIGKILL): rebuilt, even over the same tables."""
    articles = [article for article, _ in stream(120, seed=6)]
    settings = Settings(store="rocksdb://", datadir=str(tmp_path / "faust"), processes=0)
    caplog.set_level(logging.INFO, logger="newswire")
    first = await decide(settings, articles[:60])
    second = await decide(settings, articles[60:])
    assert not messages(caplog, "kept, not rebuilt")
    assert len(messages(caplog, "rebuilt the LSH bands")) == 2
    assert (first[0] + second[0], first[1] + second[1], second[2]) == pure(articles, settings)


async def test_a_decision_cut_short_leaves_nothing_to_stamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A decision that fails after writing bands (an exception in it) leaves
    bands and tables apart: a rebalance after it stamps nothing, so the next
    owner rebuilds."""
    articles = [article for article, _ in stream(30, seed=2)]
    settings = Settings(store="rocksdb://", datadir=str(tmp_path / "faust"), processes=0)
    newswire = create_app(settings, prometheus=False)
    decide_for_real = app_module.dedup_stage

    def fails_at_the_twentieth(article: Any, index: DedupIndex) -> Any:
        if article is not None and article.article_id == articles[19].article_id:
            index.bands.set_many({1: "x" * 16})
            raise RuntimeError("cut short")
        return decide_for_real(article, index)

    monkeypatch.setattr(app_module, "dedup_stage", fails_at_the_twentieth)
    with captured_sends(newswire):
        async with newswire.app.agents["dedup"].test_context() as agent:
            for article in articles[:19]:
                await agent.put(article.to_dict(), key=article.article_id.encode())
            await newswire.app.on_partitions_revoked.send(set())
            assert newswire.bands.stamp() is not None  # a clean hand-over
            with pytest.raises(RuntimeError, match="cut short"):
                await agent.put(articles[19].to_dict(), key=articles[19].article_id.encode())
            await newswire.app.on_partitions_revoked.send(set())
            assert newswire.bands.stamp() is None
    newswire.bands.close()


@pytest.mark.parametrize("on_disk", [True, False])
def test_the_stamp_is_durable_and_the_first_write_removes_it(
    tmp_path: Path, on_disk: bool
) -> None:
    path = tmp_path / "bands.db" if on_disk else None
    bands = LocalBands(path)
    bands.set_many({7: "a" * 16})
    bands.set_stamp(b"[1,2]")
    assert bands.stamp() == b"[1,2]" and list(bands) == [7]  # the stamp is no band
    if on_disk:
        bands.close()
        bands = LocalBands(path)
        assert bands.stamp() == b"[1,2]" and bands[7] == "a" * 16
    bands.set_many({8: "b" * 16})
    assert bands.stamp() is None
    if on_disk:
        bands.close()
        assert LocalBands(path).stamp() is None  # removed durably, before the write
    bands.close()


@pytest.mark.parametrize("on_disk", [True, False])
def test_local_bands_many_keys_at_once(tmp_path: Path, on_disk: bool) -> None:
    bands = LocalBands(tmp_path / "bands.db" if on_disk else None)
    bands.set_many({1: "a" * 16, 2**48 - 1: "b" * 32})
    assert bands.get_many([1, 3, 2**48 - 1]) == ["a" * 16, None, "b" * 32]
    # State from before int band keys names a key in 12 hex digits: the same key.
    assert bands["000000000001"] == "a" * 16
    bands["00000000000a"] = "c" * 16
    assert bands[10] == "c" * 16
    assert sorted(bands) == [1, 10, 2**48 - 1] and len(bands) == 3
    bands.delete_many([1, "00000000000a"])
    assert dict(bands.items()) == {2**48 - 1: "b" * 32}
    with pytest.raises(KeyError):
        del bands[1]
    bands.clear()
    assert len(bands) == 0 and bands.get(2**48 - 1) is None
    bands.close()


def decided_tables(n: int, seed: int) -> dict[str, dict[Any, Any]]:
    """The sequencer's tables over dicts after a stream with shared and
    overflowing bands, replays, revisions and expiry (max_band_fanout 3)."""
    tables: dict[str, dict[Any, Any]] = {name: {} for name in TABLES}
    index = DedupIndex(*(tables[name] for name in TABLES), options=OPTIONS)
    for article, at in stream(n, seed=seed):
        index.decide(article, now=at)
    return tables


def over(tables: dict[str, dict[Any, Any]], bands: LocalBands) -> DedupIndex:
    return DedupIndex(*(bands if name == "bands" else tables[name] for name in TABLES),
                      options=OPTIONS)


@pytest.mark.parametrize("on_disk", [True, False])
async def test_the_sorted_rebuild_leaves_the_bands_the_decisions_left(
    tmp_path: Path, on_disk: bool
) -> None:
    """``rebuild`` (spread, sort, fold, load whole) gives the bands the decisions
    left, which ``DedupIndex.rebuild_bands`` (the decisions' own updates,
    replayed) is tested to give: shared bands in decision order, overflowing
    ones cut to their newest, expired articles gone."""
    tables = decided_tables(1_500, seed=5)
    kept = tables["bands"]
    values = list(kept.values())
    assert any(len(v) == 3 * 16 for v in values)  # overflowed, cut back
    assert any(16 < len(v) < 3 * 16 for v in values)  # shared
    bands = LocalBands(tmp_path / "bands.db" if on_disk else None)
    bands.set_many({1: "x" * 16})  # left by an earlier owner: gone after
    (tmp_path / "bands-rebuild-killed").mkdir()  # a rebuild cut short by a kill
    (tmp_path / "bands-rebuild-killed" / "part-007").write_bytes(b"x" * 12)
    done, _ = await rebuild(over(tables, bands), bands)
    assert done >= len(tables["sketches"]) > 200  # a revision's sketch comes twice
    assert dict(bands.items()) == kept
    left = [p for p in tmp_path.iterdir() if p.name.startswith("bands-rebuild-")]
    assert left == ([] if on_disk else [tmp_path / "bands-rebuild-killed"])
    bands.close()


def test_the_sorted_rebuild_in_many_scratch_writes_and_table_files(tmp_path: Path) -> None:
    """Pairs flushed to the scratch files many times, and the bands loaded as many
    table files: the same bands, readable and writable after."""
    tables = decided_tables(600, seed=8)
    bands = LocalBands(tmp_path / "bands.db")
    bands.clear()
    index = over(tables, bands)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    spread = _Spread(scratch, flush_at=500)
    for handle, keys in index.band_entries():
        spread.add(handle, keys)
    counts = list(bands.write_sorted(spread.bands(index.band_value, run=25), scratch,
                                     file_keys=700))
    assert counts[-1] == len(tables["bands"]) > 5 * 700 and len(counts) > 256  # parts split in runs
    assert not list(scratch.iterdir())  # the table files were moved into the database
    assert dict(bands.items()) == tables["bands"]
    bands.set_many({5: "y" * 16})
    assert bands[5] == "y" * 16 and len(bands) == len(tables["bands"]) + 1
    bands.close()


def test_a_handle_of_another_length_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="handle of 5 characters"):
        _Spread(tmp_path).add("short", [1, 2])
