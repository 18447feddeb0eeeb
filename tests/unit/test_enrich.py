"""enrich: language, counts, reading time and the lead summary."""

from __future__ import annotations

import pytest

from tests.factories import unique_article
from worker.pipeline.enrich import (
    WORDS_PER_MINUTE,
    EnrichOptions,
    detect_language,
    enrich_article,
)
from worker.pipeline.records import EnrichedArticle, UniqueArticle
from worker.pipeline.text import normalise_line, paragraphs_to_body

ENGLISH = (
    "The town council approved a new budget on Tuesday evening. Residents will see more "
    "buses on weekend routes, and the library will stay open later during the winter months."
)
GERMAN = (
    "Der Stadtrat hat am Dienstagabend einen neuen Haushalt beschlossen. Die Bewohner "
    "bekommen mehr Busse am Wochenende, und die Bibliothek bleibt im Winter l\u00e4nger "
    "ge\u00f6ffnet."
)
FRENCH = (
    "Le conseil municipal a adopt\u00e9 mardi soir un nouveau budget. Les habitants auront "
    "davantage de bus le week-end, et la biblioth\u00e8que restera ouverte plus tard pendant "
    "les mois d'hiver."
)


def unique_of(text: str, url: str | None = "https://valley-times.example/a") -> UniqueArticle:
    """The article a headline line and body lines make, built directly: these
    tests are about enrichment, not about what the cleaner keeps."""
    headline, *lines = text.split("\n")
    body = paragraphs_to_body([normalise_line(line) for line in lines])
    return unique_article(body, title=headline, url=url)


@pytest.mark.parametrize(
    ("text", "code"), [(ENGLISH, "en"), (GERMAN, "de"), (FRENCH, "fr")], ids=["en", "de", "fr"]
)
def test_detect_language(text: str, code: str) -> None:
    language, confidence = detect_language(text)
    assert language == code
    assert 0.9 <= confidence <= 1.0


@pytest.mark.parametrize("text", ["", "   ", "!!! ??? ...", "\u2014 \u2014"])
def test_no_words_means_no_language(text: str) -> None:
    assert detect_language(text) == (None, 0.0)


def test_low_confidence_is_reported_as_unknown() -> None:
    language, confidence = detect_language("12345 67890 2024")
    assert confidence < 0.5
    assert language is None
    # The same text passes when the caller accepts any confidence.
    assert detect_language("12345 67890 2024", min_confidence=0.0)[0] is not None


@pytest.mark.parametrize(
    ("text", "code"), [(ENGLISH, "en"), (GERMAN, "de"), (FRENCH, "fr")], ids=["en", "de", "fr"]
)
def test_enriched_article_carries_the_language(text: str, code: str) -> None:
    enriched = enrich_article(unique_of(f"Headline\n{text}"))
    assert enriched.enrichment.language == code
    assert enriched.to_dict()["language"] == code


def test_counts_and_reading_time() -> None:
    # Distinct paragraphs (a cleaner drops a line a page repeats): 32 words and
    # 2 sentences each.
    body_lines = [f"In ward {i}: {ENGLISH}" for i in range(20)]
    enriched = enrich_article(unique_of("Headline\n" + "\n".join(body_lines)))
    e = enriched.enrichment
    assert e.word_count == 32 * 20
    assert e.sentence_count == 2 * 20
    assert e.reading_time_minutes == round(32 * 20 / WORDS_PER_MINUTE, 2)
    assert 2.0 < e.reading_time_minutes < 3.0


def test_an_unterminated_paragraph_counts_as_a_sentence() -> None:
    enriched = enrich_article(unique_of("Headline\nA subheading\nOne sentence. Two sentences."))
    assert enriched.enrichment.sentence_count == 3


def test_summary_is_the_lead_within_the_budget() -> None:
    text = "Headline\n" + "\n".join([ENGLISH, GERMAN, FRENCH])
    enriched = enrich_article(unique_of(text), EnrichOptions(summary_chars=120))
    summary = enriched.enrichment.summary
    assert summary == "The town council approved a new budget on Tuesday evening."
    assert len(summary) <= 120


def test_default_summary_budget_is_300_characters() -> None:
    text = "Headline\n" + "\n".join(f"{ENGLISH} Item {i} closes it." for i in range(10))
    summary = enrich_article(unique_of(text)).enrichment.summary
    assert 200 < len(summary) <= 300
    assert summary.endswith(".")
    assert ENGLISH.startswith(summary[: len(ENGLISH) // 2])


def test_short_body_is_its_own_summary() -> None:
    enriched = enrich_article(unique_of("Headline\nShort brief.\nSecond line."))
    assert enriched.enrichment.summary == "Short brief. Second line."


def test_enrichment_keeps_the_unique_article() -> None:
    u = unique_of(f"Headline\n{ENGLISH}")
    revised = UniqueArticle(u.article, revision=2, supersedes="0" * 32)
    enriched = enrich_article(revised)
    assert isinstance(enriched, EnrichedArticle)
    assert enriched.article_id == u.article.article_id
    d = enriched.to_dict()
    assert (d["revision"], d["supersedes"]) == (2, "0" * 32)
    assert d["body"] == u.article.body
    assert "language_hint" not in d
