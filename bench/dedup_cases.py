"""The labelled near-duplicate set of bench/dedup.py, built at run time.

Real article bodies come from ../shared/corpus/extraction-dev/ground-truth.json
(read, never copied). Everything else here is synthetic text written for this
benchmark: boilerplate blocks, headline rewrites, word edits and templated
briefs. Every case is a pair (first, second) with the decision the sequencer
should reach for the second after seeing the first:

- positives ("duplicate"): the same story under another URL with a rewritten
  headline, a paragraph dropped or added, boilerplate swapped, 1-5% of words
  edited, truncated, or several of these at once (a syndicated copy);
- revisions ("revision"): the same URL with an edited body, which must stay a
  new revision of the article, never a duplicate of it;
- hard negatives ("unique"): different stories sharing long boilerplate, the
  nearest same-topic story in the corpus (with and without one source's
  boilerplate), templated short briefs and near-empty bodies;
- easy negatives ("unique"): random pairs of different stories;
- stress ("unique", outside the targets): different stories whose shared
  boilerplate is longer than the shorter story. No set similarity can tell
  those from one story with swapped boilerplate (the two are mirror images);
  keeping boilerplate below the story is the clean stage's job. They are
  printed so the behaviour is visible, and kept out of P/R/F1.

The generator is seeded, so every run measures the same set.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Expect = Literal["duplicate", "revision", "unique"]
Group = Literal["positive", "revision", "hard-negative", "negative", "stress"]

_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Case:
    kind: str
    group: Group
    expect: Expect
    first: str
    second: str
    story: int = -1  # which corpus body a duplicate or revision is a version of


# --- synthetic boilerplate (written for this benchmark) -------------------------

BOILERPLATE = [
    "Sign up for our morning newsletter to get the day's top stories delivered to your "
    "inbox before breakfast. You can unsubscribe at any time.",
    "Copyright 2024 Northgate Media Group. All rights reserved. This material may not be "
    "published, broadcast, rewritten or redistributed without permission.",
    "Follow us on social media for breaking news alerts, and download our free app to "
    "read the latest headlines wherever you are.",
    "Have a news tip? Contact our newsroom by email or call the tip line, which is "
    "staffed around the clock by our reporters and editors.",
    "This article originally appeared in the regional edition and has been updated with "
    "additional reporting from our correspondents in the field.",
    "Comments on this story are moderated. Please keep the discussion civil and on topic; "
    "posts that include personal attacks or spam will be removed.",
    "Our journalism depends on readers like you. Subscribe today for unlimited digital "
    "access, the weekend print edition and exclusive events for members.",
    "Correction: An earlier version of this story misstated the date of the meeting. It "
    "has been updated with the correct information.",
    "Related coverage: what we know so far, the timeline of events, reactions from local "
    "leaders and a guide to the questions that remain unanswered.",
    "Reporting contributed by the Valley Desk. Editing by the Metro Team. Graphics and "
    "data analysis by the Visuals Unit of the newsroom.",
    "Photos and video from the scene are available in our gallery. Readers may submit "
    "their own images through the upload form on our website.",
    "The views expressed in guest contributions are those of the authors and do not "
    "necessarily reflect the editorial position of this publication or its owners.",
    "Advertisement. Continue reading the main story below. Recommended for you: five "
    "stories our editors picked for your weekend reading list.",
    "Stay informed with our daily podcast, in which our reporters discuss the biggest "
    "stories of the day in under twenty minutes, available on all major platforms.",
    "If you or someone you know needs support, free and confidential help is available "
    "around the clock from the national helpline listed on our resources page.",
    "Licensing and reprint requests should be sent to the syndication department, which "
    "responds to inquiries from partner publications within two business days.",
]

# A syndicating paper's own short paragraph: a local angle or an editor's note.
ADDED_PARAGRAPHS = [
    "Local officials in Riverton said they were following the developments closely and "
    "would brief residents at the next town hall meeting on Tuesday evening.",
    "Editor's note: this report is part of our continuing coverage and will be updated "
    "as more information becomes available from the authorities involved.",
    "Readers in the county can find a list of community resources and upcoming public "
    "meetings related to this story on our local news page.",
    "The Harbour Post asked three residents for their reaction. Two said they had not "
    "heard about the announcement, and one said it would not change her plans.",
]

# Headline vocabulary for rewrites: a syndicating desk writes its own headline.
_HEADLINE_WORDS = [
    "update", "report", "officials", "say", "new", "plan", "warns", "after", "amid", "over",
    "faces", "latest", "why", "what", "inside", "how", "debate", "move", "review", "decision",
    "early", "hopes", "concerns", "rises", "falls", "week",
]


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _paragraphs(body: str) -> list[str]:
    return [p.strip() for p in body.split("\n\n") if p.strip()]


def _join(paragraphs: list[str]) -> str:
    return "\n\n".join(p for p in paragraphs if p)


def _headline(body: str, rng: random.Random) -> str:
    first = _words(_paragraphs(body)[0])[:18]
    take = sorted(rng.sample(range(len(first)), min(len(first), rng.randint(6, 10))))
    return " ".join(first[i].capitalize() for i in take)


def _rewrite_headline(headline: str, body: str, rng: random.Random) -> str:
    vocabulary = [w for w in _words(body) if len(w) > 3][:200] or _HEADLINE_WORDS
    size = rng.randint(6, 11)
    picked = rng.sample(vocabulary, min(size - 3, len(vocabulary)))
    picked += rng.sample(_HEADLINE_WORDS, 3)
    rng.shuffle(picked)
    return " ".join(w.capitalize() for w in picked)


def _boilerplate(rng: random.Random, lo: int, hi: int, avoid: set[int] | None = None) -> tuple[
    str, set[int]
]:
    """Blocks of boilerplate totalling between lo and hi words."""
    avoid = avoid or set()
    order = [i for i in rng.sample(range(len(BOILERPLATE)), len(BOILERPLATE)) if i not in avoid]
    target = rng.randint(lo, hi)
    chosen: list[int] = []
    total = 0
    for i in order:
        size = len(_words(BOILERPLATE[i]))
        if total + size <= hi:
            chosen.append(i)
            total += size
        if total >= target:
            break
    return "\n\n".join(BOILERPLATE[i] for i in chosen), set(chosen)


def _shared_boilerplate_case(kind: str, first: str, second: str, boiler: str) -> Case:
    """A hard negative, or a stress case when the boilerplate outweighs a story."""
    if len(_words(boiler)) > min(len(_words(first)), len(_words(second))):
        return Case("boilerplate-dominated", "stress", "unique", first, second)
    return Case(kind, "hard-negative", "unique", first, second)


def _edit_words(body: str, rate: float, vocabulary: list[str], rng: random.Random) -> str:
    """Substitute, delete or insert words at ``rate`` per word, keeping paragraphs;
    at least one word changes, so an edited copy never equals its original."""
    for _ in range(100):
        edited = _edit_once(body, rate, vocabulary, rng)
        if _words(edited) != _words(body):
            return edited
    return body + " " + rng.choice(vocabulary)


def _edit_once(body: str, rate: float, vocabulary: list[str], rng: random.Random) -> str:
    out_paragraphs = []
    for para in _paragraphs(body):
        out: list[str] = []
        for token in para.split(" "):
            if rng.random() >= rate:
                out.append(token)
                continue
            op = rng.randrange(3)
            if op == 0:
                out.append(rng.choice(vocabulary))
            elif op == 2:
                out.extend([token, rng.choice(vocabulary)])
        out_paragraphs.append(" ".join(out))
    return _join(out_paragraphs)


def _truncate(body: str, keep: float) -> str:
    """The first ``keep`` of the words, cut mid-paragraph, as truncated feeds do."""
    paragraphs = _paragraphs(body)
    total = sum(len(p.split(" ")) for p in paragraphs)
    budget = max(1, math.floor(total * keep))
    out: list[str] = []
    for para in paragraphs:
        tokens = para.split(" ")
        if len(tokens) >= budget:
            out.append(" ".join(tokens[:budget]) + " ...")
            break
        out.append(para)
        budget -= len(tokens)
    return _join(out)


def _drop_paragraph(body: str, rng: random.Random) -> str:
    """Drop a paragraph other than the first; with fewer than three, the last
    sentence of the last paragraph."""
    paragraphs = _paragraphs(body)
    if len(paragraphs) >= 3:
        del paragraphs[rng.randrange(1, len(paragraphs))]
        return _join(paragraphs)
    sentences = re.split(r"(?<=[.!?])\s+", paragraphs[-1])
    if len(sentences) > 1:
        paragraphs[-1] = " ".join(sentences[:-1])
    elif len(paragraphs) > 1:
        paragraphs.pop()
    return _join(paragraphs)


def _add_paragraph(body: str, extra: str, rng: random.Random) -> str:
    paragraphs = _paragraphs(body)
    paragraphs.insert(rng.randint(1, len(paragraphs)), extra)
    return _join(paragraphs)


def _with_headline(headline: str, body: str) -> str:
    return _join([headline, body])


def _wrap(body: str, boiler: str, rng: random.Random) -> str:
    """Boilerplate above or below the story, as a page template places it."""
    return _join([boiler, body]) if rng.random() < 0.3 else _join([body, boiler])


# --- same-topic neighbours ----------------------------------------------------------


def _nearest_topics(bodies: list[str]) -> list[int]:
    """For each body, the other body closest in TF-IDF cosine over words: the
    corpus's nearest same-topic story."""
    docs = [Counter(w.lower() for w in _words(b) if len(w) > 2) for b in bodies]
    df: Counter[str] = Counter()
    for doc in docs:
        df.update(doc.keys())
    n = len(docs)
    vectors = []
    for doc in docs:
        vec = {w: (1 + math.log(c)) * math.log(n / df[w]) for w, c in doc.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        vectors.append({w: v / norm for w, v in vec.items()})
    nearest = []
    for i, vi in enumerate(vectors):
        best, best_j = -1.0, (i + 1) % n
        for j, vj in enumerate(vectors):
            if i == j:
                continue
            small, large = (vi, vj) if len(vi) < len(vj) else (vj, vi)
            score = sum(v * large.get(w, 0.0) for w, v in small.items())
            if score > best:
                best, best_j = score, j
        nearest.append(best_j)
    return nearest


# --- templated short briefs (synthetic) -----------------------------------------------

_TOWNS = ["Riverton", "Lower Valley", "Port Almery", "Northgate", "Eastbrook", "Millford",
          "Ashby", "Cole Harbour", "Westfield", "Brinton"]
_TEAMS = ["Riverton Rovers", "Almery United", "Northgate City", "Eastbrook Athletic",
          "Millford Town", "Ashby Wanderers"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_COMPANIES = ["Acme Freight", "Northwind Foods", "Bluewater Energy", "Kestrel Systems",
              "Harbour Bank", "Summit Retail"]
_ROADS = ["the A12", "Station Road", "the ring road", "Mill Lane", "the coast highway"]
_NAMES = ["Ana Ruiz", "Tom Okafor", "Lena Fischer", "Raj Patel", "Mia Novak", "Sam Lee"]


def _brief(template: int, rng: random.Random) -> str:
    town, day, name = rng.choice(_TOWNS), rng.choice(_DAYS), rng.choice(_NAMES)
    if template == 0:
        home, away = rng.sample(_TEAMS, 2)
        return (f"{home} beat {away} {rng.randint(1, 5)}-{rng.randint(0, 3)} on {day}. "
                f"{name} scored twice for the hosts, who move up to "
                f"{rng.choice(['second', 'third', 'fourth', 'fifth'])} in the table.")
    if template == 1:
        return (f"Police in {town} are appealing for witnesses after a crash on "
                f"{rng.choice(_ROADS)} on {day} evening. A {rng.randint(18, 80)}-year-old "
                f"driver was taken to hospital. Anyone with information should call the "
                f"{town} station.")
    if template == 2:
        verb = rng.choice(["rose", "fell", "jumped", "slipped"])
        return (f"Shares in {rng.choice(_COMPANIES)} {verb} {rng.randint(1, 12)} per cent on "
                f"{day} after the company reported {rng.choice(['first', 'second', 'third'])}"
                f"-quarter results and said chief executive {name} would step down.")
    if template == 3:
        return (f"The {town} council approved a {rng.randint(2, 90)} million budget for "
                f"{rng.choice(['road repairs', 'school buildings', 'flood defences', 'libraries'])}"
                f" at its meeting on {day}. Councillor {name} voted against the plan.")
    if template == 4:
        return (f"A {rng.choice(['fire', 'power cut', 'water main burst', 'gas leak'])} closed "
                f"{rng.choice(_ROADS)} in {town} for several hours on {day}. Residents were "
                f"told to avoid the area while crews worked to make it safe.")
    return (f"{town} weather for {day}: {rng.choice(['sunny', 'cloudy', 'showers', 'windy'])}, "
            f"high of {rng.randint(5, 32)} degrees, low of {rng.randint(-5, 15)}.")


_PLACEHOLDERS = ["Developing story.", "Photo gallery", "Video", "Updates to follow.",
                 "Live coverage", "More to come."]


# --- the set ----------------------------------------------------------------------------


def load_bodies(corpus: Path) -> list[str]:
    truth = json.loads((corpus / "extraction-dev" / "ground-truth.json").read_text())
    bodies = []
    for key in sorted(truth):
        body = _join(_paragraphs(str(truth[key].get("articleBody") or "")))
        if len(_words(body)) >= 50:
            bodies.append(body)
    return bodies


def build_cases(bodies: list[str], seed: int = 20240601) -> list[Case]:
    rng = random.Random(seed)
    vocabulary = sorted({w.lower() for b in bodies for w in _words(b) if len(w) > 2})
    headlines = [_headline(b, rng) for b in bodies]
    originals = [_with_headline(h, b) for h, b in zip(headlines, bodies, strict=True)]
    cases: list[Case] = []

    def positive(kind: str, first: str, second: str) -> None:
        cases.append(Case(kind, "positive", "duplicate", first, second, story))

    for i, body in enumerate(bodies):
        story = i
        original = originals[i]
        other = bodies[(i + 1 + rng.randrange(len(bodies) - 1)) % len(bodies)]
        positive("headline-rewrite",
                 original, _with_headline(_rewrite_headline(headlines[i], body, rng), body))
        positive("paragraph-drop", original,
                 _with_headline(headlines[i], _drop_paragraph(body, rng)))
        extra = rng.choice([*ADDED_PARAGRAPHS, _paragraphs(other)[0]])
        positive("paragraph-add", original,
                 _with_headline(headlines[i], _add_paragraph(body, extra, rng)))
        boiler_a, used = _boilerplate(rng, 15, 60)
        boiler_b, _ = _boilerplate(rng, 15, 60, avoid=used)
        positive("boilerplate-swap", _wrap(original, boiler_a, rng), _wrap(original, boiler_b, rng))
        for rate in (0.01, 0.02, 0.03, 0.05):
            positive(f"edits-{round(rate * 100)}%", original,
                     _edit_words(original, rate, vocabulary, rng))
        for keep in (0.5, 0.7, 0.85):
            positive(f"truncated-{round(keep * 100)}%", original, _truncate(original, keep))
        # A syndicated copy: its own headline and boilerplate, light copy-editing,
        # the last paragraph cut.
        syndicated = _edit_words(_drop_paragraph(body, rng), 0.02, vocabulary, rng)
        syndicated = _with_headline(_rewrite_headline(headlines[i], body, rng), syndicated)
        boiler, _ = _boilerplate(rng, 15, 60)
        positive("syndicated-combined", original, _wrap(syndicated, boiler, rng))

        # Revisions at the same URL: copy-edits, an update paragraph, a correction.
        cases.append(Case("revision-edits", "revision", "revision", original,
                          _edit_words(original, rng.choice([0.01, 0.03]), vocabulary, rng), i))
        cases.append(Case("revision-update", "revision", "revision", original,
                          _add_paragraph(original, rng.choice(ADDED_PARAGRAPHS), rng), i))
        cases.append(Case("revision-correction", "revision", "revision", original,
                          _join([original, BOILERPLATE[7]]), i))

    # Hard negatives.
    nearest = _nearest_topics(bodies)
    for i, j in enumerate(nearest):
        cases.append(Case("same-topic", "hard-negative", "unique", originals[i], originals[j]))
        boiler, _ = _boilerplate(rng, 30, 70)
        cases.append(_shared_boilerplate_case(
            "same-topic-one-source", originals[i], originals[j], boiler))
        last = cases[-1]
        cases[-1] = Case(last.kind, last.group, last.expect,
                         _wrap(originals[i], boiler, rng), _wrap(originals[j], boiler, rng))
    for i in range(len(bodies)):
        j = (i + 1 + rng.randrange(len(bodies) - 1)) % len(bodies)
        boiler, _ = _boilerplate(rng, 80, 150)
        case = _shared_boilerplate_case("shared-long-boilerplate", originals[i], originals[j],
                                        boiler)
        cases.append(Case(case.kind, case.group, case.expect,
                          _join([originals[i], boiler]), _join([originals[j], boiler])))
    for _ in range(300):
        template = rng.randrange(6)
        a, b = _brief(template, rng), _brief(template, rng)
        if a != b:
            cases.append(Case("short-brief", "hard-negative", "unique", a, b))
    for _ in range(40):
        a, b = rng.sample(_PLACEHOLDERS, 2)
        cases.append(Case("near-empty", "hard-negative", "unique", a, b))
        same = rng.choice(_PLACEHOLDERS)
        # Two different stories whose extraction left the same placeholder.
        cases.append(Case("same-placeholder", "hard-negative", "unique", same, same))

    # Easy negatives.
    for _ in range(5 * len(bodies)):
        i, j = rng.sample(range(len(bodies)), 2)
        cases.append(Case("unrelated", "negative", "unique", originals[i], originals[j]))
    return cases
