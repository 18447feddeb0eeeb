"""Sequencer speed and state size at scale, for bench/dedup.py.

The sequencer decides on fingerprints alone, so the streams here are made of
synthetic fingerprints with the statistics that matter to it: random MinHash
slots for unrelated articles (every band key new: the most state per
article), near copies whose slots agree with an earlier article's at a
Jaccard drawn from 0.55-0.95, exact copies under new URLs, and re-sends of a
URL. Event times advance evenly, so expiry runs as in a steady stream.

RocksDB tables are opened exactly as Faust opens them
(``faust.stores.rocksdb.RocksDBOptions(...).open``), and wrapped in a
MutableMapping that serialises keys and values with orjson, as the app's
table schema does, and deletes blindly as Faust's store does; the bands are
the worker's own local database (``worker.band_store.LocalBands``: one
multi-get, one write batch, no changelog).
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from worker.band_store import LocalBands
from worker.pipeline.dedup import DedupIndex, DedupOptions, canonical_url, make_article_id
from worker.pipeline.minhash import DEFAULT_SCHEME, band_keys, encode_signature, slots_of
from worker.pipeline.records import CleanArticle, DuplicateNotice, Fingerprints

TABLES = ("urls", "hashes", "sketches", "timeline")  # Faust tables in the worker
T0 = 1_717_200_000.0


class RocksTable(MutableMapping[str, Any]):
    """A RocksDB database as a MutableMapping, serialised like the app's tables."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def __getitem__(self, key: str) -> Any:
        raw = self.db.get(orjson.dumps(key))
        if raw is None:
            raise KeyError(key)
        return orjson.loads(raw)

    def get(self, key: str, default: Any = None) -> Any:
        raw = self.db.get(orjson.dumps(key))
        return default if raw is None else orjson.loads(raw)

    def __setitem__(self, key: str, value: Any) -> None:
        self.db[orjson.dumps(key)] = orjson.dumps(value)

    def __delitem__(self, key: str) -> None:
        # A blind delete, as Faust's RocksDB store does (no KeyError): a read first
        # would charge the sequencer a lookup per delete that the worker never makes.
        del self.db[orjson.dumps(key)]

    def __iter__(self) -> Iterator[str]:
        for raw in self.db:
            yield orjson.loads(raw)

    def __len__(self) -> int:
        return sum(1 for _ in self.db)


@dataclass
class RocksTables:
    root: Path
    dbs: dict[str, Any]
    bands: LocalBands

    @classmethod
    def open(cls, root: Path, **options: Any) -> RocksTables:
        from faust.stores.rocksdb import RocksDBOptions

        opener = RocksDBOptions(use_rocksdict=True, **options)
        dbs = {}
        for name in TABLES:
            (root / name).mkdir(parents=True, exist_ok=True)
            dbs[name] = opener.open(root / name)
        bands = LocalBands(root / "bands", **{k: v for k, v in options.items() if k in (
            "write_buffer_size", "max_write_buffer_number", "block_cache_size")})
        bands.clear()  # opens it
        return cls(root, dbs, bands)

    def databases(self) -> dict[str, Any]:
        """Every RocksDB database: the tables' and the bands' (a new one after
        ``bands.clear()``)."""
        return {**self.dbs, "bands": self.bands.database}

    def index(self, options: DedupOptions) -> DedupIndex:
        t = {name: RocksTable(self.dbs[name]) for name in TABLES}
        return DedupIndex(t["urls"], t["hashes"], self.bands, t["sketches"], t["timeline"],
                          options=options)

    def settle(self) -> None:
        """Flush memtables and compact, so the files hold what the window holds."""
        for db in self.databases().values():
            db.flush()
            db.compact_range(None, None)

    def memory(self) -> dict[str, int]:
        """What RocksDB itself holds in memory, summed over the tables."""
        out = {"memtables": 0, "block cache": 0, "index and filters": 0}
        for db in self.databases().values():
            out["memtables"] += db.property_int_value("rocksdb.size-all-mem-tables") or 0
            out["block cache"] += db.property_int_value("rocksdb.block-cache-usage") or 0
            out["index and filters"] += (
                db.property_int_value("rocksdb.estimate-table-readers-mem") or 0)
        return out

    def disk_bytes(self) -> dict[str, int]:
        out = {}
        for name in self.databases():
            out[name] = sum(f.stat().st_size for f in (self.root / name).rglob("*")
                            if f.is_file() and f.suffix == ".sst")
        return out

    def close(self) -> None:
        for db in self.dbs.values():
            db.close()
        self.bands.close()


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


# --- synthetic fingerprint streams ----------------------------------------------------------


class Stream:
    """Articles with synthetic fingerprints; ``mix`` gives the share of each kind.

    Each article has random 32-bit MinHash minima; a near copy keeps each of
    its original's minima with probability J (so its slots agree at rate J and
    a band matches iff all its rows were kept, as with real sketches)."""

    def __init__(self, seed: int, seconds_per_article: float,
                 mix: dict[str, float] | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.dt = seconds_per_article
        self.mix = mix or {"unique": 1.0}
        self.count = 0
        # Recent originals a copy can be made of: (url, content hash, minima, shingles).
        self.recent: list[tuple[str, str, np.ndarray[Any, Any], int]] = []

    def _article(self, url: str, chash: str, mins: np.ndarray[Any, Any],
                 shingles: int) -> CleanArticle:
        prints = Fingerprints(
            content_hash=chash, body_words=shingles + 2, shingles=shingles,
            signature=encode_signature(slots_of(mins, DEFAULT_SCHEME)),
            bands=band_keys(mins, DEFAULT_SCHEME), scheme=DEFAULT_SCHEME.name,
        )
        canonical = canonical_url(url)
        fetched = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                time.gmtime(T0 + self.count * self.dt))
        return CleanArticle(
            article_id=make_article_id(canonical, chash), url=url, canonical_url=canonical,
            source=None, title=None, body="", authors=[], published_at=None,
            fetched_at=fetched, language_hint=None, tags=[], clean={},
            fingerprints=prints,
        )

    def chunk(self, n: int) -> list[CleanArticle]:
        kinds = list(self.mix)
        picks = self.rng.choice(len(kinds), size=n, p=[self.mix[k] for k in kinds])
        randoms = self.rng.integers(0, 2**32, size=(n, DEFAULT_SCHEME.num_perm),
                                    dtype=np.uint64)
        hashes = self.rng.integers(0, 2**63, size=(n, 2), dtype=np.int64)
        sizes = self.rng.integers(80, 1500, size=n)
        out = []
        for i in range(n):
            kind = kinds[picks[i]] if self.recent else "unique"
            self.count += 1
            chash = f"{int(hashes[i, 0]):016x}{int(hashes[i, 1]):016x}"
            url = f"https://site{self.count % 997}.example/news/2024/06/story-{self.count}"
            if kind == "unique":
                mins, shingles = randoms[i], int(sizes[i])
                self.recent.append((url, chash, mins, shingles))
                if len(self.recent) > 5000:
                    self.recent = self.recent[-2500:]
            else:
                o_url, o_hash, o_mins, o_shingles = self.recent[
                    int(self.rng.integers(len(self.recent)))]
                shingles = o_shingles
                if kind == "near":
                    keep = self.rng.random(o_mins.size) < self.rng.uniform(0.55, 0.95)
                    mins = np.where(keep, o_mins, randoms[i])
                elif kind == "exact":
                    mins, chash = o_mins, o_hash
                else:  # a re-send of the URL
                    mins, chash, url = o_mins, o_hash, o_url
            out.append(self._article(url, chash, mins, shingles))
        return out


# --- measurements ---------------------------------------------------------------------------------


def speed(index: DedupIndex, stream: Stream, decisions: int, chunk: int = 5_000) -> dict[str, Any]:
    """Decisions per CPU second of ``index.decide`` on precomputed articles (one core).

    CPU time of this process, not wall time: other jobs share the machine, and
    the question is what one core does. (A busy machine still slows it a little
    through shared caches; the wall rate is returned too.)"""
    elapsed = wall = 0.0
    best = 0.0  # the least disturbed chunk
    methods: dict[str, int] = {}
    done = 0
    while done < decisions:
        batch = stream.chunk(min(chunk, decisions - done))
        gc.collect()
        started, started_wall = time.process_time(), time.perf_counter()
        results = [index.decide(a) for a in batch]
        took = max(time.process_time() - started, 1e-9)
        wall += time.perf_counter() - started_wall
        elapsed += took
        best = max(best, len(batch) / took)
        for r in results:
            key = r.method if isinstance(r, DuplicateNotice) else (
                "unique" if r.revision == 1 else "revision")
            methods[key] = methods.get(key, 0) + 1
        done += len(batch)
    return {"decisions": done, "seconds": elapsed, "per_second": done / elapsed,
            "wall_per_second": done / wall, "best": best, "methods": methods}


def state(articles: int, checkpoints: tuple[int, ...], seconds_per_article: float,
          rocks_options: dict[str, Any], workdir: Path | None = None) -> dict[str, Any]:
    """RSS and disk per article held, every table in RocksDB."""
    root = Path(tempfile.mkdtemp(prefix="dedup-state-", dir=workdir))
    try:
        tables = RocksTables.open(root, **rocks_options)
        index = tables.index(DedupOptions())
        stream = Stream(seed=7, seconds_per_article=seconds_per_article)
        gc.collect()
        base = rss_bytes()
        points: list[tuple[int, int, float]] = []
        done, elapsed = 0, 0.0
        for target in checkpoints:
            while done < target:
                # Small batches: their garbage is what the heap keeps between them.
                batch = stream.chunk(min(2_000, target - done))
                started = time.perf_counter()
                for article in batch:
                    index.decide(article)
                elapsed += time.perf_counter() - started
                done += len(batch)
                del batch
            gc.collect()
            points.append((done, rss_bytes() - base, elapsed))
        filling = tables.memory()
        tables.settle()
        settled = tables.memory()
        disk = tables.disk_bytes()
        tables.close()
        return {"articles": done, "points": points, "disk": disk, "memory": filling,
                "settled": settled, "per_second": done / elapsed, "base_rss": base}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))
