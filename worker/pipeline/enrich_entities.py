"""Named entities of an article: from the model's spans to counted, merged entities.

The model reads only parts of the body (``enrich_windows`` says which). Every
name it found becomes an alias; one pass of token matching over the whole body
then finds all mentions, and short forms are merged into full names
("McKenzie" -> "Kenneth McKenzie", "ISIS" -> "Islamic State in Iraq and Syria").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from worker.pipeline.enrich_gazetteer import (
    country_of_name,
    country_of_place,
    place_first_words,
)
from worker.pipeline.enrich_ner import Span
from worker.pipeline.enrich_tokens import (
    CALENDAR_WORDS,
    Token,
    is_capitalised,
    is_sentence_initial,
    name_tokens,
    stop_words,
)
from worker.pipeline.records import Entity

# Model label -> the entity type consumers see.
ENTITY_TYPES = {
    "PERSON": "person",
    "ORG": "organization",
    "GPE": "location",
    "LOC": "location",
    "FAC": "location",
    "EVENT": "event",
    "NORP": "other",
    "PRODUCT": "other",
    "WORK_OF_ART": "other",
    "LAW": "other",
    "LANGUAGE": "other",
}
# Longest alias, in tokens, the matcher tries; longer names are rare and still
# match through their shorter parts being absent (they are simply not found).
_MAX_ALIAS_TOKENS = 10
_LEADING_ARTICLE = re.compile(r"^(?:the|The|THE)\s+")
# Possessives and punctuation the model sometimes takes in; a full stop stays,
# it belongs to abbreviations ("U.S.", "Inc.").
_TRAILING_JUNK = re.compile(r"(?:['\u2019]s?|[\s,;:!?\"\u201d\u2019)\]-])+$")
_GAP_SPACE = re.compile(r"\s+")
# Lower-case particles that may sit inside a name ("Islamic State in Iraq").
NAME_PARTICLES = frozenset(
    [
        "of",
        "in",
        "and",
        "for",
        "the",
        "de",
        "la",
        "le",
        "du",
        "del",
        "da",
        "di",
        "van",
        "von",
        "bin",
        "al",
        "el",
    ]
)


@dataclass(frozen=True, slots=True)
class Mention:
    start: int
    end: int
    entity: int  # index into the entities list


@dataclass(frozen=True, slots=True)
class EntityResult:
    entities: list[Entity]
    mentions: list[Mention]  # every mention of a returned entity, in body order


def name_occurrences(
    body: str, spans: Sequence[Span], tokens: Sequence[Token]
) -> list[tuple[int, int]]:
    """Where the names in ``spans`` (of any label) occur anywhere in ``body``."""
    aliases: dict[tuple[str, ...], tuple[int, str]] = {}
    for span in spans:
        name = normalise_name(span.text)
        key = _token_key(name)
        if key and len(key) <= _MAX_ALIAS_TOKENS:
            aliases.setdefault(key, (0, _gaps(name)))
    return [(start, end) for start, end, _ in _match(body, tokens, aliases)]


# --- from model spans to entities ----------------------------------------------------


def normalise_name(text: str) -> str:
    name = " ".join(text.split())
    name = _LEADING_ARTICLE.sub("", name)
    name = _TRAILING_JUNK.sub("", name)
    return name


@lru_cache(maxsize=65536)
def _token_key(name: str) -> tuple[str, ...]:
    # Memoised: grouping asks for the same few names' tokens many times.
    return tuple(t.text for t in name_tokens(name))


class _Group:
    """Names that refer to one entity, with the model's label votes."""

    __slots__ = ("country", "forced_label", "labels", "names")

    def __init__(self) -> None:
        self.names: Counter[str] = Counter()
        self.labels: Counter[str] = Counter()
        self.forced_label: str | None = None
        self.country: str | None = None

    @property
    def label(self) -> str:
        return self.forced_label or self.labels.most_common(1)[0][0]


def resolve_entities(
    body: str,
    spans: Sequence[Span],
    title: str | None = None,
    max_entities: int = 100,
    language: str = "en",
    tokens: Sequence[Token] | None = None,
) -> EntityResult:
    """Group model spans into entities and count every mention in ``body``.

    ``tokens`` are ``name_tokens(body)`` when the caller has them already.
    """
    toks = name_tokens(body) if tokens is None else tokens
    if language == "en":
        spans = [*spans, *gazetteer_spans(body, spans, toks)]
    votes: dict[str, Counter[str]] = {}
    first_seen: dict[str, int] = {}
    for span in spans:
        if span.label not in ENTITY_TYPES or "\n" in span.text:
            continue
        name = normalise_name(span.text)
        key = _token_key(name)
        if not key or not any(is_capitalised(t) for t in key):
            continue
        votes.setdefault(name, Counter())[span.label] += 1
        first_seen[name] = min(first_seen.get(name, span.start), span.start)
    groups = _group_names(votes, first_seen)
    aliases = _aliases(groups)
    stops = stop_words(language)
    matches = _match(body, toks, aliases, stops)
    return _entities(body, title, groups, aliases, matches, max_entities)


# Country and city names that are as often something else: a first name
# ("Chad", "Jordan"), a US state ("Georgia"), an English word ("Nice").
AMBIGUOUS_PLACES = frozenset(
    [
        "chad",
        "jordan",
        "georgia",
        "nice",
        "male",
        "kiwi",
        "rio",
        "victoria",
        "lima",
        "split",
        "reading",
    ]
)
_MAX_PLACE_TOKENS = 4


def gazetteer_spans(body: str, spans: Sequence[Span], toks: Sequence[Token]) -> list[Span]:
    """Countries and major cities the model was not shown (the windows skip
    them) or missed, as GPE spans, where no model-found name covers them."""
    covered = name_occurrences(body, spans, toks)
    firsts = place_first_words()
    out: list[Span] = []
    c = 0
    i = 0
    while i < len(toks):
        tok = toks[i]
        if not tok.text[:1].isupper() or tok.text.casefold() not in firsts:
            i += 1
            continue
        while c < len(covered) and covered[c][1] <= tok.start:
            c += 1
        if c < len(covered) and covered[c][0] <= tok.start:
            i += 1
            continue
        hit = 0
        for n in range(min(_MAX_PLACE_TOKENS, len(toks) - i), 0, -1):
            end = toks[i + n - 1].end
            if body[end : end + 1] == "." and n > 1:
                end += 1  # "U.S."
            text = body[tok.start : end]
            if "\n" in text or country_of_place(text) is None:
                continue
            if n == 1 and (
                text.lower() in AMBIGUOUS_PLACES or is_sentence_initial(body, tok.start)
            ):
                continue
            out.append(Span(tok.start, end, "GPE", text))
            hit = n
            break
        i += max(hit, 1)
    return out


def _group_names(votes: dict[str, Counter[str]], first_seen: dict[str, int]) -> list[_Group]:
    label_of = {name: c.most_common(1)[0][0] for name, c in votes.items()}
    # Longest names first: short forms then find the full name they belong to.
    order = sorted(votes, key=lambda n: (-len(_token_key(n)), first_seen[n]))
    groups: list[_Group] = []
    placed = _Placed()
    by_country: dict[str, int] = {}
    for name in order:
        label = label_of[name]
        target = _owner(name, label, votes, placed, groups)
        country = country_of_name(name) if label in ("GPE", "LOC") else None
        if target is None and country is not None:
            target = by_country.get(country)
        if target is None:
            target = len(groups)
            groups.append(_Group())
        group = groups[target]
        group.names[name] += sum(votes[name].values())
        group.labels.update(votes[name])
        if country is not None:
            group.country = country
            by_country.setdefault(country, target)
        placed.add(name, target)
    for group in groups:
        # A person's surname is sometimes tagged ORG or GPE on its own; the
        # full name decides the type.
        if any(len(_token_key(n)) > 1 for n in group.names) and "PERSON" in group.labels:
            longest = max(group.names, key=lambda n: len(_token_key(n)))
            if votes.get(longest, Counter()).most_common(1)[0][0] == "PERSON":
                group.forced_label = "PERSON"
    return groups


def _owner(
    name: str,
    label: str,
    votes: dict[str, Counter[str]],
    placed: _Placed,
    groups: list[_Group],
) -> int | None:
    """The group of a longer, already placed name that ``name`` is a short form of."""
    key = _token_key(name)
    best: tuple[int, int] | None = None
    for other in placed.candidates(key):
        okey = _token_key(other)
        if len(okey) <= len(key):
            continue
        target = placed.group_of[other]
        if not _short_form(key, label, votes[name], okey, groups[target].label):
            continue
        weight = sum(groups[target].labels.values())
        if best is None or weight > best[0]:
            best = (weight, target)
    return best[1] if best else None


class _Placed:
    """Names already grouped, indexed by their tokens and initials for lookup."""

    def __init__(self) -> None:
        self.group_of: dict[str, int] = {}
        self._by_token: dict[str, list[str]] = {}
        self._by_initials: dict[str, list[str]] = {}

    def add(self, name: str, group: int) -> None:
        self.group_of[name] = group
        key = _token_key(name)
        for token in set(key):
            self._by_token.setdefault(token, []).append(name)
        initials = "".join(t[0] for t in key if t[0].isupper())
        self._by_initials.setdefault(initials, []).append(name)

    def candidates(self, key: tuple[str, ...]) -> list[str]:
        found = list(self._by_token.get(key[0], ()))
        if len(key) == 1:
            found.extend(self._by_initials.get(key[0], ()))
        return found


def _short_form(
    key: tuple[str, ...],
    label: str,
    name_votes: Counter[str],
    full: tuple[str, ...],
    full_label: str,
) -> bool:
    if full_label == "PERSON":
        # "McKenzie", "Kenneth", "al-Kadhimi": any contiguous part of a person's
        # name, when the model called it a person (or an organisation, a common
        # confusion for surnames) at least once.
        if name_votes["PERSON"] or label in ("PERSON", "ORG"):
            return _contains(full, key)
        # The surname alone, whatever the model called it in a short window
        # ("Soleimani's killing" as a place), unless it names a real place.
        return full[-len(key) :] == key and country_of_place(" ".join(key)) is None
    if full_label == label == "ORG":
        # "Central Command" of "U.S. Central Command"; an acronym of the full name.
        return full[-len(key) :] == key or _is_acronym(key, full)
    return False


def _contains(full: tuple[str, ...], part: tuple[str, ...]) -> bool:
    n = len(part)
    return any(full[i : i + n] == part for i in range(len(full) - n + 1))


def _is_acronym(key: tuple[str, ...], full: tuple[str, ...]) -> bool:
    if len(key) != 1 or not key[0].isupper() or not 2 <= len(key[0]) <= 6:
        return False
    initials = "".join(t[0] for t in full if t[0].isupper())
    return initials == key[0]


def _aliases(groups: list[_Group]) -> dict[tuple[str, ...], tuple[int, str]]:
    """Token key -> (group, the gap text between tokens) for every name form."""
    aliases: dict[tuple[str, ...], tuple[int, str]] = {}
    derived: dict[tuple[str, ...], list[int]] = {}
    surname_gaps: dict[tuple[str, ...], str] = {}
    for index, group in enumerate(groups):
        for name in group.names:
            key = _token_key(name)
            if key and len(key) <= _MAX_ALIAS_TOKENS:
                aliases.setdefault(key, (index, _gaps(name)))
        if group.label == "PERSON":
            full = max(group.names, key=lambda n: len(_token_key(n)))
            key = _token_key(full)
            if len(full.split()) >= 2:
                # The last word, hyphenated parts included ("al-Kadhimi").
                surname = full.split()[-1]
                skey = _token_key(surname)
                if surname.lower() not in CALENDAR_WORDS and len(surname) > 1 and skey:
                    derived.setdefault(skey, []).append(index)
                    surname_gaps[skey] = _gaps(surname)
    for key, owners in derived.items():
        # A surname two people share ("Trump") goes to neither unless the text
        # itself used it as a name, which put it in a group above.
        if key not in aliases and len(set(owners)) == 1:
            aliases[key] = (owners[0], surname_gaps[key])
    return aliases


def _gaps(name: str) -> str:
    """The text between a name's tokens, "|"-joined; "|." marks a final full stop."""
    toks = name_tokens(name)
    inner = "|".join(_GAP_SPACE.sub(" ", name[a.end : b.start]) for a, b in pairwise(toks))
    return inner + "|." if name.endswith(".") else inner


def _match(
    body: str,
    toks: Sequence[Token],
    aliases: dict[tuple[str, ...], tuple[int, str]],
    stops: frozenset[str] = frozenset(),
) -> list[tuple[int, int, int]]:
    """(start, end, group) of every alias occurrence, longest match first."""
    if not aliases:
        return []
    longest = max(len(k) for k in aliases)
    firsts = {k[0] for k in aliases}
    out: list[tuple[int, int, int]] = []
    i = 0
    n = len(toks)
    while i < n:
        if toks[i].text not in firsts:
            i += 1
            continue
        hit = _longest_at(body, toks, i, min(longest, n - i), aliases, stops)
        if hit is None:
            i += 1
            continue
        length, group, dotted = hit
        end = toks[i + length - 1].end
        if dotted and body[end : end + 1] == ".":
            end += 1  # "U.S." keeps its final full stop
        out.append((toks[i].start, end, group))
        i += length
    return out


def _longest_at(
    body: str,
    toks: Sequence[Token],
    i: int,
    longest: int,
    aliases: dict[tuple[str, ...], tuple[int, str]],
    stops: frozenset[str],
) -> tuple[int, int, bool] | None:
    for length in range(longest, 0, -1):
        key = tuple(t.text for t in toks[i : i + length])
        entry = aliases.get(key)
        if entry is None:
            continue
        group, gaps = entry
        found = "|".join(
            _GAP_SPACE.sub(" ", body[toks[j].end : toks[j + 1].start])
            for j in range(i, i + length - 1)
        )
        if length > 1 and found != gaps.removesuffix("|."):
            continue
        if length == 1 and not _plausible_single(body, toks[i], stops):
            continue
        return length, group, gaps.endswith(".")
    return None


def _plausible_single(body: str, tok: Token, stops: frozenset[str]) -> bool:
    # A one-word alias at a sentence start that is also a common word
    # ("May", "Will") is more likely the word than the name.
    if tok.text.lower() in CALENDAR_WORDS:
        return False
    return not (tok.text.lower() in stops and is_sentence_initial(body, tok.start))


def _entities(
    body: str,
    title: str | None,
    groups: list[_Group],
    aliases: dict[tuple[str, ...], tuple[int, str]],
    matches: list[tuple[int, int, int]],
    max_entities: int,
) -> EntityResult:
    seen: dict[int, list[tuple[int, int]]] = {}
    for start, end, group in matches:
        seen.setdefault(group, []).append((start, end))
    in_title: set[int] = set()
    if title:
        in_title = {g for _, _, g in _match(title, name_tokens(title), aliases)}
    size = max(len(body), 1)
    scored = []
    for index, spots in seen.items():
        raw = len(spots) + 2.0 * (index in in_title) + (1.0 - spots[0][0] / size)
        scored.append((raw, index))
    scored.sort(key=lambda item: (-item[0], seen[item[1]][0][0]))
    scored = scored[:max_entities]
    top = scored[0][0] if scored else 1.0
    entities: list[Entity] = []
    new_index: dict[int, int] = {}
    for raw, index in scored:
        owner = groups[index]
        spots = seen[index]
        surfaces = Counter(body[a:b] for a, b in spots)
        new_index[index] = len(entities)
        entities.append(
            Entity(
                name=_canonical(owner, surfaces),
                type=ENTITY_TYPES[owner.label],
                label=owner.label,
                mentions=len(spots),
                first_offset=spots[0][0],
                salience=round(raw / top, 4),
                aliases=sorted(surfaces, key=lambda s: (-surfaces[s], s)),
            )
        )
    mentions = [
        Mention(start, end, new_index[group]) for start, end, group in matches if group in new_index
    ]
    return EntityResult(entities, mentions)


def _canonical(group: _Group, surfaces: Counter[str]) -> str:
    names = list(group.names)
    if group.label in ("GPE", "LOC") and group.country is not None:
        # "U.S." and "United States" are one place; the most spelled-out form wins.
        names.sort(key=lambda n: (-len(n.replace(".", "")), -group.names[n]))
        return names[0]
    names.sort(key=lambda n: (-len(_token_key(n)), -group.names[n], -surfaces.get(n, 0)))
    return names[0]
