"""A synthetic sample feed: invented articles plus the troubles a real feed has.

Used by `newswire demo` (make run), the integration tests and the benchmarks.
Every item says which output it must end in, so a run can be checked exactly.
The text is generated here from small word lists; it describes no real event.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import orjson

Expect = Literal["enriched", "duplicates", "deadletter"]

_PLACES = ["Norhaven", "Calder Bay", "East Vellmar", "Port Orrin", "Larkfield", "Tessaly",
           "Brightwater", "Ostrava Flats", "Kestrel Point", "Marrowdale", "Quillon", "Ashgrove"]
_ORGS = ["the Harbour Authority", "the Regional Water Board", "the Transit Council",
         "the Guild of Bakers", "the State Energy Office", "the University of Calder",
         "the Farmers' Cooperative", "the Coastal Rescue Service", "the City Library Trust"]
_PEOPLE = ["Mara Ellison", "Tobias Renn", "Aiko Marsh", "Daniel Okafor", "Ines Valdé",
           "Petra Lindqvist", "Samuel Achterberg", "Leila Haddad", "Jonas Breck"]
_TOPICS = [
    ("a new ferry timetable", "ferry crossings", "commuters"),
    ("the reopening of the old market hall", "market traders", "visitors"),
    ("a drought plan for the summer months", "reservoir levels", "farmers"),
    ("a pilot scheme for night buses", "late-shift workers", "bus drivers"),
    ("repairs to the sea wall", "storm damage", "residents"),
    ("a community solar project", "electricity bills", "households"),
    ("changes to school lunch funding", "school kitchens", "parents"),
    ("a festival of regional bread", "local bakeries", "tourists"),
]
_VERBS = ["announced", "approved", "postponed", "defended", "outlined", "questioned"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
# Each story also gets a paragraph of local detail whose every three-word window
# holds a drawn word: the stories share a template, and without it they would
# be near-duplicates of each other (word-shingle Jaccard ~0.45) to the sequencer.
_FIRST = ["Alma", "Bruno", "Cyra", "Dov", "Elin", "Farid", "Greta", "Hugo", "Ilse", "Jora",
          "Kofi", "Lena", "Milo", "Nadia", "Oskar", "Pia", "Ravi", "Sela", "Timo", "Vera"]
_LAST = ["Abbott", "Brandt", "Castell", "Dorsey", "Eklund", "Ferrante", "Gale", "Hollis",
         "Iversen", "Jalloh", "Kemper", "Lodge", "Moreau", "Nakata", "Orme", "Pryce"]
_STREETS = ["Mill Lane", "Harbour Row", "Station Street", "Quarry Road", "Elm Walk",
            "Tanner's Yard", "Bridge End", "Chapel Hill", "Salt Street", "Orchard Close"]
_THINGS = ["potholes", "parking fees", "bus shelters", "street lights", "flood gates",
           "rent levels", "queues", "noise complaints", "school places", "water pressure",
           "market stalls", "cycle lanes", "bin collections", "ferry fares", "footpaths"]
_CHANGES = ["doubled", "halved", "improved", "worsened", "stalled", "recovered", "fluctuated",
            "vanished", "multiplied", "steadied"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_PLACES_NEAR = ["bakery", "ferry pier", "clinic", "library", "sports hall", "fish market",
                "town hall", "cinema", "depot", "allotments"]


@dataclass(frozen=True, slots=True)
class FeedItem:
    key: bytes | None
    value: bytes
    expect: Expect
    note: str


def _story(rng: random.Random, n: int) -> dict[str, str]:
    place, org, person = rng.choice(_PLACES), rng.choice(_ORGS), rng.choice(_PEOPLE)
    subject, concern, group = rng.choice(_TOPICS)
    verb, day = rng.choice(_VERBS), rng.choice(_DAYS)
    amount = rng.randint(2, 90) * 100_000
    share = rng.randint(11, 87)
    title = f"{place} officials {verb} {subject} (report {n})"
    paragraphs = [
        f"Officials in {place} {verb} {subject} on {day}, saying the decision followed "
        f"months of talks with {org} about {concern}.",
        f"\u201cWe listened to {group} at every stage,\u201d said {person}, who led the "
        f"review. \u201cThis is not the end of the conversation.\u201d",
        # Every line names the story's own place or people: a sentence repeated
        # verbatim across a source's articles is boilerplate, and is learned as such.
        f"The plan for {place} is expected to cost about {amount:,} crowns over three years. "
        f"Critics at {org} said the figure left out maintenance, while {person} pointed "
        f"to savings.",
        f"A survey published last spring found that {share} percent of {group} in {place} "
        f"wanted a change, up from the year before.",
        f"{person} said a first progress report would be published in the autumn, and that "
        f"{org} would hold public meetings before then. Report number {n} of this feed.",
        _local_detail(rng),
    ]
    return {"title": title, "place": place, "paragraphs": "\n\n".join(paragraphs)}


def _local_detail(rng: random.Random) -> str:
    sentences = []
    for _ in range(8):
        sentences.append(
            f"{rng.choice(_FIRST)} {rng.choice(_LAST)}, {rng.randint(19, 88)}, of "
            f"{rng.randint(2, 240)} {rng.choice(_STREETS)} said {rng.choice(_THINGS)} at the "
            f"{rng.choice(_PLACES_NEAR)} had {rng.choice(_CHANGES)} since {rng.randint(1, 28)} "
            f"{rng.choice(_MONTHS)}, and {rng.choice(_THINGS)} {rng.choice(_CHANGES)} "
            f"{rng.randint(3, 97)} percent."
        )
    return " ".join(sentences)


def _html(story: dict[str, str], url: str) -> str:
    paras = "".join(f"<p>{p}</p>" for p in story["paragraphs"].split("\n\n"))
    return (
        f"<!doctype html><html><head><title>{story['title']} | The Example Gazette</title>"
        f'<link rel="canonical" href="{url}">'
        '<meta property="article:published_time" content="2026-11-20T08:00:00Z">'
        "</head><body><header><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"</header><article><h1>{story['title']}</h1>{paras}</article>"
        "<footer>Copyright The Example Gazette. All rights reserved.</footer></body></html>"
    )


def _text(story: dict[str, str]) -> str:
    return f"{story['title']}\n\n{story['paragraphs']}\n"


def build_feed(
    n_articles: int = 60, seed: int = 7, host: str = "news.example.com"
) -> list[FeedItem]:
    """``n_articles`` unique articles (half HTML, half text), then for every fifth a
    re-sent copy (url duplicate), for every seventh a syndicated copy on another
    site (exact duplicate), for every eleventh a revised version (new revision),
    and one of each malformed kind per ten articles."""
    rng = random.Random(seed)
    items: list[FeedItem] = []
    originals: list[tuple[str, dict[str, object], dict[str, str]]] = []
    for n in range(n_articles):
        story = _story(rng, n)
        url = f"https://{host}/{story['place'].lower().replace(' ', '-')}/story-{n}"
        doc: dict[str, object] = {"url": url, "source": host,
                                  "fetched_at": "2026-11-20T09:00:00Z"}
        if n % 2:
            doc["html"] = _html(story, url)
        else:
            doc["text"] = _text(story)
        originals.append((url, doc, story))
        items.append(FeedItem(url.encode(), orjson.dumps(doc), "enriched", "unique"))

    for n, (url, doc, story) in enumerate(originals):
        if n % 5 == 0:
            # Same URL with tracking parameters and www.: the same page again.
            resent = dict(doc, url=url.replace("https://", "https://www.") + "?utm_source=feed")
            items.append(FeedItem(url.encode(), orjson.dumps(resent), "duplicates", "url"))
        if n % 7 == 3:
            other = url.replace(host, "syndication.example.org")
            copy = {"url": other, "text": _text(story), "source": "syndication.example.org"}
            if "html" in doc:
                copy = {"url": other, "html": _html(story, other)}
            items.append(FeedItem(other.encode(), orjson.dumps(copy), "duplicates", "exact"))
        if n % 11 == 5 and n % 5:
            # (Not for re-sent articles: a resend after the revision would be a
            # change back, i.e. a third revision, and the expectation ambiguous.)
            revised = dict(doc)
            revised.pop("html", None)
            revised["text"] = _text(story) + "\nUpdate: officials corrected the cost figure.\n"
            items.append(FeedItem(url.encode(), orjson.dumps(revised), "enriched", "revision"))

    bad: list[tuple[bytes, str]] = [
        (b'{"url": "https://news.example.com/broken", "text": "unterminated', "malformed_json"),
        (b"\xff\xfe\x00garbage\x80\x81", "invalid_utf8"),
        (b'{"title": "A headline with nothing else"}', "missing_content"),
        (b'{"url": 12345, "text": "wrong type for the url"}', "schema_violation"),
        (b'["an", "array", "not", "an", "object"]', "not_an_object"),
        (b'{"url": "https://news.example.com/no-body"}', "empty_body"),
    ]
    for i in range(max(1, n_articles // 10)):
        value, reason = bad[i % len(bad)]
        items.append(FeedItem(None, value, "deadletter", reason))
    # Originals first (so every copy and revision follows its original), then the
    # copies, revisions and malformed messages in a deterministic shuffle.
    head, tail = items[:n_articles], items[n_articles:]
    rng.shuffle(tail)
    return head + tail


def seed_items(seed_dir: Path) -> list[FeedItem]:
    """The real seed article(s) from ../shared, when present, as plain-text inputs."""
    if not seed_dir.is_dir():
        return []
    out = []
    for path in sorted(seed_dir.glob("*.txt")):
        doc = {"text": path.read_text(encoding="utf-8", errors="replace"), "source": "seed"}
        out.append(FeedItem(None, orjson.dumps(doc), "enriched", f"seed:{path.name}"))
    return out
