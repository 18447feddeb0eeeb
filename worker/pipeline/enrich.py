"""UniqueArticle -> EnrichedArticle: language, counts, reading time, lead summary."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from worker.pipeline.records import EnrichedArticle, Enrichment, UniqueArticle
from worker.pipeline.text import count_sentences, lead, words

# Adult silent reading speed for non-fiction (Brysbaert 2019: ~238 wpm).
WORDS_PER_MINUTE = 238
# langid's character n-gram model is reliable on a few hundred characters;
# more text costs time without changing the answer.
_LANGUAGE_SAMPLE_CHARS = 2000


@dataclass(frozen=True, slots=True)
class EnrichOptions:
    summary_chars: int = 300
    # Below this confidence the detected language is reported as None (unknown).
    min_language_confidence: float = 0.5


@cache
def _language_identifier() -> Any:
    # The model ships inside the py3langid wheel; loading it once per process is
    # the only state this stage has, and it is read-only.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def warm_up() -> None:
    """Load the language model now, so the first article does not pay for it."""
    _language_identifier()


def detect_language(text: str, min_confidence: float = 0.5) -> tuple[str | None, float]:
    sample = text[:_LANGUAGE_SAMPLE_CHARS]
    if not words(sample):
        return None, 0.0
    code, confidence = _language_identifier().classify(sample)
    confidence = round(float(confidence), 4)
    return (str(code) if confidence >= min_confidence else None), confidence


def enrich_article(unique: UniqueArticle, options: EnrichOptions | None = None) -> EnrichedArticle:
    options = options or EnrichOptions()
    body = unique.article.body
    n_words = unique.article.fingerprints.body_words
    language, confidence = detect_language(body, options.min_language_confidence)
    enrichment = Enrichment(
        language=language,
        language_confidence=confidence,
        word_count=n_words,
        sentence_count=count_sentences(body),
        reading_time_minutes=round(n_words / WORDS_PER_MINUTE, 2),
        summary=lead(body, options.summary_chars),
    )
    return EnrichedArticle(unique=unique, enrichment=enrichment)
