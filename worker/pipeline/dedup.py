"""Canonical URLs, content fingerprints and the dedup sequencer's decision.

The decision logic (``DedupIndex``) works over any two MutableMappings, so the
streaming worker hands it changelog-backed Faust tables and the offline CLI
hands it dicts; both reach the same decisions on the same stream.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from worker.pipeline.records import CleanArticle, DuplicateNotice, Fingerprints, UniqueArticle
from worker.pipeline.text import words

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
    return " ".join(w.lower() for w in words(body))


def _digest(*parts: str) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def content_hash(body: str) -> str:
    return _digest("body", normalised_for_hash(body))


def fingerprint(body: str) -> Fingerprints:
    """Everything the sequencer needs about a body, computed in the parallel stage."""
    return Fingerprints(content_hash=content_hash(body), body_words=len(words(body)))


def make_article_id(canonical: str | None, body_hash: str) -> str:
    """Deterministic id: the same (canonical URL, content) always gets the same id, so
    every output is idempotent for downstream upserts; revisions of a URL get new ids."""
    if canonical:
        return _digest("url", canonical, body_hash)
    return _digest("content", body_hash)


@dataclass(frozen=True, slots=True)
class UrlEntry:
    article_id: str
    content_hash: str
    revision: int

    def to_json(self) -> list[Any]:
        return [self.article_id, self.content_hash, self.revision]

    @classmethod
    def from_json(cls, value: list[Any]) -> UrlEntry:
        return cls(str(value[0]), str(value[1]), int(value[2]))


class DedupIndex:
    """Decides, for each clean article in sequence, unique / revision / duplicate.

    ``urls`` maps canonical URL -> latest revision seen (as ``UrlEntry.to_json()``);
    ``hashes`` maps content hash -> article_id of the first article with that body.
    Values are JSON-friendly so a Faust table can changelog them with any codec.
    """

    def __init__(
        self,
        urls: MutableMapping[str, Any],
        hashes: MutableMapping[str, Any],
    ) -> None:
        self.urls = urls
        self.hashes = hashes

    def decide(self, article: CleanArticle) -> UniqueArticle | DuplicateNotice:
        chash = article.fingerprints.content_hash
        canonical = article.canonical_url
        previous = None
        if canonical is not None:
            stored = self.urls.get(canonical)
            previous = UrlEntry.from_json(stored) if stored is not None else None
            if previous is not None and previous.content_hash == chash:
                return self._duplicate(article, previous.article_id, "url")
        first_with_body = self.hashes.get(chash)
        # Same body under another URL (or with no URL): syndication.
        syndicated = first_with_body is not None and previous is None
        # The URL records the article it shows, the first-seen one for a syndicated
        # copy: a resend is then a duplicate of that, and a later change at this
        # URL supersedes an article downstream consumers have.
        shown = str(first_with_body) if syndicated else article.article_id
        revision = previous.revision + 1 if previous is not None else 1
        if canonical is not None:
            self.urls[canonical] = UrlEntry(shown, chash, revision).to_json()
        if syndicated:
            return self._duplicate(article, shown, "exact")
        if first_with_body is None:
            self.hashes[chash] = article.article_id
        return UniqueArticle(
            article=article,
            revision=revision,
            supersedes=previous.article_id if previous is not None else None,
        )

    @staticmethod
    def _duplicate(article: CleanArticle, of: str, method: Any) -> DuplicateNotice:
        return DuplicateNotice(
            article_id=article.article_id,
            url=article.url,
            duplicate_of=of,
            method=method,
            similarity=1.0,
            origin=article.origin,
        )
