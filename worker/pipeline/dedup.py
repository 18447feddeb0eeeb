"""Canonical URLs, content fingerprints and the dedup sequencer's decision.

The decision logic (``DedupIndex``) works over MutableMappings, so the
streaming worker hands it changelog-backed Faust tables and the offline CLI
hands it dicts; both reach the same decisions on the same stream.

Three methods, cheapest first: the same canonical URL with the same body
(``url``), the same normalised body (``exact``), and a body whose MinHash
sketch is close enough to one seen in the window (``near``, verified against
the candidate's stored sketch). A changed body at a known URL is a revision,
never a duplicate, and bodies too short to identify a story never match by
content. State expires after an event-time window (``worker.pipeline.expiry``).
"""

from __future__ import annotations

import binascii
import functools
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, replace
from itertools import repeat
from operator import is_
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from worker.pipeline.expiry import PENDING, Timeline, parse_time
from worker.pipeline.minhash import (
    DEFAULT_SCHEME,
    MinHashScheme,
    estimate_containment,
    jaccard_of_encoded,
    sketch,
    tokens_of,
)
from worker.pipeline.records import (
    CleanArticle,
    DuplicateMethod,
    DuplicateNotice,
    Fingerprints,
    Origin,
    UniqueArticle,
)

# Query parameters that identify a campaign or a click, never the content.
_TRACKING_EXACT = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "igshid", "ref_src",
     "cmpid", "ocid", "smid", "_ga", "ito", "ns_mchannel", "ns_source", "ns_campaign"}
)
_TRACKING_PREFIXES = ("utm_",)
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_MOBILE_PREFIXES = ("www.", "m.", "mobile.", "amp.")


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_EXACT or lowered.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str | None) -> str | None:
    """One spelling per page: lower-case host without www./m./amp. and default port,
    https, no fragment, no tracking parameters, sorted query, no trailing slash,
    no /amp suffix. Returns None for anything that is not an http(s) URL."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.rstrip(".")
    for prefix in _MOBILE_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    if port is not None and str(port) != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    path = parts.path or "/"
    for suffix in ("/amp", "/amp/", ".amp"):
        if path.endswith(suffix) and len(path) > len(suffix):
            path = path[: -len(suffix)]
    if path != "/":
        path = path.rstrip("/")
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    )
    if ("amp", "1") in query or ("amp", "") in query:
        query = [(k, v) for k, v in query if k != "amp"]
    # Scheme is folded to https: the same page is served over both.
    return urlunsplit(("https", host, path, urlencode(query), ""))


def url_host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def normalised_for_hash(body: str) -> str:
    """Case-, punctuation- and whitespace-insensitive form of a body."""
    return " ".join(tokens_of(body))


def _digest(*parts: str) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def content_hash(body: str) -> str:
    return _digest("body", normalised_for_hash(body))


def fingerprint(body: str, scheme: MinHashScheme = DEFAULT_SCHEME) -> Fingerprints:
    """Everything the sequencer needs about a body, computed in the parallel stage
    so the sequencer never needs the body itself."""
    tokens = tokens_of(body)
    summary = sketch(tokens, scheme)
    return Fingerprints(
        content_hash=_digest("body", " ".join(tokens)),
        body_words=len(tokens),
        shingles=summary.shingles,
        signature=summary.signature,
        bands=summary.bands,
        scheme=scheme.name,
    )


def make_article_id(canonical: str | None, body_hash: str) -> str:
    """Deterministic id: the same (canonical URL, content) always gets the same id, so
    every output is idempotent for downstream upserts; revisions of a URL get new ids."""
    if canonical:
        return _digest("url", canonical, body_hash)
    return _digest("content", body_hash)



# --- the sequencer ----------------------------------------------------------------

# Defaults chosen by bench/dedup.py from its labelled set (see its output). Its
# hard negatives that pass the size rules (different stories sharing one
# template's boilerplate) need near_threshold >= 0.35 and containment_threshold
# >= 0.70 to stay apart with three standard deviations of the 256-slot estimate
# to spare; the defaults add 0.15 for negatives the set does not model
# (follow-ups that reuse background paragraphs), at 0.5% of recall. Truncated
# copies are contained in their original (containment ~1.0) whatever their Jaccard.
NEAR_THRESHOLD = 0.5
CONTAINMENT_THRESHOLD = 0.85
# Containment counts only while the shorter body carries this share of the
# longer one's shingles: a brief is not a copy of the roundup that quotes it.
CONTAINMENT_MIN_RATIO = 0.4
# Below this many shingles different stories (templated briefs, sports results)
# share as many shingles as two copies do: no near-duplicate evidence.
MIN_NEAR_SHINGLES = 50
# Placeholder bodies ("Developing story.", "Video") are identical across
# unrelated articles: an identical body this short is no evidence either.
MIN_EXACT_WORDS = 10
DAY_SECONDS = 86_400
WINDOW_SECONDS = 7 * DAY_SECONDS
BUCKET_SECONDS = 3_600
# One bad timestamp (a year typo, local time labelled UTC) may move the clock
# by at most this much, so it cannot expire the whole window at once; after a
# real gap the clock catches up an hour per article.
MAX_CLOCK_STEP_SECONDS = 3_600
MAX_BAND_FANOUT = 8
MAX_CANDIDATES = 32

# Articles are named in band lists and sketch keys by the first 16 hex digits of
# their id: a 2**-64 chance of two articles in a window sharing one.
HANDLE_CHARS = 16
# Bytes of a packed band key: its 48 bits (``worker.pipeline.minhash.BAND_KEY_HEX``).
BAND_KEY_BYTES = 6


@dataclass(frozen=True, slots=True)
class DedupOptions:
    """The sequencer's tunables; validated here so a bad setting fails at start-up."""

    near_threshold: float = NEAR_THRESHOLD
    containment_threshold: float = CONTAINMENT_THRESHOLD
    containment_min_ratio: float = CONTAINMENT_MIN_RATIO
    min_near_shingles: int = MIN_NEAR_SHINGLES
    min_exact_words: int = MIN_EXACT_WORDS
    window_seconds: int = WINDOW_SECONDS
    bucket_seconds: int = BUCKET_SECONDS
    max_clock_step_seconds: int = MAX_CLOCK_STEP_SECONDS
    max_band_fanout: int = MAX_BAND_FANOUT
    max_candidates: int = MAX_CANDIDATES
    # The fingerprints the index compares; others get URL and exact decisions only.
    scheme: MinHashScheme = DEFAULT_SCHEME

    def __post_init__(self) -> None:
        for name in ("near_threshold", "containment_threshold", "containment_min_ratio"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {value}")
        if self.min_near_shingles < 1 or self.min_exact_words < 1:
            raise ValueError(
                "min_near_shingles and min_exact_words must be >= 1: an empty body is no evidence"
            )
        if self.bucket_seconds < 1:
            raise ValueError(f"bucket_seconds must be >= 1, got {self.bucket_seconds}")
        if self.window_seconds < self.bucket_seconds:
            raise ValueError(
                f"window_seconds ({self.window_seconds}) must be at least one bucket "
                f"({self.bucket_seconds} s)"
            )
        if self.max_clock_step_seconds < self.bucket_seconds:
            raise ValueError("max_clock_step_seconds must be at least bucket_seconds")
        if self.max_band_fanout < 1 or self.max_candidates < 1:
            raise ValueError("max_band_fanout and max_candidates must be >= 1")


def event_time(article: CleanArticle) -> float | None:
    """When the article happened, for the expiry clock: the crawl time first,
    whose clock is ours, then the publisher's time."""
    fetched = parse_time(article.fetched_at)
    return fetched if fetched is not None else parse_time(article.published_at)


@dataclass(frozen=True, slots=True)
class UrlEntry:
    """What a canonical URL last showed. ``origin`` (the input's Kafka position) and
    ``note`` (the decision: the superseded id of a unique article, or
    ``[method, similarity]`` of a duplicate) let a re-processed input get back the
    decision it got the first time (see ``DedupIndex.decide``)."""

    article_id: str
    content_hash: str
    revision: int
    bucket: int | None = None  # expiry bucket; None for entries written before expiry existed
    origin: str | None = None
    note: Any = None
    # The writers before this one at the URL, newest first, at most
    # URL_HISTORY: ``[origin, content_hash, revision, article_id, note]`` each.
    history: Sequence[Any] = ()

    def to_json(self) -> list[Any]:
        return [self.article_id, self.content_hash, self.revision, self.bucket, self.origin,
                self.note, self.history]

    @classmethod
    def from_json(cls, value: Sequence[Any]) -> UrlEntry:
        bucket = value[3] if len(value) > 3 else None
        origin = value[4] if len(value) > 4 else None
        note = value[5] if len(value) > 5 else None
        history = value[6] if len(value) > 6 else ()
        return cls(str(value[0]), str(value[1]), int(value[2]), bucket, origin, note, history)

    def written_by(self, token: str) -> UrlEntry | None:
        """This entry, or the earlier one at its URL, that the input at ``token``
        wrote; None if it wrote none. The position alone identifies the input:
        re-processed, its body may clean differently (its source's learned
        boilerplate moved on in between), and it is still the same input."""
        if self.origin == token:
            return self
        for origin, body, revision, article_id, note in self.history:
            if origin == token:
                return UrlEntry(article_id, body, revision, self.bucket, origin, note)
        return None


# Earlier writers an URL entry remembers: revisions of one URL re-processed
# together after a crash keep their numbers while there are at most this many
# more after them in the re-processed tail.
URL_HISTORY = 4


def replay_token(origin: Origin) -> str | None:
    """The identity of an input across re-processing: its position in the topic it
    was consumed from. Inputs without one (offline files) are never replays."""
    if origin.topic is None or origin.partition is None or origin.offset is None:
        return None
    return f"{origin.topic}:{origin.partition}:{origin.offset}"


def _store_hashes_with_keys(table: MutableMapping[Any, Any]) -> None:
    """Switch a plain dict to CPython's key layout that keeps each key's hash in the
    table. A dict whose keys have all been str keeps only key pointers, so every
    probe that meets another key reads that key's string for its hash: on a table
    of millions of keys, a cache miss more per collision and per key when the dict
    grows. (Band keys are ints now, which take this layout anyway.)
    One key of another type converts the dict for good; it is removed at once, so
    the contents are unchanged. Elsewhere (other Pythons, other mappings) a no-op."""
    if type(table) is dict:
        marker = object()
        table[marker] = None
        del table[marker]


def _put_all(store: MutableMapping[Any, Any], items: dict[Any, Any]) -> None:
    """``store.update(items)``: one C-level call for a dict; one batch for a table
    that writes many keys at once (``set_many``: the worker's local bands); key
    by key for anything else (Faust's RocksDB-backed tables have no working
    update())."""
    if isinstance(store, dict):
        store.update(items)
        return
    set_many = getattr(store, "set_many", None)
    if set_many is not None:
        if items:
            set_many(items)
        return
    for key, value in items.items():
        store[key] = value


def _delete_all(store: MutableMapping[Any, Any], keys: list[Any]) -> None:
    """Delete ``keys`` (all present): in one batch where the table can."""
    delete_many = getattr(store, "delete_many", None)
    if delete_many is not None:
        if keys:
            delete_many(keys)
        return
    for key in keys:
        del store[key]


class DedupIndex:
    """Decides, for each clean article in sequence, unique / revision / duplicate.

    State, all JSON-friendly so changelogged Faust tables can hold it:

    - ``urls``: canonical URL -> ``[article_id, content_hash, revision, bucket]``, the
      latest revision seen there (for a syndicated copy, the first-seen article);
    - ``hashes``: content hash -> ``[article_id, bucket]`` of the first article with that body;
    - ``bands``: LSH band key (an int, ``worker.pipeline.minhash.band_keys``) -> the
      handles of the articles with that band, concatenated (handle: the first 16 hex
      digits of the article_id), at most ``max_band_fanout``; a string rather than a
      list: smaller on disk and, in dicts, no work for Python's cycle collector;
    - ``sketches``: handle -> ``[article_id, signature, shingles, bucket, bands]``: what
      verifying a candidate needs (so the sequencer never needs a candidate's body),
      and its band keys for expiry ("#" and base64 of their 6-byte big-endian
      values; over a dict, the key ints themselves, as the fifth and later items;
      every form is read back, and so is state from before int keys: base64
      without "#" names hex-string keys);
    - ``timeline``: the expiry clock and records (``worker.pipeline.expiry``); a record
      is ``[canonical_url, content_hash, handle]``, "" where a decision wrote none.

    Time comes from the articles (``event_time``) or from ``decide(now=...)``, never
    from the wall clock, so a replay reaches the same decisions. Entries expire once
    the watermark is ``window_seconds`` past their bucket: from then on they never
    match, and the sweep deletes them a few per decision.
    """

    def __init__(
        self,
        urls: MutableMapping[str, Any],
        hashes: MutableMapping[str, Any],
        bands: MutableMapping[int, Any] | None = None,
        sketches: MutableMapping[str, Any] | None = None,
        timeline: MutableMapping[str, Any] | None = None,
        options: DedupOptions | None = None,
    ) -> None:
        self.urls = urls
        self.hashes = hashes
        self.bands: MutableMapping[int, Any] = bands if bands is not None else {}
        self.sketches: MutableMapping[str, Any] = sketches if sketches is not None else {}
        self.timeline: MutableMapping[str, Any] = timeline if timeline is not None else {}
        self.options = options or DedupOptions()
        self._clock = Timeline(
            self.timeline,
            window_seconds=self.options.window_seconds,
            bucket_seconds=self.options.bucket_seconds,
            max_step_seconds=self.options.max_clock_step_seconds,
        )
        self._scheme = self.options.scheme.name
        self._bits = self.options.scheme.bits
        self._min_near_shingles = self.options.min_near_shingles
        self._min_exact_words = self.options.min_exact_words
        self._band_count = self.options.scheme.bands
        # Plain dicts (the offline pipeline, the benchmarks) get one hash probe per
        # band and per expired key instead of a read and then a write or delete;
        # any other mapping (a Faust table) gets the same reads and writes one by one.
        self._bands_dict = self.bands if type(self.bands) is dict else None
        # Not urls, hashes and sketches: their values are tuples the cycle collector
        # untracks, so each full collection untracks these dicts too and the next
        # write puts them back in the young generation, whose next collections walk
        # every entry; in the str-keys layout that walk reads the values alone, not
        # keys and values (about a third less collector time per decision over
        # dicts, bench/dedup.py --only speed). The timeline holds the clock (a
        # list) and stays tracked; the bands dict holds only atomic objects.
        for table in (self.bands, self.timeline):
            _store_hashes_with_keys(table)
        # A table that can read many keys in one call (RocksDB's multi-get) says so.
        self._get_many: Callable[[list[int]], list[Any]] | None = getattr(
            self.bands, "get_many", None
        )

    # -- the decision --------------------------------------------------------------

    def decide(
        self, article: CleanArticle, now: float | None = None
    ) -> UniqueArticle | DuplicateNotice:
        """``now`` (POSIX seconds) overrides the article's own event time.

        Re-processing is idempotent: an input that comes back (the worker crashed
        after deciding it but before committing its offset, or an upstream stage
        re-sent it) gets the decision it got the first time, never "duplicate of
        itself". Entries carry the input position that wrote them for this."""
        clock = self._clock.tick(now if now is not None else event_time(article), self._forget)
        stamp = clock.watermark if clock is not None else PENDING
        live = clock.live if clock is not None else _always
        token = replay_token(article.origin)
        prints = article.fingerprints
        chash = prints.content_hash
        canonical = article.canonical_url
        previous = None
        if canonical is not None:
            stored = self.urls.get(canonical)
            previous = UrlEntry.from_json(stored) if stored is not None else None
            if previous is not None and not live(previous.bucket):
                previous = None
            # The same input: re-processed, not re-sent.
            if previous is not None and token is not None:
                again = previous.written_by(token)
                if again is not None:
                    return self._again(article, again)
            if previous is not None and previous.content_hash == chash:
                return self._duplicate(article, previous.article_id, "url", 1.0)
        first_with_body = None
        exact_evidence = prints.body_words >= self._min_exact_words
        if exact_evidence:
            stored_hash = self.hashes.get(chash)
            if stored_hash is not None:
                of, bucket, wrote = _hash_entry(stored_hash)
                # This input's own entry (its URL entry was lost with a crash) is no
                # evidence against it.
                mine = token is not None and wrote == token
                first_with_body = of if live(bucket) and not mine else None
        near_evidence = first_with_body is None and self._near_evidence(prints)
        handle = article.article_id[:HANDLE_CHARS]
        # Each band's article list, read once for both the lookup and the insert;
        # None when no band is known (the usual case). Over a dict the read also
        # claims the new bands for this article (``claimed``: released below if it
        # turns out to be a duplicate).
        listed: list[str | None] | None = None
        claimed: Sequence[bool] | None = None
        if near_evidence:
            if self._bands_dict is not None:
                listed, claimed = _claim(self._bands_dict, prints.bands, handle)
            else:
                listed = self._read_bands(prints.bands)
                if not any(listed):
                    listed = None
        # Same or nearly the same body under another URL (or none): syndication.
        # A changed body at a known URL is a revision, whatever it resembles.
        match: tuple[str, DuplicateMethod, float] | None = None
        if previous is None and first_with_body is not None:
            match = (first_with_body, "exact", 1.0)
        elif previous is None and listed is not None:
            try:
                near = self._nearest(prints, listed, live, article.article_id)
            except BaseException:
                if claimed is not None:
                    _release(self.bands, prints.bands, claimed)
                raise
            if near is not None:
                match = (near[0], "near", near[1])
                if claimed is not None:
                    _release(self.bands, prints.bands, claimed)
        # The URL records the article it shows, the first-seen one for a syndicated
        # copy: a resend is then a duplicate of that, and a later change at this
        # URL supersedes an article downstream consumers have.
        shown = match[0] if match is not None else article.article_id
        revision = previous.revision + 1 if previous is not None else 1
        supersedes = previous.article_id if previous is not None else None
        if canonical is not None:
            # A duplicate's own id too: re-processed with a body cleaned differently,
            # the notice keeps the id it had.
            note = ((match[1], round(match[2], 4), article.article_id) if match is not None
                    else supersedes)
            history: Sequence[Any] = ()
            if previous is not None:
                history = ((previous.origin, previous.content_hash, previous.revision,
                            previous.article_id, previous.note), *previous.history)
                history = history[:URL_HISTORY]
            # UrlEntry(...).to_json(), without building the object (the hot path).
            self.urls[canonical] = (shown, chash, revision, stamp, token, note, history)
        if match is not None:
            if canonical is not None:
                self._clock.record(stamp, (canonical, "", ""))
            return self._duplicate(article, *match)
        wrote_hash = exact_evidence and first_with_body is None
        if wrote_hash:
            self.hashes[chash] = (article.article_id, stamp, token)
        if near_evidence:
            self._index(handle, article.article_id, prints, listed, stamp, claimed)
        if canonical is not None or wrote_hash or near_evidence:
            self._clock.record(stamp, (
                canonical or "", chash if wrote_hash else "", handle if near_evidence else ""
            ))
        return UniqueArticle(article=article, revision=revision, supersedes=supersedes)

    def _again(self, article: CleanArticle, entry: UrlEntry) -> UniqueArticle | DuplicateNotice:
        """The decision an input got when it wrote ``entry``, without writing anything.
        Ids are the first time's: a body cleaned differently this time keeps them."""
        note = entry.note
        if isinstance(note, list | tuple) and note and note[0] in ("exact", "near"):
            own = str(note[2]) if len(note) > 2 else article.article_id
            notice = self._duplicate(article, entry.article_id, note[0], float(note[1]))
            return replace(notice, article_id=own)
        if entry.article_id != article.article_id and entry.content_hash != (
                article.fingerprints.content_hash):
            article = replace(article, article_id=entry.article_id)
        if entry.article_id == article.article_id:
            supersedes = note if isinstance(note, str) else None
            return UniqueArticle(article=article, revision=entry.revision, supersedes=supersedes)
        # An entry written before notes recorded the method (older state).
        return self._duplicate(article, entry.article_id, "exact", 1.0)

    @staticmethod
    def _duplicate(
        article: CleanArticle, of: str, method: DuplicateMethod, similarity: float
    ) -> DuplicateNotice:
        return DuplicateNotice(
            article_id=article.article_id,
            url=article.url,
            duplicate_of=of,
            method=method,
            similarity=round(similarity, 4),
            origin=article.origin,
        )

    # -- near duplicates -------------------------------------------------------------

    def _near_evidence(self, prints: Fingerprints) -> bool:
        return (
            prints.shingles >= self._min_near_shingles
            and prints.scheme == self._scheme
            and bool(prints.signature)
            and bool(prints.bands)
        )

    def similarity(
        self, prints: Fingerprints, stored_signature: str, stored_shingles: int
    ) -> float | None:
        """The verified similarity of a body to a stored sketch, or None if it is
        not a near-duplicate: estimated Jaccard at or above ``near_threshold``, else
        estimated containment of the smaller shingle set in the larger one at or
        above ``containment_threshold`` (truncated copies, added paragraphs)."""
        options = self.options
        jaccard = jaccard_of_encoded(prints.signature, stored_signature, self._bits)
        if jaccard >= options.near_threshold:
            return jaccard
        small, large = sorted((prints.shingles, stored_shingles))
        if large == 0 or small / large < options.containment_min_ratio:
            return None
        contained = estimate_containment(jaccard, prints.shingles, stored_shingles)
        return contained if contained >= options.containment_threshold else None

    def _nearest(
        self,
        prints: Fingerprints,
        listed: list[str | None],
        live: Callable[[int | None], bool],
        own_id: str,
    ) -> tuple[str, float] | None:
        hits = [handles for handles in listed if handles]
        if len("".join(hits)) == HANDLE_CHARS * len(hits):
            # Every band found names one article (the usual case): counted in C.
            shared = Counter(hits)
        else:
            shared = Counter()
            for handles in hits:
                for start in range(0, len(handles), HANDLE_CHARS):
                    shared[handles[start : start + HANDLE_CHARS]] += 1
        if not shared:
            return None
        # Most shared bands first (the likeliest matches); a stable sort keeps
        # band order among equals, so the choice is deterministic.
        ranked = sorted(shared, key=shared.__getitem__, reverse=True)
        best: tuple[str, float] | None = None
        for handle in ranked[: self.options.max_candidates]:
            stored = self.sketches.get(handle)
            # An article never duplicates itself: its own sketch is there only when
            # it is being re-processed.
            if stored is None or not live(stored[3]) or stored[0] == own_id:
                continue
            score = self.similarity(prints, stored[1], int(stored[2]))
            if score is not None and (best is None or score > best[1]):
                best = (str(stored[0]), score)
        return best

    def _read_bands(self, keys: list[int]) -> list[str | None]:
        if self._get_many is not None:
            return self._get_many(keys)
        return list(map(self.bands.get, keys))

    def _index(
        self,
        handle: str,
        article_id: str,
        prints: Fingerprints,
        listed: list[str | None] | None,
        stamp: int,
        claimed: Sequence[bool] | None = None,
    ) -> None:
        # Over a dict the band keys are kept as the very int objects the bands table
        # holds (no bytes to pack now and unpack at expiry, and each of expiry's
        # probes then matches its key by identity), in the sketch's own tuple: a
        # tuple inside it would keep both in the cycle collector's young
        # generations one collection longer (it untracks the outer tuple before
        # the inner one). A table that serialises gets them packed, 6 bytes a key.
        if self._bands_dict is not None:
            self.sketches[handle] = (article_id, prints.signature, prints.shingles, stamp,
                                     *prints.bands)
        else:
            self.sketches[handle] = (article_id, prints.signature, prints.shingles, stamp,
                                     _pack(prints.bands))
        if listed is None:
            # The common case, every band new: one C-level update (over a dict,
            # nothing left to write: the read claimed them all).
            if claimed is None:
                _put_all(self.bands, dict.fromkeys(prints.bands, handle))
            return
        # One update: a C loop for dicts, the same sets for any other mapping.
        _put_all(self.bands, self._appended(handle, prints.bands, listed, claimed))

    def _appended(
        self,
        handle: str,
        keys: Sequence[Any],
        listed: Sequence[str | None],
        claimed: Sequence[bool] | None = None,
    ) -> dict[Any, str]:
        """The bands that change when ``handle`` joins ``keys`` (whose article
        lists are ``listed``; ``claimed``: those a dict read already took)."""
        limit = self.options.max_band_fanout * HANDLE_CHARS
        fresh: dict[Any, str] = {}
        flags = claimed if claimed is not None else (False,) * len(listed)
        for key, handles, new in zip(keys, listed, flags, strict=True):
            if new:
                continue
            if not handles:
                fresh[key] = handle
            elif not _holds(handles, handle):
                # A band shared by many articles is boilerplate, not evidence: keep
                # the newest few, which bounds both the value and the candidates.
                fresh[key] = (handles + handle)[-limit:]
        return fresh

    # -- bands as derived state ----------------------------------------------------

    def state_version(self) -> list[Any]:
        """Changes whenever the bands may have (``Timeline.version``): each indexed
        article writes a timeline record, and each sweep moves the clock. Bands
        kept beside tables of the same version need no rebuild."""
        return self._clock.version()

    def rebuild_bands(self, step: int = 1000) -> Iterator[int]:
        """Fill an empty ``bands`` mapping from the sketches, in the order the
        timeline recorded their decisions, to the state the decisions and the
        expiry sweep left it in. Bands hold nothing a sketch does not: each
        article joins its bands in decision order, a band keeps its newest
        ``max_band_fanout`` articles, and expiry takes articles away oldest first,
        so the articles still live, joined in order, give the same lists. (The
        worker keeps bands local instead of changelogged and rebuilds them after
        every assignment: 32 changelog records fewer to write per unique article,
        and to restore.)

        A generator: yields the count of sketches indexed so far every ``step``
        of them and at the end, so a caller can let other work run in between.
        (The worker's RocksDB bands take a faster way to the same state:
        ``worker.band_store.rebuild``, from ``band_entries`` and ``band_value``.)"""
        done = 0
        for handle, keys in self.band_entries():
            _put_all(self.bands, self._appended(handle, keys, self._read_bands(keys)))
            done += 1
            if done % step == 0:
                yield done
        yield done

    def band_entries(self) -> Iterator[tuple[str, list[int]]]:
        """(handle, band keys) of each sketch the timeline still holds, in the
        order of its decisions: what joined the bands, in the order it joined."""
        for _bucket, record in self._clock.records():
            handle = record[2] if len(record) > 2 else ""
            stored = self.sketches.get(handle) if handle else None
            if stored is None:
                continue
            keys = _sketch_keys(stored, self._band_count)
            if keys and not isinstance(keys[0], int):
                # State from before int band keys names them in hex: one key type here.
                keys = [int(key, 16) for key in keys]
            # (A key named twice, in a malformed sketch, joins its band once either
            # way: the article already holds it the second time.)
            yield handle, keys

    def band_value(self, handles: Iterable[str]) -> str:
        """A band's value once ``handles`` have joined it, in this order, from
        empty: ``_appended``, the decisions' own rule, one article at a time
        (only bands shared by several articles come here)."""
        value = ""
        for handle in handles:
            value = self._appended(handle, (0,), (value,)).get(0, value)
        return value

    # -- expiry --------------------------------------------------------------------------

    def _forget(self, bucket: int, record: Sequence[Any]) -> None:
        """Delete what one decision wrote, unless a later decision rewrote it."""
        canonical, chash, handle = record[0], record[1], record[2]
        if canonical:
            _drop_if(self.urls, canonical, 3, bucket)
        if chash:
            _drop_if(self.hashes, chash, 1, bucket)
        if not handle:
            return
        stored = _drop_if(self.sketches, handle, 3, bucket)
        if stored is None or _stamp(stored, 3) != bucket:
            return
        keys = _sketch_keys(stored, self._band_count)
        bands = self.bands
        if self._bands_dict is not None:
            held = list(map(self._bands_dict.pop, keys, repeat(None)))
            # The usual article held its bands alone: they went with the one probe.
            if held.count(handle) + held.count(None) == len(held):
                return
            for key, handles in zip(keys, held, strict=True):
                if handles is None or handles == handle:
                    continue
                if not handles or not _holds(handles, handle):
                    bands[key] = handles  # not this article's: as it was
                    continue
                rest = _without(handles, handle)
                if rest:
                    bands[key] = rest
            return
        # Each band once, even from a malformed sketch that names one twice.
        keys = list(dict.fromkeys(keys))
        gone: list[int] = []
        kept: dict[int, str] = {}
        for key, handles in zip(keys, self._read_bands(keys), strict=True):
            if handles == handle:  # the usual band: this article alone
                gone.append(key)
                continue
            if not handles or not _holds(handles, handle):
                continue
            rest = _without(handles, handle)
            if rest:
                kept[key] = rest
            else:
                gone.append(key)
        _delete_all(bands, gone)
        _put_all(bands, kept)


def _sketch_keys(stored: Sequence[Any], count: int) -> list[Any]:
    """The band keys of a sketch: after its first four fields over a dict, packed
    (``_pack``) in the fifth where the table serialises, or a list there (state
    of a dict-backed index from before the keys moved into the tuple)."""
    if len(stored) == 5 and isinstance(stored[4], str):
        return _unpack(stored[4], count)
    if len(stored) == 5 and isinstance(stored[4], list | tuple):
        return list(stored[4])
    return list(stored[4:])


def _always(bucket: int | None) -> bool:
    """Before the clock starts nothing has expired."""
    return True


# Marks a sketch's packed band keys as ints. Without it they are state written
# while band keys were hex strings (the same bytes), and expiry deletes those.
_INT_KEYS = "#"


def _pack(keys: list[int]) -> str:
    """Band keys as "#" and base64 of their 6-byte big-endian values (the bytes
    the 12-hex-digit strings of older state spell)."""
    raw = b"".join([key.to_bytes(BAND_KEY_BYTES, "big") for key in keys])
    return _INT_KEYS + binascii.b2a_base64(raw, newline=False).decode("ascii")


def _unpack(packed: str, count: int) -> list[int] | list[str]:
    """``_pack`` reversed; base64 without the mark (older state) gives the hex
    strings its bands table is keyed by."""
    if packed.startswith(_INT_KEYS):
        raw = binascii.a2b_base64(packed[len(_INT_KEYS) :])
        width = len(raw) // count if count else 0
        frm = int.from_bytes
        return [frm(raw[at : at + width], "big") for at in range(0, width * count, width)]
    joined = binascii.a2b_base64(packed).hex()
    width = len(joined) // count if count else 0
    return list(map(joined.__getitem__, _slices(width, count))) if width else []


@functools.cache
def _slices(width: int, count: int) -> tuple[slice, ...]:
    """``count`` consecutive slices ``width`` wide: unpacking maps over them in C."""
    return tuple(slice(i, i + width) for i in range(0, width * count, width))


def _claim(
    bands: dict[int, Any], keys: list[int], handle: str
) -> tuple[list[str | None] | None, Sequence[bool]]:
    """Each band's article list (None where the band is new; None for the whole
    list when every band is), inserting ``handle`` at the new ones as it goes: one
    hash probe per band where a read now and a write later take two, and on a
    table of millions of keys every probe is a few cache misses. ``claimed`` says
    which bands this call inserted."""
    before = len(bands)
    got = list(map(bands.setdefault, keys, repeat(handle)))
    if len(bands) - before == len(keys):
        return None, _all_claimed(len(keys))  # the usual article: every band new
    # Where a band was there already setdefault returned its value, never this
    # very string object (an equal one, if this article is being re-processed).
    claimed = list(map(is_, got, repeat(handle)))
    return [None if new else value for new, value in zip(claimed, got, strict=True)], claimed


@functools.cache
def _all_claimed(count: int) -> tuple[bool, ...]:
    return (True,) * count


def _release(bands: MutableMapping[int, Any], keys: list[int], claimed: Sequence[bool]) -> None:
    """Undo ``_claim``: the bands it inserted were absent before."""
    for key, new in zip(keys, claimed, strict=True):
        if new:
            bands.pop(key, None)


def _drop_if(store: MutableMapping[str, Any], key: str, field: int, bucket: int) -> Any:
    """Delete ``store[key]`` if it is stamped ``bucket`` (its ``field``-th item;
    entries from before expiry have none); return the value, None if absent. A dict
    pays one probe (pop, and put back the few a later decision rewrote); any other
    mapping a read, and a delete only when it expired."""
    if type(store) is dict:
        value = store.pop(key, None)
        if value is not None and _stamp(value, field) != bucket:
            store[key] = value
        return value
    value = store.get(key)
    if value is not None and _stamp(value, field) == bucket:
        del store[key]
    return value


def _stamp(value: Any, field: int) -> Any:
    """The expiry bucket of a urls, hashes or sketches value (None: from before expiry)."""
    if isinstance(value, str) or len(value) <= field:
        return None
    return value[field]


def _without(handles: str, handle: str) -> str:
    """A band's concatenated handles less ``handle``."""
    return "".join(
        handles[i : i + HANDLE_CHARS]
        for i in range(0, len(handles), HANDLE_CHARS)
        if handles[i : i + HANDLE_CHARS] != handle
    )


def _holds(handles: str, handle: str) -> bool:
    """Whether a band's concatenated handles include ``handle`` at a handle boundary."""
    at = handles.find(handle)
    while at != -1 and at % HANDLE_CHARS:
        at = handles.find(handle, at + 1)
    return at != -1


def _hash_entry(value: Any) -> tuple[str, int | None, str | None]:
    """(article_id, bucket, origin) of a hashes value; a bare id is state from before
    expiry, a pair from before origins were kept."""
    if isinstance(value, str):
        return value, None, None
    bucket = int(value[1]) if value[1] is not None else None
    origin = value[2] if len(value) > 2 else None
    return str(value[0]), bucket, origin
