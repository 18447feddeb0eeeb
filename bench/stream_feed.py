"""Short synthetic articles for the memory run of bench/stream.py.

100,000 real pages at ~10 articles/s would take hours, so the memory run feeds
short plain-text articles written here. Each body holds a sentence drawn from
word lists plus its own serial number in words, so every article is unique to
the dedup sequencer (no URL, exact or near duplicate): the dedup state grows
with every article unless the event time advances past the dedup window.
The text describes no real event.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import orjson

_TOWNS = ["Aldmoor", "Brisk Harbour", "Cindervale", "Dunmarrow", "Eastwick Fen", "Folly Cross",
          "Glenhallow", "Hythe Mere", "Ivory Quay", "Juniper Rise", "Kettle Down", "Lowmarsh"]
_BODIES = ["the county roads office", "the lido trust", "the tram cooperative",
           "the orchard growers' union", "the lifeboat volunteers", "the museum board"]
_ITEMS = ["benches", "ferry ramps", "tram stops", "reading rooms", "cycle racks", "water fountains",
          "market awnings", "bus timetables", "street names", "sea defences", "allotment plots"]
_ACTIONS = ["repainted", "replaced", "counted", "moved", "repaired", "surveyed", "renamed"]
_NAMES = ["Orla Penhale", "Idris Mowbray", "Saskia Thorne", "Nnamdi Esterhuys", "Wren Calloway",
          "Bastien Okoro", "Tilde Ravensworth", "Hamza Pellow"]
_DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
URL_BASE = "https://bench-synthetic.newswire.example"


def _detail(rng: random.Random) -> str:
    # Every three-word window holds a drawn word or number: the articles share a
    # template, and without this they would be near duplicates of each other.
    return " ".join(
        f"{rng.choice(_NAMES).split()[0]} counted {rng.randint(2, 900)} {rng.choice(_ITEMS)} "
        f"near {rng.choice(_TOWNS)} {rng.choice(_ACTIONS)} {rng.randint(2, 60)} days ago."
        for _ in range(4)
    )


def spelled(n: int) -> str:
    # The serial number in words joins the body's shingles, so no two bodies are
    # near duplicates of each other, whatever the drawn words.
    return " ".join(_DIGITS[int(d)] for d in str(n))


def short_article(n: int, rng: random.Random, fetched_at: datetime) -> tuple[bytes, bytes]:
    """(key, RawArticle JSON) of article ``n``: a headline and three short paragraphs,
    about 110 words."""
    town, body, name = rng.choice(_TOWNS), rng.choice(_BODIES), rng.choice(_NAMES)
    items, action = rng.sample(_ITEMS, 2), rng.choice(_ACTIONS)
    count = rng.randint(3, 400)
    text = (
        f"{town} volunteers {action} {count} {items[0]} (bulletin {n})\n\n"
        f"Volunteers from {body} {action} {count} {items[0]} in {town} this week, "
        f"{name} said on {rng.choice(['Monday', 'Tuesday', 'Wednesday', 'Thursday'])}.\n\n"
        f"\u201cThe {items[1]} come next,\u201d said {name}, adding that the work in {town} "
        f"should be finished within {rng.randint(2, 11)} weeks.\n\n"
        f"{_detail(rng)}\n\n"
        f"This is bulletin number {spelled(n)} of the synthetic benchmark feed.\n"
    )
    url = f"{URL_BASE}/{town.lower().replace(' ', '-')}/bulletin-{n}"
    doc = {"url": url, "text": text, "source": "bench-synthetic.example",
           "fetched_at": fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return url.encode(), orjson.dumps(doc)


def synthetic_feed(
    count: int, seed: int = 11, event_step_s: float = 0.0, start: datetime | None = None
) -> list[tuple[bytes, bytes]]:
    """``count`` unique short articles. ``event_step_s`` > 0 advances each article's
    fetched_at by that much, so the dedup window (NEWSWIRE_DEDUP_WINDOW_DAYS) expires
    old entries; 0 keeps one event time, so nothing expires and the state grows."""
    rng = random.Random(seed)
    t0 = start or datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    return [
        short_article(n, rng, t0 + timedelta(seconds=n * event_step_s)) for n in range(count)
    ]
