"""enrich on the real seed article: what a reader would list must come out, typed and merged."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import unique_article
from worker.pipeline.enrich import enrich_article
from worker.pipeline.records import EnrichedArticle, UniqueArticle
from worker.pipeline.text import normalise_line, paragraphs_to_body
from worker.schemas import validator


@pytest.fixture(scope="module")
def seed() -> EnrichedArticle:
    from tests.unit.conftest import SHARED

    files = sorted((SHARED / "corpus" / "seed").glob("*.txt"))
    if not files:
        pytest.skip(f"seed article not found under {SHARED / 'corpus' / 'seed'}")
    return enrich_article(_article(files[0]))


def _article(path: Path) -> UniqueArticle:
    # The seed is raw scraped text; the body is what lies between the headline
    # and the "Tags ..." line (enrichment is tested here, not the cleaner).
    lines = [normalise_line(line) for line in path.read_text(encoding="utf-8").splitlines()]
    headline, rest = lines[0], lines[1:]
    end = next(i for i, line in enumerate(rest) if line.startswith("Tags "))
    body = paragraphs_to_body(rest[:end])
    return unique_article(body, title=headline, n=5)


def _by_name(seed: EnrichedArticle) -> dict[str, tuple[str, list[str]]]:
    return {e.name: (e.type, e.aliases) for e in seed.enrichment.entities}


def test_the_seed_enrichment_validates(seed: EnrichedArticle) -> None:
    assert validator("enriched")(seed.to_dict()) is None
    assert seed.enrichment.language == "en"


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("Kenneth McKenzie", "McKenzie"),
        ("Mustafa al-Kadhimi", "al-Kadhimi"),
        ("Qassem Soleimani", "Soleimani"),
    ],
)
def test_people_are_merged_under_their_full_names(
    seed: EnrichedArticle, name: str, short: str
) -> None:
    entities = _by_name(seed)
    kind, aliases = entities[name]
    assert kind == "person"
    assert short in aliases
    assert short not in entities  # no separate entity for the short form


def test_organisations_and_places(seed: EnrichedArticle) -> None:
    entities = _by_name(seed)
    for name in ("ISIS", "Associated Press", "U.S. Central Command"):
        assert entities[name][0] == "organization", name
    for name in ("Iraq", "Iran", "Syria", "Baghdad"):
        assert entities[name][0] == "location", name
    # "U.S." and "United States" are one place.
    kind, aliases = entities["United States"]
    assert kind == "location"
    assert {"U.S.", "United States"} <= set(aliases)


def test_the_story_is_about_iraq_and_the_us(seed: EnrichedArticle) -> None:
    countries = [c.code for c in seed.enrichment.places.countries]
    assert set(countries[:2]) == {"IQ", "US"}
    assert "IR" in countries
    top = {e.name for e in seed.enrichment.entities[:4]}
    assert {"Iraq", "United States", "Kenneth McKenzie"} <= top


def test_every_quote_is_mckenzies(seed: EnrichedArticle) -> None:
    quotes = seed.enrichment.quotes
    assert len(quotes) >= 5
    assert all(q.speaker == "Kenneth McKenzie" for q in quotes), quotes
    texts = " ".join(q.text for q in quotes)
    assert "I believe that going forward" in texts
    assert "negotiating a land mine now" in texts


def test_topic_and_keywords(seed: EnrichedArticle) -> None:
    assert seed.enrichment.topics[0].label == "conflict, war and peace"
    phrases = [k.phrase for k in seed.enrichment.keywords]
    assert "Iraq" in phrases
    assert any("troops" in p for p in phrases)
