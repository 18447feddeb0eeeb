"""The statistical NER model: loaded once per process, run in batches.

The only place that imports spaCy's pipeline machinery. Results come back as
plain tuples so the rest of the enrichment never touches spaCy objects (and
everything stays picklable for a process pool).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

# Only the NER component and the token-to-vector layer it listens to are run;
# the tagger, parser and lemmatizer would more than double the cost.
_UNUSED_COMPONENTS = (
    "tagger",
    "parser",
    "senter",
    "attribute_ruler",
    "lemmatizer",
    "morphologizer",
    "trainable_lemmatizer",
    "textcat",
    "textcat_multilabel",
)


@dataclass(frozen=True, slots=True)
class Span:
    """One entity the model found: character offsets into the text it was given."""

    start: int
    end: int
    label: str
    text: str


class ModelUnavailableError(RuntimeError):
    """The configured model package is not installed."""


@cache
def load_model(name: str) -> Any:
    """The spaCy pipeline ``name`` (an installed package), NER components only."""
    import spacy

    try:
        nlp = spacy.load(name, exclude=list(_UNUSED_COMPONENTS))
    except OSError as exc:
        raise ModelUnavailableError(f"spaCy model package {name!r} is not installed") from exc
    # The stage never feeds whole long bodies to the model (see enrich_entities),
    # but a lead or window is bounded anyway; this only guards misuse.
    nlp.max_length = 2_000_000
    return nlp


@cache
def model_language(name: str) -> str:
    return str(load_model(name).lang)


def run_ner(model: str, texts: Sequence[str], batch_size: int = 64) -> list[list[Span]]:
    """Entities of each text, in order. ``nlp.pipe`` batches the matrix work."""
    if not texts:
        return []
    nlp = load_model(model)
    out: list[list[Span]] = []
    for doc in nlp.pipe(texts, batch_size=batch_size):
        out.append([Span(e.start_char, e.end_char, e.label_, e.text) for e in doc.ents])
    return out
