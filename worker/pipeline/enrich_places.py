"""Countries an article is about (ISO 3166-1 alpha-2) and its dateline.

Countries come from typed entities only: location names ("Iraq", "Baghdad",
"the U.S.") and nationality adjectives ("Iraqi"), each weighted by its
mentions. Free text is never looked up, so a person called Jordan stays a
person.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from worker.pipeline.enrich_gazetteer import country_of_demonym, country_of_place
from worker.pipeline.records import CountryMention, Dateline, Entity, Places

# "BAGHDAD (AP) — ", "WASHINGTON -- ", "LONDON, Nov 19 (Reuters) - ",
# "FORT WORTH, Texas — ": an upper-case place, optional region/date and agency,
# then a dash, at the very start of the body.
_DATELINE = re.compile(
    r"^\s*(?P<place>[A-Z][A-Z.'\u2019\- ]{1,40}?[A-Z.])"
    r"(?:,\s*(?P<region>[A-Z][\w.' ]{1,30}?))?"
    r"\s*(?:\((?P<agency>[^)\n]{1,30})\))?"
    r"\s*(?:\u2014|\u2013|--|-|:)\s+"
)
_PREFIXES = ("pro-", "anti-", "non-")


def find_places(body: str, entities: Sequence[Entity]) -> Places:
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    for entity in entities:
        code = _country(entity)
        if code is None:
            continue
        counts[code] += entity.mentions
        first[code] = min(first.get(code, entity.first_offset), entity.first_offset)
    countries = [
        CountryMention(code, n)
        for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], first[kv[0]]))
    ]
    return Places(countries=countries, dateline=find_dateline(body))


def _country(entity: Entity) -> str | None:
    names = [entity.name, *entity.aliases]
    if entity.label in ("GPE", "LOC", "FAC"):
        for name in names:
            code = country_of_place(name)
            if code is not None:
                return code
    elif entity.label == "NORP":
        for name in names:
            lowered = name.lower()
            for prefix in _PREFIXES:
                if lowered.startswith(prefix):
                    name = name[len(prefix) :]
            code = country_of_demonym(name)
            if code is not None:
                return code
    return None


def find_dateline(body: str) -> Dateline | None:
    m = _DATELINE.match(body[:120])
    if m is None:
        return None
    place = m.group("place").strip()
    # An all-caps place of at least one real word: not an acronym run-in ("CEO -").
    if sum(c.isalpha() for c in place) < 3 or place.isupper() is False:
        return None
    name = " ".join(w.capitalize() if len(w) > 2 else w for w in place.split())
    region = m.group("region")
    code = country_of_place(name)
    if code is None and region:
        code = country_of_place(region.strip())
    return Dateline(name=name, country=code)
