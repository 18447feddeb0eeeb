"""The sequencer reaches the same decisions and leaves the same state over plain
dicts (the offline pipeline; DedupIndex takes shortcuts there) as over any other
MutableMapping that stores JSON (the worker's Faust tables, which hand back lists
where a dict hands back the tuple written), including across restarts. The one
difference allowed: a sketch's band keys are kept as ints over dicts and
packed where the table serialises."""

from __future__ import annotations

import base64
import itertools
import time
from collections.abc import Iterator, MutableMapping
from typing import Any

import numpy as np
import orjson

from worker.pipeline.dedup import DedupIndex, DedupOptions, canonical_url, make_article_id
from worker.pipeline.minhash import (
    DEFAULT_SCHEME,
    band_hex,
    band_keys,
    encode_signature,
    slots_of,
)
from worker.pipeline.records import CleanArticle, DuplicateNotice, Fingerprints, Origin

TABLES = ("urls", "hashes", "bands", "sketches", "timeline")
T0 = 1_717_200_000.0
# Small fan-out so bands shared by a template overflow and are cut back.
OPTIONS = DedupOptions(max_band_fanout=3)


class JsonTable(MutableMapping[str, Any]):
    """Keys and values through orjson, as the worker's tables keep them."""

    def __init__(self, data: dict[str, bytes] | None = None) -> None:
        self.data: dict[str, bytes] = dict(data or {})

    def __getitem__(self, key: str) -> Any:
        return orjson.loads(self.data[key])

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = orjson.dumps(value)

    def __delitem__(self, key: str) -> None:
        del self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


class BatchJsonTable(JsonTable):
    """A JsonTable that also reads many keys in one call, as RocksDB can."""

    def __init__(self, data: dict[str, bytes] | None = None) -> None:
        super().__init__(data)
        self.batches = 0

    def get_many(self, keys: list[str]) -> list[Any]:
        self.batches += 1
        return [self.get(key) for key in keys]


def stream(n: int, seed: int) -> list[tuple[CleanArticle, float | None]]:
    """Articles with synthetic fingerprints of every kind the sequencer tells
    apart, each with its event time (None for the first few: no clock yet)."""
    rng = np.random.default_rng(seed)
    template = rng.integers(0, 2**32, size=DEFAULT_SCHEME.num_perm, dtype=np.uint64)
    originals: list[tuple[str, str, Any, int]] = []
    out: list[tuple[CleanArticle, float | None]] = []
    offset = 0

    def make(url: str | None, chash: str, mins: Any, shingles: int,
             at: float | None, position: int) -> CleanArticle:
        canonical = canonical_url(url)
        prints = Fingerprints(
            content_hash=chash, body_words=shingles + 2, shingles=shingles,
            signature=encode_signature(slots_of(mins, DEFAULT_SCHEME)),
            bands=band_keys(mins, DEFAULT_SCHEME), scheme=DEFAULT_SCHEME.name,
        )
        fetched = None if at is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
        return CleanArticle(
            article_id=make_article_id(canonical, chash), url=url, canonical_url=canonical,
            source=None, title=None, body="", authors=[], published_at=None,
            fetched_at=fetched, language_hint=None, tags=[], clean={}, fingerprints=prints,
            origin=Origin("articles.raw", 0, position),
        )

    kinds = ["unique", "near", "weak", "template", "exact", "resend", "revision", "replay",
             "no-url", "short"]
    weights = [0.30, 0.12, 0.12, 0.12, 0.07, 0.05, 0.07, 0.07, 0.04, 0.04]
    for i in range(n):
        # Half an hour apart: a week's window is full after ~340 articles.
        at = None if i < 5 else T0 + i * 1_800.0
        kind = str(rng.choice(kinds, p=weights)) if originals and out else "unique"
        fresh = rng.integers(0, 2**32, size=DEFAULT_SCHEME.num_perm, dtype=np.uint64)
        chash = f"{int(rng.integers(0, 2**63)):016x}{i:016x}"
        shingles = int(rng.integers(60, 900))
        url: str | None = f"https://site{i % 7}.example/story-{i}"
        if kind == "replay":
            # The same input again (a crash before its offset was committed).
            out.append((out[-1 - int(rng.integers(min(4, len(out))))][0], at))
            continue
        if originals:
            o_url, o_hash, o_mins, o_shingles = originals[int(rng.integers(len(originals)))]
        if kind in ("near", "weak"):
            low, high = (0.55, 0.95) if kind == "near" else (0.2, 0.45)
            keep = rng.random(o_mins.size) < rng.uniform(low, high)
            mins, shingles = np.where(keep, o_mins, fresh), o_shingles
        elif kind == "template":
            # Another story in a shared template: the first ten bands are the template's.
            mins = np.concatenate([template[:30], fresh[30:]])
        elif kind == "exact":
            mins, chash, shingles = o_mins, o_hash, o_shingles
        elif kind == "resend":
            mins, chash, shingles, url = o_mins, o_hash, o_shingles, o_url
        elif kind == "revision":
            mins, url = fresh, o_url
        else:
            mins = fresh
            if kind == "no-url":
                url = None
            elif kind == "short":
                shingles = 20
        offset += 1
        article = make(url, chash, mins, shingles, at, offset)
        out.append((article, at))
        if kind in ("unique", "template", "weak", "revision") and url is not None:
            originals.append((url, chash, mins, shingles))
    return out


def decide_all(
    make_table: Any, articles: list[tuple[CleanArticle, float | None]],
    restart_every: int | None = None, restart_with: Any = None,
) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    """Decisions and final state; every ``restart_every`` articles a new index
    over copies of the tables (made by ``restart_with``, alternating with
    ``make_table`` if given: state handed between the two kinds of table)."""
    tables = {name: make_table() for name in TABLES}
    makers = itertools.cycle([restart_with, make_table] if restart_with else [make_table])

    def index_over(t: dict[str, Any]) -> DedupIndex:
        return DedupIndex(t["urls"], t["hashes"], t["bands"], t["sketches"], t["timeline"],
                          options=OPTIONS)

    index = index_over(tables)
    decisions: list[tuple[Any, ...]] = []
    for n, (article, at) in enumerate(articles):
        if restart_every and n and n % restart_every == 0:
            # A new process over what the tables recovered.
            maker = next(makers)
            tables = {name: _copy(table, maker) for name, table in tables.items()}
            index = index_over(tables)
        d = index.decide(article, now=at)
        decisions.append(
            ("duplicate", d.duplicate_of, d.method, d.similarity)
            if isinstance(d, DuplicateNotice) else ("unique", d.revision, d.supersedes)
        )
    state = {name: {k: orjson.loads(orjson.dumps(v)) for k, v in table.items()}
             for name, table in tables.items()}
    for sketch in state["sketches"].values():
        sketch[4:] = [band_keys_of(sketch[4:])]
    return decisions, state


def band_keys_of(stored: list[Any]) -> list[int]:
    """A sketch's band keys (its items after the fourth): kept as they are over
    dicts, packed ("#" and base64 of their 6-byte big-endian values) in one item
    where the table serialises."""
    if len(stored) != 1:
        return stored
    stored = stored[0]
    assert stored.startswith("#")
    raw = base64.b64decode(stored[1:])
    assert len(raw) == 6 * DEFAULT_SCHEME.bands
    return [int.from_bytes(raw[i : i + 6], "big") for i in range(0, len(raw), 6)]


def _copy(table: MutableMapping[str, Any], make_table: Any) -> MutableMapping[str, Any]:
    copy = make_table()
    for key, value in table.items():
        copy[key] = value
    return copy


def test_dicts_and_json_tables_reach_the_same_decisions_and_state() -> None:
    articles = stream(1_500, seed=5)
    over_dicts, dict_state = decide_all(dict, articles)
    over_json, json_state = decide_all(JsonTable, articles)
    assert over_dicts == over_json
    assert dict_state == json_state
    # The stream exercised what the shortcuts skip: shared and overflowing bands,
    # near duplicates, revisions, and expiry (state bounded by the window).
    methods = {d[2] for d in over_dicts if d[0] == "duplicate"}
    assert methods == {"url", "exact", "near"}
    assert any(d[0] == "unique" and d[1] > 1 for d in over_dicts)
    assert any(len(v) == 3 * 16 for v in dict_state["bands"].values())
    assert any(16 < len(v) < 3 * 16 for v in dict_state["bands"].values())
    assert len(dict_state["sketches"]) < 0.5 * len(articles)


def test_a_batch_reading_table_reaches_the_same_decisions() -> None:
    articles = stream(800, seed=6)
    batched: list[BatchJsonTable] = []

    def make_table() -> BatchJsonTable:
        batched.append(BatchJsonTable())
        return batched[-1]

    assert decide_all(make_table, articles) == decide_all(dict, articles)
    assert sum(t.batches for t in batched) > 0


def test_restarts_reach_the_same_decisions_over_dicts_and_json_tables() -> None:
    articles = stream(900, seed=7)
    uninterrupted = decide_all(dict, articles)
    assert decide_all(dict, articles, restart_every=37) == uninterrupted
    assert decide_all(JsonTable, articles, restart_every=37) == uninterrupted
    # State written over dicts read back from JSON tables, and the other way.
    assert decide_all(dict, articles, 37, restart_with=JsonTable)[0] == uninterrupted[0]


def test_state_from_before_int_band_keys_still_expires() -> None:
    """Band keys were 12-hex-digit strings, and sketches packed them as base64
    of their bytes without the "#" mark. Such state, in a table that serialises,
    is still swept at expiry: the hex keys go with their sketch."""
    articles = stream(60, seed=9)
    tables = {name: JsonTable() for name in TABLES}
    index = DedupIndex(tables["urls"], tables["hashes"], tables["bands"], tables["sketches"],
                       tables["timeline"],
                       options=DedupOptions(max_band_fanout=3,
                                            max_clock_step_seconds=60 * 86_400))
    for article, at in articles[:10]:
        index.decide(article, now=at)
    # Rewrite the bands and sketches as the earlier version wrote them.
    bands, sketches = tables["bands"], tables["sketches"]
    assert bands and all(isinstance(key, int) for key in bands)
    for key in list(bands):
        bands[band_hex(key)] = bands.pop(key)
    for handle in list(sketches):
        sketch = sketches[handle]
        assert sketch[4].startswith("#")
        sketch[4] = base64.b64encode(b"".join(
            bytes.fromhex(band_hex(k)) for k in band_keys_of(sketch[4:]))).decode()
        sketches[handle] = sketch
    legacy = set(bands)
    # A month later everything above has left the window and been swept.
    for article, at in articles[10:]:
        index.decide(article, now=None if at is None else at + 30 * 86_400)
    assert legacy and not legacy & set(bands)
    assert all(isinstance(key, int) for key in bands)


def test_records_carry_band_keys_as_the_hex_strings_of_the_schema() -> None:
    """The internal topic's format is unchanged: ints here, 12 hex digits in JSON."""
    article, _ = stream(1, seed=10)[0]
    prints = article.fingerprints
    wire = orjson.loads(orjson.dumps(prints.to_dict()))
    assert wire["bands"] == [band_hex(k) for k in prints.bands]
    assert all(len(k) == 12 for k in wire["bands"])
    assert Fingerprints.from_dict(wire) == prints


def test_bands_rebuilt_from_sketches_and_timeline_equal_the_bands_kept() -> None:
    """The worker keeps bands local and rebuilds them after each assignment
    (``DedupIndex.rebuild_bands``): at every restart of a stream with shared and
    overflowing bands, replays, revisions and expiry, the rebuilt bands equal
    the ones the decisions left, and the decisions are the uninterrupted ones."""
    for make_table, seed in ((dict, 5), (JsonTable, 7)):
        articles = stream(1_200, seed=seed)
        uninterrupted, _ = decide_all(dict, articles)
        tables = {name: make_table() for name in TABLES}
        index = DedupIndex(*(tables[name] for name in TABLES), options=OPTIONS)
        decisions, rebuilt = [], 0
        for n, (article, at) in enumerate(articles):
            if n and n % 37 == 0:
                kept = dict(tables["bands"].items())
                tables = {name: make_table() if name == "bands" else _copy(table, make_table)
                          for name, table in tables.items()}
                index = DedupIndex(*(tables[name] for name in TABLES), options=OPTIONS)
                counts = list(index.rebuild_bands(step=10))
                assert dict(tables["bands"].items()) == kept
                rebuilt += counts[-1]
            d = index.decide(article, now=at)
            decisions.append(("duplicate", d.duplicate_of, d.method, d.similarity)
                             if isinstance(d, DuplicateNotice)
                             else ("unique", d.revision, d.supersedes))
        assert decisions == uninterrupted
        assert rebuilt > 1_000  # the sketches of many restarts went through


def test_rebuilding_bands_yields_while_it_works() -> None:
    articles = stream(120, seed=2)
    tables = {name: {} for name in TABLES}
    index = DedupIndex(*(tables[name] for name in TABLES), options=OPTIONS)
    for article, at in articles:
        index.decide(article, now=at)
    kept = dict(tables["bands"])
    tables["bands"].clear()
    counts = list(index.rebuild_bands(step=5))
    assert counts == sorted(counts) and len(counts) > 3 and counts[-1] == len(tables["sketches"])
    assert tables["bands"] == kept
