"""A generated corpus of hostile raw values, and what each may become.

Everything here is synthetic and deterministic (seeded). Each input names the
outcomes it may end in: a route (enriched, duplicates, deadletter) and, for
dead letters, the reason codes that would be a sensible verdict. "It did not
crash" is not enough: a page with a billion-laughs DOCTYPE that dead-letters
as ``clean_error`` is a bug of ours, not a sensible outcome.

``python -m tests.hostile`` runs the corpus through the in-process pipeline and
prints one JSON object: outcomes and the peak-RSS growth over a warmed-up
baseline. The unit tests run it in a child process, so the peak measured is
the corpus's own, not that of whatever test ran before.
"""

from __future__ import annotations

import gzip
import random
import resource
import sys
import time
from dataclasses import dataclass

import orjson

MiB = 1024 * 1024
ENRICHED = frozenset({"enriched"})
DEAD = frozenset({"deadletter"})
_PARA = (
    "The harbour council met on Tuesday evening to debate the budget for the coming "
    "year, and members agreed to delay the vote until the auditors report in March. "
)


@dataclass(frozen=True)
class Hostile:
    name: str
    value: bytes
    routes: frozenset[str]
    reasons: frozenset[str] = frozenset()  # allowed dead-letter reasons
    key: bytes | None = None
    # Byte strings no output may contain (contents of files a parser must not read).
    forbidden: tuple[bytes, ...] = ()

    def allows(self, route: str, reason: str | None) -> bool:
        return route in self.routes and (route != "deadletter" or reason in self.reasons)


_WORDS = [
    "harbour", "council", "budget", "ferry", "tram", "school", "clinic", "bridge", "river",
    "market", "station", "levy", "auditor", "mayor", "deputy", "union", "strike", "tender",
    "contract", "housing", "rent", "water", "power", "grid", "storm", "flood", "repair",
    "museum", "library", "stadium", "festival", "police", "court", "appeal", "ruling",
    "minister", "treasury", "pension", "farmer", "harvest", "export", "tariff", "port",
    "freight", "airline", "pilot",
]


def prose(name: str, sentences: int = 12) -> str:
    """Plain sentences of their own for each input (seeded by ``name``), so that
    inputs are not duplicates of each other and each one reaches enrichment."""
    rng = random.Random(name)
    out = []
    for _ in range(sentences):
        words = [rng.choice(_WORDS) for _ in range(rng.randrange(10, 18))]
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def _article(n: str, **fields: object) -> bytes:
    return orjson.dumps({"url": f"https://hostile.example.org/{n}", **fields})


def _page(body_html: str, head: str = "", doctype: str = "<!DOCTYPE html>") -> str:
    return (f"{doctype}<html><head><title>Harbour budget {len(body_html)}</title>{head}"
            f"</head><body><article><h1>Harbour budget</h1>{body_html}</article></body></html>")


def _padded(value: bytes, size: int) -> bytes:
    """The JSON object ``value`` grown to exactly ``size`` bytes by a padding field."""
    head = value[:-1] + b',"padding":"'
    return head + b"x" * (size - len(head) - 2) + b'"}'


def gzip_bomb(inflated_bytes: int) -> bytes:
    """gzip data inflating to ``inflated_bytes`` zeros (a whole number of MiB):
    one compressed MiB repeated as concatenated gzip members, which every gzip
    reader inflates in sequence. ~1 KB per MiB, made in milliseconds."""
    member = gzip.compress(b"\0" * MiB, compresslevel=9, mtime=0)
    return member * (inflated_bytes // MiB)


def _malformed_json() -> list[Hostile]:
    bad = {
        "truncated": b'{"url": "https://hostile.example.org/t", "text": "Harbour',
        "single-quotes": b"{'url': 'https://hostile.example.org/q', 'text': 'x'}",
        "trailing-comma": b'{"url": "https://hostile.example.org/c", "text": "x",}',
        "nan-literal": b'{"url": "https://hostile.example.org/n", "text": NaN}',
        "infinite-number": b'{"url": "https://hostile.example.org/i", "n": 1e400}',
        "lone-surrogate": b'{"text": "Harbour \\ud800 budget"}',
        "two-objects": b'{"text": "a"}{"text": "b"}',
        "unescaped-control-char": b'{"text": "Harbour\x00budget"}',
        "nested-2000": b'{"x":' + b"[" * 2000 + b"]" * 2000 + b"}",
        "empty": b"",
        "whitespace": b" \n\t ",
    }
    return [Hostile(f"json/{k}", v, DEAD, frozenset({"malformed_json"})) for k, v in bad.items()]


def _shapes() -> list[Hostile]:
    deep_extra = _article("deep-extra", text=prose("deep-extra"))[:-1]
    return [
        Hostile("shape/array", b"[1, 2, 3]", DEAD, frozenset({"not_an_object"})),
        Hostile("shape/null", b"null", DEAD, frozenset({"not_an_object"})),
        Hostile("shape/string", b'"just a string"', DEAD, frozenset({"not_an_object"})),
        # Readable by orjson (1,024 levels) but not writable (254): refused up front.
        Hostile("shape/extra-nested-300",
                deep_extra + b',"x":' + b"[" * 300 + b"]" * 300 + b"}",
                DEAD, frozenset({"schema_violation"})),
        Hostile("shape/title-object", _article("title-object", text=prose("t"), title={"a": 1}),
                DEAD, frozenset({"schema_violation"})),
        Hostile("shape/url-9000", _article("u" * 9000, text=prose("url")),
                DEAD, frozenset({"schema_violation"})),
        Hostile("shape/100k-unknown-keys",
                orjson.dumps({"url": "https://hostile.example.org/keys", "text": prose("keys"),
                              **{f"k{i}": i for i in range(100_000)}}),
                ENRICHED),
    ]


def _invalid_utf8() -> list[Hostile]:
    reason = frozenset({"invalid_utf8"})
    return [
        Hostile("utf8/ff-in-string", b'{"text": "Harbour \xff\xfe budget"}', DEAD, reason),
        Hostile("utf8/overlong-slash", b'{"text": "a\xc0\xafb"}', DEAD, reason),
        Hostile("utf8/cesu-surrogate", b'{"text": "a\xed\xa0\x80b"}', DEAD, reason),
        Hostile("utf8/latin1-page", '{"html": "<p>Café crème</p>"}'.encode("latin-1"),
                DEAD, reason),
    ]


def _null_bytes() -> list[Hostile]:
    return [
        Hostile("nul/raw-bytes", b"\x00" * 4096, DEAD, frozenset({"malformed_json"})),
        Hostile("nul/in-text", _article(
            "nul-text", text="Harbour\u0000 budget\n" + prose("nul-text") + "\u0000" * 500),
                ENRICHED),
        Hostile("nul/in-html", _article("nul-html", html=_page(
            "<p>\u0000" + prose("nul-html") + "</p>\u0000<p>\u0000\u0000</p>")), ENRICHED),
        Hostile("nul/only-nuls-as-text", _article("nul-only", text="\u0000" * 1000),
                DEAD, frozenset({"empty_body"})),
        Hostile("nul/in-key-and-url", b'{"te\\u0000xt": "x", "url": "https://h.example/\\u0000"}',
                DEAD, frozenset({"empty_body"})),
    ]


def _binary(rng: random.Random) -> list[Hostile]:
    garbage = frozenset({"invalid_utf8", "malformed_json"})
    compressed = gzip.compress(_article("gzipped", text=prose("gzipped")), mtime=0)
    return [
        Hostile("binary/random-64k", rng.randbytes(64 * 1024), DEAD, garbage),
        Hostile("binary/random-ascii", bytes(rng.randrange(32, 127) for _ in range(8192)),
                DEAD, garbage),
        Hostile("binary/png-header", b"\x89PNG\r\n\x1a\n" + rng.randbytes(2048), DEAD, garbage),
        # The worker takes values as they are: a compressed value is not JSON
        # (gzip's magic byte 0x8b is not UTF-8) and is never inflated.
        Hostile("binary/gzipped-article", compressed, DEAD, frozenset({"invalid_utf8"})),
        Hostile("binary/gzip-bomb-1GiB", gzip_bomb(1024 * MiB), DEAD, frozenset({"invalid_utf8"})),
    ]


def _big(rng: random.Random, huge: bool) -> list[Hostile]:
    names = [f"{a} {b}" for a in ("Alice", "Bruno", "Chen", "Dara", "Emeka", "Farah", "Goran",
                                  "Hana", "Ivo", "Jun") for b in ("Smith", "Okafor", "Larsen",
                                  "Moreau", "Tanaka", "Kowalski", "Haddad", "Ortiz")]
    capitalised = " ".join(
        f"{rng.choice(names)}{rng.randrange(1000):03d} Quarry" for _ in range(20_000)
    )
    nested_ok = "<div>" * 5000 + "<p>" + prose("nested-5000") + "</p>" + "</div>" * 5000
    out = [
        Hostile("big/20k-capitalised-names",
                _article("names", text="Harbour budget names\n" + capitalised), ENRICHED),
        Hostile("big/html-nested-100k", _article("nested-100k", html=_page(
            "<div>" * 100_000 + prose("nested-100k") + "</div>" * 100_000)),
                DEAD, frozenset({"extract_timeout"})),
        Hostile("big/html-nested-5000", _article("nested-5000", html=_page(nested_ok)),
                ENRICHED | DEAD, frozenset({"extract_timeout"})),
        Hostile("big/html-8MiB-paragraphs", _article("paragraphs", html=_page(
            "".join(f"<p>{i} {_PARA}</p>" for i in range(8 * MiB // (len(_PARA) + 16))))),
                ENRICHED | DEAD, frozenset({"extract_timeout"})),
        Hostile("big/html-2M-br", _article("br", html=_page("<br>" * 2_000_000 + prose("br"))),
                ENRICHED | DEAD, frozenset({"extract_timeout", "empty_body"})),
        Hostile("big/html-one-9MiB-word", _article("word", html=_page("<p>" + "x" * 9 * MiB)),
                ENRICHED | DEAD, frozenset({"extract_timeout"})),
        Hostile("big/text-9MiB-one-line", _article("line", text="Harbour " * (9 * MiB // 8)),
                ENRICHED | DEAD, frozenset({"extract_timeout"})),
        Hostile("big/html-1M-entities", _article("entities", html=_page(
            "<p>" + "&amp;&lt;&#x41;&nbsp;" * 250_000 + "</p><p>" + prose("entities") + "</p>")),
                ENRICHED | DEAD, frozenset({"extract_timeout"})),
        Hostile("big/jsonld-nested-200k", _article("jsonld-deep", html=_page(
            "<p>" + prose("jsonld-deep") + "</p>",
            head='<script type="application/ld+json">' + "[" * 200_000 + "</script>")),
                ENRICHED),
        # Past newswire's 10 MiB limit but within the raw topic's 64 KiB headroom:
        # the broker takes it and the worker dead-letters it.
        Hostile("big/over-limit-by-1KiB",
                _padded(_article("over-by-1k", text=prose("over-by-1k")), 10 * MiB + 1024),
                DEAD, frozenset({"too_large"})),
        Hostile("big/over-limit-11MiB", _article("over", text="word " * (11 * MiB // 5)),
                DEAD, frozenset({"too_large"})),
    ]
    if huge:
        out.append(Hostile("big/value-50MiB", _article("fifty", text="word " * (50 * MiB // 5)),
                           DEAD, frozenset({"too_large"})))
    return out


LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)


def _entity_tricks(secret_path: str, trap_url: str) -> list[Hostile]:
    """DTD entity expansion and external references: an HTML5 parser treats a
    DOCTYPE's internal subset as junk and fetches nothing, so none of these may
    expand, read ``secret_path`` or connect to ``trap_url``."""
    file_url = f"file://{secret_path}"
    ld = orjson.dumps({
        "@context": f"{trap_url}/context.jsonld", "@type": "NewsArticle",
        "headline": "Harbour budget", "author": {"@id": file_url}, "image": file_url,
    }).decode()
    # name -> (DOCTYPE or prolog, extra <head> markup, extra body markup)
    tricks: dict[str, tuple[str, str, str]] = {
        "billion-laughs": (LAUGHS, "", "<p>&lol9;</p>"),
        "quadratic-blowup": ('<!DOCTYPE x [<!ENTITY a "' + "A" * 50_000 + '">]>', "",
                             "<p>" + "&a;" * 50_000 + "</p>"),
        "xxe-file": (f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "{file_url}">]>', "", "<p>&xxe;</p>"),
        "xxe-passwd": ('<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "",
                       "<p>&xxe;</p>"),
        "xxe-http": (f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "{trap_url}/xxe">]>', "", "<p>&xxe;</p>"),
        "parameter-entity": (f'<!DOCTYPE x [<!ENTITY % r SYSTEM "{trap_url}/dtd"> %r;]>', "", ""),
        "external-dtd": (f'<!DOCTYPE html SYSTEM "{trap_url}/ext.dtd">', "", ""),
        "xml-stylesheet-xinclude": (
            f'<?xml version="1.0"?><?xml-stylesheet href="{trap_url}/s.xsl"?><!DOCTYPE html>', "",
            '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
            f'href="{file_url}" parse="text"/>'),
        "remote-resources": (
            "<!DOCTYPE html>",
            f'<base href="{trap_url}/"><link rel="stylesheet" href="{trap_url}/c.css">'
            f'<script src="{trap_url}/j.js"></script><link rel="canonical" href="{trap_url}/c">'
            f'<meta http-equiv="refresh" content="0;url={trap_url}/r">',
            f'<img src="{trap_url}/i.png"><iframe src="{file_url}"></iframe>'
            f'<svg><image href="{file_url}"/><use href="{trap_url}/u.svg#x"/></svg>'
            f'<object data="{trap_url}/o"></object>'),
        "jsonld-remote-context": (
            "<!DOCTYPE html>", f'<script type="application/ld+json">{ld}</script>', ""),
    }
    return [
        Hostile(
            f"entity/{name}",
            _article(f"entity-{name}", html=_page(
                f"<p>{prose(name)}</p>{body}", head=head, doctype=doctype)),
            ENRICHED,
            forbidden=(b"lollollollollollollollol", b"A" * 100_000, b"root:x:0:0"),
        )
        for name, (doctype, head, body) in tricks.items()
    ]


def corpus(*, huge: bool = True, secret_path: str = "/nonexistent/newswire-secret",
           trap_url: str = "http://127.0.0.1:9/trap", seed: int = 8) -> list[Hostile]:
    """Every hostile input; ``huge`` adds the 50 MiB value."""
    rng = random.Random(seed)
    return [
        *_malformed_json(), *_shapes(), *_invalid_utf8(), *_null_bytes(), *_binary(rng),
        *_big(rng, huge), *_entity_tricks(secret_path, trap_url),
    ]


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> int:
    """Run the corpus through the pipeline in this process; print outcomes and
    the peak-RSS growth over a baseline taken after the models are loaded."""
    from worker.pipeline.flow import InProcessPipeline, route_of
    from worker.pipeline.records import DeadLetter, Origin
    from worker.schemas import validator
    from worker.topics import raw_limit

    items = corpus()
    pipeline = InProcessPipeline(validator("raw"))
    # Warm up: models, validator and lazily imported modules are not growth.
    pipeline.run(_article("warm-up", text="Warm up\n" + _PARA * 5), Origin())
    baseline = _rss_mib()
    outcomes = []
    for offset, item in enumerate(items):
        started = time.perf_counter()
        record = pipeline.run(item.value, Origin("raw", 0, offset, item.key))
        seconds = time.perf_counter() - started
        value = (record.to_dict(raw_limit(pipeline.config.max_bytes))
                 if isinstance(record, DeadLetter) else record.to_dict())
        outcomes.append({
            "name": item.name, "route": route_of(record), "reason": value.get("reason"),
            "allowed": item.allows(route_of(record), value.get("reason")),
            "size": len(item.value), "output_size": len(orjson.dumps(value)),
            "rss_growth_mib": round(_rss_mib() - baseline, 1), "seconds": round(seconds, 2),
            "forbidden": [f.decode() for f in item.forbidden if f in orjson.dumps(value)],
        })
    print(orjson.dumps({"baseline_mib": round(baseline, 1), "outcomes": outcomes}).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
