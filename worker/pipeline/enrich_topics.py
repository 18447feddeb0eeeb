"""Top-level news topics (IPTC Media Topics, level 1) by weighted lexicon.

No topic model that runs without PyTorch ships its weights inside a PyPI
package here, so this is a transparent lexicon classifier instead: each IPTC
level-1 topic has the vocabulary of its narrower IPTC topics and of the news
desks that cover it (``enrich_topics_lexicon``). An article's score for a
topic is the weight of its words (sub-linear in repetition, the headline
counting extra) relative to the other topics. It is English-only: other
languages get no topics rather than English rules. ``bench/enrich.py``
measures it against the section each dev page's URL names.
"""

from __future__ import annotations

import math
import re
from functools import cache

from worker.pipeline.enrich_topics_lexicon import LEXICON
from worker.pipeline.records import Topic

_WORD = re.compile(r"[a-z][a-z'\u2019-]*[a-z]|[a-z]")
# Headline words say what the story is about more than body words do.
_TITLE_WEIGHT = 3.0
# A topic is reported when it holds at least this share of the evidence.
_MIN_SHARE = 0.15
# Below this much evidence the article is too short or too far off every
# lexicon to label at all.
_MIN_EVIDENCE = 2.0


@cache
def _terms() -> tuple[
    dict[str, list[tuple[str, float]]], dict[tuple[str, str], list[tuple[str, float]]]
]:
    unigrams: dict[str, list[tuple[str, float]]] = {}
    bigrams: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for topic, entries in LEXICON.items():
        for weight, terms in entries:
            for term in terms.split(","):
                term = term.strip()
                if not term:
                    continue
                parts = term.split()
                if len(parts) == 1:
                    unigrams.setdefault(parts[0], []).append((topic, weight))
                else:
                    bigrams.setdefault((parts[0], parts[1]), []).append((topic, weight))
    return unigrams, bigrams


def _normal(word: str) -> str:
    word = word.replace("\u2019", "'")
    if word.endswith("'s"):
        word = word[:-2]
    return word


def _evidence(text: str) -> dict[str, float]:
    unigrams, bigrams = _terms()
    words = [_normal(w) for w in _WORD.findall(text.lower())]
    hits: dict[tuple[str, str], float] = {}
    for i, word in enumerate(words):
        entry = unigrams.get(word)
        if entry is None and word.endswith("s"):
            entry = unigrams.get(word[:-1])
        if entry is not None:
            for topic, weight in entry:
                hits[(topic, word)] = hits.get((topic, word), 0.0) + weight
        if i + 1 < len(words):
            pair = bigrams.get((word, words[i + 1]))
            if pair is None and words[i + 1].endswith("s"):
                pair = bigrams.get((word, words[i + 1][:-1]))
            if pair is not None:
                for topic, weight in pair:
                    term = (topic, word + " " + words[i + 1])
                    hits[term] = hits.get(term, 0.0) + weight
    evidence: dict[str, float] = {}
    for (topic, _term), weight in hits.items():
        # Repeating one word is weak evidence; many different words are strong.
        evidence[topic] = evidence.get(topic, 0.0) + math.log1p(weight)
    return evidence


def find_topics(body: str, title: str | None, language: str | None, limit: int = 3) -> list[Topic]:
    if language != "en" or limit <= 0:
        return []
    evidence = _evidence(body)
    if title:
        for topic, value in _evidence(title).items():
            evidence[topic] = evidence.get(topic, 0.0) + _TITLE_WEIGHT * value
    total = sum(evidence.values())
    if total < _MIN_EVIDENCE:
        return []
    ranked = sorted(evidence.items(), key=lambda kv: -kv[1])
    out = [
        Topic(label=topic, score=round(value / total, 4))
        for topic, value in ranked[:limit]
        if value / total >= _MIN_SHARE
    ]
    return out or [Topic(label=ranked[0][0], score=round(ranked[0][1] / total, 4))]
