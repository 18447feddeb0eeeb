"""The public article-extraction benchmark's body metric.

Per document: the multisets of 4-token shingles (``\\w+`` tokens, lower-cased)
of the prediction and of the ground truth give tp, fp and fn, normalised to
sum 1; precision and recall are macro-averaged over documents and F1 is
computed from the two averages.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = re.compile(r"\w+", re.UNICODE)
SHINGLE = 4


def shingles(text: str, n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    tokens = [t.lower() for t in _TOKEN.findall(text or "")]
    if 0 < len(tokens) < n:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


@dataclass(frozen=True, slots=True)
class DocScore:
    precision: float
    recall: float


def score_document(predicted: str, truth: str) -> DocScore:
    pred, gold = shingles(predicted), shingles(truth)
    tp = sum((pred & gold).values())
    fp = sum(pred.values()) - tp
    fn = sum(gold.values()) - tp
    if tp + fp + fn == 0:  # both empty: a perfect answer
        return DocScore(1.0, 1.0)
    # An empty prediction gets precision 0, not "undefined": emptiness is a miss.
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return DocScore(precision, recall)


@dataclass(frozen=True, slots=True)
class CorpusScore:
    precision: float
    recall: float
    f1: float
    documents: int


def score_corpus(scores: Iterable[DocScore]) -> CorpusScore:
    items = list(scores)
    if not items:
        return CorpusScore(0.0, 0.0, 0.0, 0)
    p = sum(s.precision for s in items) / len(items)
    r = sum(s.recall for s in items) / len(items)
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return CorpusScore(p, r, f1, len(items))
