"""worker.pipeline.records: the hand-written dict of an Enrichment is exactly
what dataclasses.asdict gives, so a field added to any of its parts and not to
``Enrichment.to_dict`` fails here."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from worker.pipeline.records import (
    CountryMention,
    Dateline,
    Enrichment,
    Entity,
    Keyword,
    Places,
    Quote,
    Topic,
)


def full(dateline: Dateline | None) -> Enrichment:
    return Enrichment(
        language="en", language_confidence=0.97, word_count=412, sentence_count=19,
        reading_time_minutes=1.8, summary="The ferry resumed service on Monday.",
        entities=[
            Entity("Maria Lopez", "person", "PERSON", 3, 120, 1.0, ["Maria Lopez", "Lopez"]),
            Entity("Harbour Authority", "organization", "ORG", 1, 40, 0.4, []),
        ],
        places=Places([CountryMention("NZ", 4), CountryMention("AU", 1)], dateline),
        keywords=[Keyword("ferry service", 0.61), Keyword("harbour", 0.22)],
        quotes=[Quote("We are back.", "Maria Lopez", 300), Quote("Finally.", None, 512)],
        topics=[Topic("economy, business and finance", 0.7)],
    )


@pytest.mark.parametrize("dateline", [Dateline("WELLINGTON", "NZ"), None])
def test_enrichment_to_dict_is_asdict(dateline: Dateline | None) -> None:
    enrichment = full(dateline)
    assert enrichment.to_dict() == asdict(enrichment)
    assert list(enrichment.to_dict()) == list(asdict(enrichment))  # field order too
    empty = Enrichment(None, 0.0, 0, 0, 0.0, "")
    assert empty.to_dict() == asdict(empty)


def test_enrichment_to_dict_copies_what_it_shares() -> None:
    enrichment = full(None)
    out = enrichment.to_dict()
    out["entities"][0]["aliases"].append("M. Lopez")
    assert enrichment.entities[0].aliases == ["Maria Lopez", "Lopez"]
