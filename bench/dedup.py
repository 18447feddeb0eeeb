"""Near-duplicate detection: quality, sequencer speed and state size, one run.

    .venv/bin/python bench/dedup.py [--corpus ../shared/corpus] [--full]

Quality: the labelled set of bench/dedup_cases.py (real bodies from
extraction-dev's ground truth, variants and negatives made at run time). Each
case is a pair decided by a fresh index: the first article, then the second
under another URL (the same URL for revisions). Printed for newswire's
sequencer and, in the same run on the same word shingles, for datasketch's
MinHashLSH at 0.7 and 0.8 (there a candidate is a duplicate: plain LSH has no
verification step). The thresholds are then derived from the measured
distributions and swept, to show where the defaults sit.

Speed: decisions per second of the sequencer on precomputed fingerprints, one
core, with in-memory dict tables and with RocksDB tables.

State: bytes of process memory and of disk per article held in the window,
every table in RocksDB opened as Faust opens it. ``--full`` measures a million
articles; the default measures fewer and extrapolates, and says so.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.dedup_cases import Case, build_cases, load_bodies
from bench.dedup_scale import RocksTables, Stream, cpu_count, speed, state
from worker.pipeline.dedup import (
    DedupIndex,
    DedupOptions,
    canonical_url,
    fingerprint,
    make_article_id,
)
from worker.pipeline.minhash import (
    DEFAULT_SCHEME,
    MinHashScheme,
    shingle_hashes,
    tokens_of,
)
from worker.pipeline.records import CleanArticle, DuplicateNotice, Fingerprints

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
T0 = 1_717_200_000.0  # an arbitrary event time (June 2024)
DAY = 86_400.0
CASE_SEED = 20240601
RATIONALE_SEEDS = (CASE_SEED, 1, 2, 3, 4)
TARGETS = "F1 >= 0.98, P >= 0.995, 0 hard-negative FP, revisions >= 0.95"
# A stream with duplicates in the proportions a wire-heavy feed shows.
SPEED_MIX = {"unique": 0.70, "near": 0.15, "exact": 0.10, "resend": 0.05}
# RocksDB as Faust opens it by default, and with the buffers sized for this
# workload (pass these as the tables' options= in app.py).
FAUST_DEFAULT: dict[str, Any] = {}
TUNED: dict[str, Any] = {"write_buffer_size": 8 * 2**20, "max_write_buffer_number": 2,
                         "block_cache_size": 16 * 2**20}


def make_article(url: str | None, prints: Fingerprints, fetched: float = T0) -> CleanArticle:
    canonical = canonical_url(url)
    return CleanArticle(
        article_id=make_article_id(canonical, prints.content_hash),
        url=url,
        canonical_url=canonical,
        source=None,
        title=None,
        body="",  # the sequencer decides on fingerprints alone
        authors=[],
        published_at=None,
        fetched_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(fetched)),
        language_hint=None,
        tags=[],
        clean={},
        fingerprints=prints,
    )


# --- scoring ---------------------------------------------------------------------------------


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    hard_fp: int = 0
    revisions: int = 0
    revisions_ok: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def add(self, case: Case, said: str) -> None:
        if case.expect == "revision":
            ok = said == "revision"
            self.revisions += 1
            self.revisions_ok += ok
        elif case.expect == "duplicate":
            ok = said == "duplicate"
            self.tp += ok
            self.fn += not ok
        elif case.group == "stress":
            ok = said == "unique"  # shown by kind, outside P/R/F1 and the targets
        else:
            ok = said == "unique"
            self.fp += not ok
            self.tn += ok
            self.hard_fp += not ok and case.group == "hard-negative"
        counts = self.by_kind[case.kind]
        counts[0] += ok
        counts[1] += 1

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def revision_rate(self) -> float | None:
        return self.revisions_ok / self.revisions if self.revisions else None

    def meets_targets(self) -> bool:
        rate = self.revision_rate
        return (self.f1 >= 0.98 and self.precision >= 0.995 and self.hard_fp == 0
                and rate is not None and rate >= 0.95)


class Fingerprinter:
    """Fingerprints per distinct text, computed once and shared by every method."""

    def __init__(self, scheme: MinHashScheme = DEFAULT_SCHEME) -> None:
        self.scheme = scheme
        self.cache: dict[str, Fingerprints] = {}

    def __call__(self, text: str) -> Fingerprints:
        prints = self.cache.get(text)
        if prints is None:
            prints = self.cache[text] = fingerprint(text, self.scheme)
        return prints


def newswire_says(case: Case, prints: Fingerprinter, options: DedupOptions) -> str:
    index = DedupIndex({}, {}, options=options)
    first = make_article("https://wire.example/story", prints(case.first))
    url = ("https://wire.example/story" if case.expect == "revision"
           else "https://paper.example/copy")
    index.decide(first)
    decision = index.decide(make_article(url, prints(case.second), T0 + 600))
    if isinstance(decision, DuplicateNotice):
        return "duplicate" if decision.duplicate_of == first.article_id else "wrong-duplicate"
    if decision.revision == 2 and decision.supersedes == first.article_id:
        return "revision"
    return "unique"


def run_newswire(cases: list[Case], prints: Fingerprinter, options: DedupOptions) -> Score:
    score = Score()
    for case in cases:
        score.add(case, newswire_says(case, prints, options))
    return score


def run_exact_only(cases: list[Case], prints: Fingerprinter) -> Score:
    """The content hash alone, as before near-duplicates (still URL-aware)."""
    options = replace(DedupOptions(), min_near_shingles=10**9, min_exact_words=1)
    return run_newswire(cases, prints, options)


class DatasketchAnchor:
    """datasketch's MinHashLSH as users run it: MinHash(num_perm=128) of the same
    word shingles; a query returning the pair's first article is a duplicate.
    It has no notion of URLs, so it has no revision figure."""

    def __init__(self, shingle_words: int) -> None:
        import datasketch

        self.datasketch = datasketch
        self.k = shingle_words
        self.minhashes: dict[str, Any] = {}

    def minhash(self, text: str) -> Any:
        cached = self.minhashes.get(text)
        if cached is None:
            tokens = tokens_of(text)
            shingles = {" ".join(tokens[i : i + self.k]).encode()
                        for i in range(len(tokens) - self.k + 1)}
            cached = self.datasketch.MinHash(num_perm=128)
            cached.update_batch(sorted(shingles))
            self.minhashes[text] = cached
        return cached

    def run(self, cases: list[Case], threshold: float) -> Score:
        lsh = self.datasketch.MinHashLSH(threshold=threshold, num_perm=128)
        keys: dict[str, str] = {}
        for case in cases:
            if case.expect != "revision" and case.first not in keys:
                keys[case.first] = str(len(keys))
                lsh.insert(keys[case.first], self.minhash(case.first))
        score = Score()
        for case in cases:
            if case.expect == "revision":
                continue
            hit = keys[case.first] in lsh.query(self.minhash(case.second))
            score.add(case, "duplicate" if hit else "unique")
        return score


# --- printing -----------------------------------------------------------------------------------


def print_scores(rows: list[tuple[str, Score]]) -> None:
    print(f"  {'method':50s} {'P':>7s} {'R':>7s} {'F1':>7s} {'FP':>4s} {'hardFP':>6s} "
          f"{'FN':>4s} {'revisions':>9s}")
    for name, s in rows:
        rate = s.revision_rate
        rev = f"{rate:9.3f}" if rate is not None else f"{'n/a':>9s}"
        print(f"  {name:50s} {s.precision:7.4f} {s.recall:7.4f} {s.f1:7.4f} {s.fp:4d} "
              f"{s.hard_fp:6d} {s.fn:4d} {rev}")


def print_kinds(rows: list[tuple[str, Score]], cases: list[Case]) -> None:
    groups = {c.kind: c.group for c in cases}
    print(f"  {'case kind':24s} {'group':13s} {'n':>4s} "
          + " ".join(f"{name:>10s}" for name, _ in rows))
    for kind in dict.fromkeys(c.kind for c in cases):
        cells = []
        for _, s in rows:
            ok, total = s.by_kind.get(kind, [0, 0])
            cells.append(f"{ok / total:10.3f}" if total else f"{'n/a':>10s}")
        print(f"  {kind:24s} {groups[kind]:13s} {rows[0][1].by_kind[kind][1]:4d} "
              + " ".join(cells))


# --- quality ------------------------------------------------------------------------------------


def exact_similarities(cases: list[Case]) -> list[tuple[Case, float, float, float]]:
    """(case, Jaccard, containment, size ratio) of each pair's exact shingle sets."""
    k = DEFAULT_SCHEME.shingle_words
    sets: dict[str, set[int]] = {}
    out = []
    for case in cases:
        pair = []
        for text in (case.first, case.second):
            if text not in sets:
                sets[text] = set(shingle_hashes(tokens_of(text), k).tolist())
            pair.append(sets[text])
        a, b = pair
        small, large = sorted((len(a), len(b)))
        inter = len(a & b)
        jaccard = inter / len(a | b) if a | b else 0.0
        out.append((case, jaccard, inter / small if small else 0.0,
                    small / large if large else 0.0))
    return out


def _sd_jaccard(jaccard: float, slots: int) -> float:
    return math.sqrt(max(jaccard * (1 - jaccard), 1e-9) / slots)


def _sd_containment(contained: float, ratio: float, slots: int) -> float:
    """Spread of C = J (1 + 1/ratio) / (1 + J) at a given C and size ratio."""
    scale = 1 + 1 / ratio
    jaccard = contained / (scale - contained)
    return _sd_jaccard(jaccard, slots) * scale / (1 + jaccard) ** 2


def rationale(bodies: list[str], options: DedupOptions, seeds: tuple[int, ...]) -> None:
    """The floor each threshold must clear: 3 sd of the estimate above the worst
    hard negative that the size rules let through, over several draws of the set."""
    slots = DEFAULT_SCHEME.num_perm
    k = DEFAULT_SCHEME.shingle_words
    ratio = options.containment_min_ratio
    j_floors, c_floors = [], []
    print("\nWhere the thresholds come from (exact word-3-shingle sets; hard negatives "
          f"whose smaller body has >= {options.min_near_shingles} shingles)")
    for seed in seeds:
        stats = exact_similarities(build_cases(bodies, seed))
        sizes: dict[str, int] = {}
        for case, *_ in stats:
            for text in (case.first, case.second):
                if text not in sizes:
                    sizes[text] = len(set(shingle_hashes(tokens_of(text), k).tolist()))
        hard = [s for s in stats if s[0].group == "hard-negative"
                and min(sizes[s[0].first], sizes[s[0].second]) >= options.min_near_shingles]
        j_worst = max(hard, key=lambda s: s[1] + 3 * _sd_jaccard(s[1], slots))
        eligible = [s for s in hard if s[3] >= ratio]
        c_worst = max(eligible, key=lambda s: s[2] + 3 * _sd_containment(s[2], s[3], slots))
        j_floors.append(j_worst[1] + 3 * _sd_jaccard(j_worst[1], slots))
        c_floors.append(c_worst[2] + 3 * _sd_containment(c_worst[2], c_worst[3], slots))
        print(f"  set seed {seed}: worst Jaccard {j_worst[1]:.3f} ({j_worst[0].kind}) -> "
              f"floor {j_floors[-1]:.3f}; worst containment {c_worst[2]:.3f} at size ratio "
              f"{c_worst[3]:.2f} ({c_worst[0].kind}) -> floor {c_floors[-1]:.3f}")
    j_floor = math.ceil(max(j_floors) * 20) / 20
    c_floor = math.ceil(max(c_floors) * 20) / 20
    print(f"  measured floors (max over draws, rounded up to 0.05): near_threshold >= "
          f"{j_floor:.2f}, containment_threshold >= {c_floor:.2f}")
    print(f"  defaults: near_threshold={options.near_threshold} "
          f"(+{options.near_threshold - j_floor:.2f}), "
          f"containment_threshold={options.containment_threshold} "
          f"(+{options.containment_threshold - c_floor:.2f}), containment_min_ratio={ratio}, "
          f"min_near_shingles={options.min_near_shingles}, "
          f"min_exact_words={options.min_exact_words}")
    print("  the margin above the floor is for negatives this set does not model (follow-ups "
          "that reuse background paragraphs); the sweep below prices it in recall")


def sweep(cases: list[Case], prints: Fingerprinter, default: DedupOptions) -> None:
    """Every setting from the same fingerprints: where the targets hold."""
    print("\nSweep, one setting changed at a time (same fingerprints)")
    print(f"  {'setting':34s} {'P':>7s} {'R':>7s} {'F1':>7s} {'hardFP':>6s} {'targets':>8s}")
    settings: list[tuple[str, DedupOptions]] = []
    for j in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8):
        settings.append((f"near_threshold={j}", replace(default, near_threshold=j)))
    for c in (0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0):
        settings.append((f"containment_threshold={c}",
                         replace(default, containment_threshold=c)))
    for r in (0.2, 0.3, 0.4, 0.5, 0.6):
        settings.append((f"containment_min_ratio={r}", replace(default, containment_min_ratio=r)))
    for n in (10, 20, 30, 40, 50, 60, 80):
        settings.append((f"min_near_shingles={n}", replace(default, min_near_shingles=n)))
    for w in (1, 5, 10, 20):
        settings.append((f"min_exact_words={w}", replace(default, min_exact_words=w)))
    for name, options in settings:
        s = run_newswire(cases, prints, options)
        ok = "yes" if s.meets_targets() else "no"
        mark = "  <- default" if options == default else ""
        print(f"  {name:34s} {s.precision:7.4f} {s.recall:7.4f} {s.f1:7.4f} {s.hard_fp:6d} "
              f"{ok:>8s}{mark}")


def one_stream(cases: list[Case], prints: Fingerprinter, options: DedupOptions) -> None:
    """Every original, then every duplicate, through one index: a copy must name an
    article of its own story (a plain or a boilerplate-wrapped original), never
    another story's."""
    index = DedupIndex({}, {}, options=options)
    story_of: dict[str, int] = {}
    seen: set[str] = set()
    positives = [c for c in cases if c.expect == "duplicate"]
    for i, case in enumerate(positives):
        if case.first not in seen:
            seen.add(case.first)
            article = make_article(f"https://wire.example/{i}", prints(case.first))
            story_of[article.article_id] = case.story
            index.decide(article)
    outcome: Counter[str] = Counter()
    for i, case in enumerate(positives):
        decision = index.decide(make_article(f"https://copy.example/{i}", prints(case.second),
                                             T0 + 3600))
        if isinstance(decision, DuplicateNotice):
            right = story_of.get(decision.duplicate_of) == case.story
            outcome["named its own story" if right else "named ANOTHER story"] += 1
        else:
            outcome["missed"] += 1
    print(f"\nOne stream: {len(story_of)} originals, then their {len(positives)} copies "
          f"through one index: " + ", ".join(f"{k} {v}" for k, v in sorted(outcome.items())))


def quality(corpus: Path, anchor: bool) -> Score:
    bodies = load_bodies(corpus)
    cases = build_cases(bodies, CASE_SEED)
    prints = Fingerprinter()
    started = time.perf_counter()
    for case in cases:
        prints(case.first)
        prints(case.second)
    per_text = (time.perf_counter() - started) / max(1, len(prints.cache))
    groups = Counter(c.group for c in cases)
    print(f"Labelled set: {len(bodies)} real bodies -> {len(cases)} pairs "
          f"({groups['positive']} duplicates, {groups['revision']} revisions, "
          f"{groups['hard-negative']} hard negatives, {groups['negative']} unrelated; "
          f"{groups['stress']} stress pairs whose shared boilerplate outweighs a story, "
          f"reported by kind only)")
    print(f"Scheme {DEFAULT_SCHEME.name}: {DEFAULT_SCHEME.shingle_words}-word shingles, "
          f"{DEFAULT_SCHEME.num_perm} slots x {DEFAULT_SCHEME.bits} bits, "
          f"{DEFAULT_SCHEME.bands} bands x {DEFAULT_SCHEME.rows} rows; fingerprint() "
          f"{per_text * 1e3:.2f} ms per body (clean stage, not the sequencer)")

    default = DedupOptions()
    jaccard_only = replace(default, containment_threshold=1.0, containment_min_ratio=1.0)
    ours = run_newswire(cases, prints, default)
    rows: list[tuple[str, Score]] = [
        ("exact content hash only (method exact)", run_exact_only(cases, prints)),
        (f"newswire near, Jaccard >= {default.near_threshold} only",
         run_newswire(cases, prints, jaccard_only)),
        (f"newswire near (default: J >= {default.near_threshold} "
         f"or C >= {default.containment_threshold})", ours),
    ]
    short = [("exact", rows[0][1]), ("J only", rows[1][1]), ("newswire", ours)]
    if anchor:
        try:
            ds = DatasketchAnchor(DEFAULT_SCHEME.shingle_words)
        except ImportError:
            print("datasketch is not installed (pip install datasketch==2.0.0): "
                  "anchor skipped")
        else:
            for threshold in (0.7, 0.8):
                score = ds.run(cases, threshold)
                rows.append((f"datasketch 2.0.0 MinHashLSH(threshold={threshold})", score))
                short.append((f"ds@{threshold}", score))
    print("\nDuplicate detection, pair by pair (a duplicate must name the first article; "
          "P/R/F1 over duplicate and negative pairs)")
    print_scores(rows)
    print("\nShare decided right, by case kind")
    print_kinds(short, cases)
    print(f"\nTargets ({TARGETS}): {'met' if ours.meets_targets() else 'NOT met'} "
          f"by the defaults")
    one_stream(cases, prints, default)
    rationale(bodies, default, RATIONALE_SEEDS)
    sweep(cases, prints, default)
    return ours


# --- speed and state ------------------------------------------------------------------------


def machine_note() -> str:
    """How fast this machine runs Python, so the absolute figures can be scaled."""
    started = time.perf_counter()
    total = 0
    for i in range(2_000_000):
        total += i
    loop_ns = (time.perf_counter() - started) / 2_000_000 * 1e9
    load = os.getloadavg()[0]
    return (f"{cpu_count()} cores, load average {load:.1f}; a Python loop iteration "
            f"takes {loop_ns:.0f} ns here (about 20-30 ns on a current desktop)")


def run_speed(decisions: int, rocks_decisions: int, workdir: Path | None) -> None:
    print(f"\nSequencer speed on precomputed fingerprints, one core ({machine_note()})")
    print(f"  stream: {', '.join(f'{k} {v:.0%}' for k, v in SPEED_MIX.items())}; event times "
          f"span 8 days, so the 7-day expiry sweeps during the last day")
    index = DedupIndex({}, {}, {}, {}, {}, DedupOptions())
    result = speed(index, Stream(11, 8 * DAY / decisions, SPEED_MIX), decisions)
    print(f"  dict tables:    {result['per_second']:9,.0f} decisions per CPU second over "
          f"{result['decisions']:,} decisions (target 20,000; wall "
          f"{result['wall_per_second']:,.0f}/s), best 5,000 at {result['best']:,.0f}/s "
          f"({', '.join(f'{k} {v:,}' for k, v in sorted(result['methods'].items()))})")
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="dedup-speed-", dir=workdir))
    try:
        tables = RocksTables.open(root, **TUNED)
        result = speed(tables.index(DedupOptions()),
                       Stream(11, 8 * DAY / rocks_decisions, SPEED_MIX), rocks_decisions)
        tables.close()
    finally:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    print(f"  RocksDB tables: {result['per_second']:9,.0f} decisions per CPU second over "
          f"{result['decisions']:,} decisions, best 5,000 at {result['best']:,.0f}/s "
          f"(rocksdict as Faust opens it, through a MutableMapping; Faust's table layer "
          f"and changelog sends come on top)")
    scheme = DEFAULT_SCHEME
    print(f"  RocksDB calls per decision: unique ~{scheme.bands + 10} ({scheme.bands} band reads "
          f"in one multi-get, {scheme.bands} band writes), near ~9 plus one sketch read per "
          f"candidate, exact ~7, URL re-send ~2; forgetting an expired unique article "
          f"~{scheme.bands + 10} ({scheme.bands} band deletes)")


def run_state(articles: int, full: bool, workdir: Path | None) -> None:
    checkpoints = (articles // 2, articles * 3 // 4, articles)
    label = "1,000,000 (--full)" if full else f"{articles:,} (pass --full for 1M)"
    print(f"\nState per article held in the window, every table in RocksDB; {label} unique "
          f"articles over 6 days (none expires; unique articles hold the most state)")
    configs = [(f"options {TUNED}", TUNED)]
    if full:
        configs.append(("Faust's default RocksDB options", FAUST_DEFAULT))
    for name, options in configs:
        result = state(articles, checkpoints, 6 * DAY / articles, options, workdir)
        points = result["points"]
        n = points[-1][0]
        rss = points[-1][1]
        disk = sum(result["disk"].values())
        mem, settled = result["memory"], result["settled"]
        print(f"  {name}:")
        print(f"    RAM: RSS grew {rss / 2**20:,.0f} MiB = {rss / n:,.0f} B/article (RSS growth at "
              + ", ".join(f"{k:,}: {r / 2**20:,.0f} MiB" for k, r, _ in points) + ")")
        print("    of which RocksDB holds " + ", ".join(
            f"{k} {v / 2**20:,.1f} MiB" for k, v in mem.items()))
        readers = settled["index and filters"] / n
        bound = buffer_bound(options)
        print(f"    what grows with articles is RocksDB's index and filter blocks: "
              f"{readers:,.0f} B/article after compaction; memtables and block cache are "
              f"capped by the options at {bound / 2**20:,.0f} MiB in all")
        if not full:
            at_1m = (bound + readers * 1_000_000) / 1_000_000
            print(f"    RAM at 1M, extrapolated (cap + index/filters per article): "
                  f"<= {at_1m:,.0f} B/article")
        tables = ", ".join(f"{k} {v / n:,.0f}" for k, v in result["disk"].items())
        print(f"    disk (SST files after flush and compaction): {disk / n:,.0f} B/article "
              f"({tables}); linear in articles held")
        print(f"    decisions/s while filling: {result['per_second']:,.0f}")
    if not full:
        print(f"  (Faust's default options would cap memtables and block cache at "
              f"{buffer_bound(FAUST_DEFAULT) / 2**30:,.1f} GiB: pass options=... to the tables; "
              f"--full measures both)")


def run_rebuild(articles: int, workdir: Path | None) -> None:
    """How long the worker's band rebuild takes (after every assignment of the
    sequencer's partition; worker/band_store.py): the sequencer's tables in
    RocksDB as the worker holds them, filled with unique articles none of which
    has expired (the most bands per article held), then the bands rebuilt twice,
    side by side: by the worker's sorted load (``band_store.rebuild``) and by
    replaying the decisions' band updates (``DedupIndex.rebuild_bands``, what
    the worker did before). Both must give the bands the decisions left."""
    import asyncio
    import hashlib
    import shutil
    import tempfile

    from worker.band_store import rebuild

    print(f"\nBand rebuild from the sketches and timeline tables, RocksDB, {articles:,} unique "
          f"articles held ({machine_note()})")
    root = Path(tempfile.mkdtemp(prefix="dedup-rebuild-", dir=workdir))
    try:
        tables = RocksTables.open(root, **TUNED)
        index = tables.index(DedupOptions())
        stream = Stream(seed=13, seconds_per_article=3 * DAY / articles)
        started = time.perf_counter()
        done = 0
        while done < articles:
            chunk = stream.chunk(min(2_000, articles - done))
            for article in chunk:
                index.decide(article)
            done += len(chunk)
        filled = time.perf_counter() - started

        def digest() -> tuple[int, str]:
            h, n = hashlib.blake2b(digest_size=16), 0
            for key, value in tables.bands.items():
                h.update(key.to_bytes(6, "big") + value.encode())
                n += 1
            return n, h.hexdigest()

        def replay() -> int:
            tables.bands.clear()
            indexed = 0
            for count in index.rebuild_bands(step=10_000):
                indexed = count
            return indexed

        def sorted_load() -> int:
            return asyncio.run(rebuild(index, tables.bands))[0]

        before = digest()
        timed: dict[str, tuple[int, float, float, bool]] = {}
        for name, way in (("sorted load", sorted_load), ("replay", replay)):
            cpu, wall = time.process_time(), time.perf_counter()
            indexed = way()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            timed[name] = (indexed, wall, cpu, digest() == before)
        tables.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"  filled in {filled:,.0f} s; {before[0]:,} band keys")
    for name, (indexed, wall, cpu, same) in timed.items():
        print(f"  {name:>11}: {indexed:,} sketches in {wall:,.1f} s wall, {cpu:,.1f} s CPU: "
              f"{indexed / wall:,.0f} sketches/s, 1,000,000 held in {1e6 * wall / indexed:,.0f} s;"
              f" the bands the decisions left: {'yes' if same else 'NO'}")
    ratio = timed["replay"][1] / timed["sorted load"][1]
    print(f"  the sorted load took 1/{ratio:,.1f} of the replay's time (the changelog restore "
          f"of the tables comes first: ~5 records per article, where the bands' changelog "
          f"added 32)")


def buffer_bound(options: dict[str, Any]) -> int:
    """The most RocksDB may hold in memtables and block cache over the five
    databases (four tables and the local bands)."""
    from faust.stores.rocksdb import RocksDBOptions

    o = RocksDBOptions(**options)
    return 5 * (o.write_buffer_size * o.max_write_buffer_number + o.block_cache_size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Near-duplicate quality vs datasketch, sequencer speed and state size.")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="the shared corpus directory (default: ../shared/corpus)")
    parser.add_argument("--full", action="store_true",
                        help="measure state at 1,000,000 articles (default: 80,000, "
                             "extrapolated)")
    parser.add_argument("--state-articles", type=int, default=80_000,
                        help="articles for the state measurement without --full")
    parser.add_argument("--decisions", type=int, default=100_000,
                        help="decisions timed with dict tables (RocksDB: a fifth)")
    parser.add_argument("--no-anchor", action="store_true", help="skip datasketch")
    parser.add_argument("--rebuild-articles", type=int, default=50_000,
                        help="unique articles held for the band rebuild measurement")
    parser.add_argument("--only", choices=["quality", "speed", "rebuild", "state"],
                        help="run one part")
    parser.add_argument("--workdir", type=Path, help="where RocksDB files go (default: tmp)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.only in (None, "quality"):
        truth = args.corpus / "extraction-dev" / "ground-truth.json"
        if not truth.is_file():
            print(f"bench/dedup.py: {truth} not found; the quality part needs the shared "
                  "corpus (../shared/corpus next to the repository, or --corpus)",
                  file=sys.stderr)
            return 2
        quality(args.corpus, not args.no_anchor)
    if args.only in (None, "speed"):
        run_speed(args.decisions, max(1, args.decisions // 5), args.workdir)
    if args.only in (None, "rebuild"):
        run_rebuild(args.rebuild_articles, args.workdir)
    if args.only == "state":
        run_state(1_000_000 if args.full else args.state_articles, args.full, args.workdir)
    elif args.only is None:
        # In a process of its own, so its RSS holds nothing of the parts above.
        sys.stdout.flush()
        command = [sys.executable, __file__, "--only", "state",
                   "--state-articles", str(args.state_articles)]
        command += ["--full"] if args.full else []
        command += ["--workdir", str(args.workdir)] if args.workdir else []
        subprocess.run(command, check=True)
    if args.only is None:
        print(f"\n(bench/dedup.py took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
