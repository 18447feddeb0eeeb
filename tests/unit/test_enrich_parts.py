"""enrich: entities, places, keywords, quotes and topics on articles written for the tests."""

from __future__ import annotations

import pickle
import time

import pytest

from tests.factories import unique_article
from worker.pipeline.enrich import EnrichOptions, enrich_article, enrich_batch
from worker.pipeline.records import (
    EnrichedArticle,
    Entity,
    UniqueArticle,
)
from worker.pipeline.text import words
from worker.schemas import validator


def unique(body: str, title: str | None = "Headline", n: int = 0) -> UniqueArticle:
    return unique_article(
        body, title=title, url=f"https://valley-times.example/{n}",
        source="valley-times.example", n=n,
    )


def enrich(body: str, title: str | None = "Headline") -> EnrichedArticle:
    enriched = enrich_article(unique(body, title))
    problem = validator("enriched")(enriched.to_dict())
    assert problem is None, problem
    return enriched


def entity(enriched: EnrichedArticle, name: str) -> Entity:
    found = [e for e in enriched.enrichment.entities if e.name == name]
    assert found, f"{name!r} not in {[e.name for e in enriched.enrichment.entities]}"
    return found[0]


HARBOUR = (
    "Mayor Angela Ferreira said on Monday that the city of Boston will rebuild the harbour "
    "wall before winter. The Massachusetts Port Authority will pay for half of the work.\n\n"
    "Ferreira told reporters the repairs would start in March. Engineers from Siemens "
    "inspected the wall last week.\n\n"
    "\u201cWe cannot wait for another storm to do this for us,\u201d Ferreira said. "
    "\u201cThe wall has held for a century.\u201d\n\n"
    "\u201cIt will hold for another one,\u201d she added.\n\n"
    "Critics say the plan is late. \u201cThe city has known for years,\u201d said "
    "Thomas Oyelaran, a harbour pilot.\n\n"
    "Later in the day Oyelaran met officials from the Massachusetts Port Authority, and "
    "Siemens said its engineers would return. Oyelaran said he expected more delays."
)


# --- entities ------------------------------------------------------------------------


def test_people_organisations_and_places_come_out_typed() -> None:
    e = enrich(HARBOUR)
    assert entity(e, "Angela Ferreira").type == "person"
    assert entity(e, "Thomas Oyelaran").type == "person"
    assert entity(e, "Massachusetts Port Authority").type == "organization"
    assert entity(e, "Boston").type == "location"


def test_surnames_merge_into_the_full_name() -> None:
    e = enrich(HARBOUR)
    ferreira = entity(e, "Angela Ferreira")
    assert "Ferreira" in ferreira.aliases
    assert ferreira.mentions == 3
    assert not [x for x in e.enrichment.entities if x.name == "Ferreira"]
    oyelaran = entity(e, "Thomas Oyelaran")
    assert oyelaran.mentions == 3


def test_first_offset_and_salience() -> None:
    e = enrich(HARBOUR)
    ferreira = entity(e, "Angela Ferreira")
    assert HARBOUR[ferreira.first_offset :].startswith("Angela Ferreira")
    saliences = [x.salience for x in e.enrichment.entities]
    assert max(saliences) == 1.0
    assert all(0 < s <= 1 for s in saliences)
    assert saliences == sorted(saliences, reverse=True)
    assert e.enrichment.entities[0].name == "Angela Ferreira"


def test_a_name_in_the_headline_is_more_salient() -> None:
    body = (
        "Officials from Oslo and Bergen met on Tuesday. Officials from Oslo and Bergen "
        "agreed to share the cost of the new railway line between the two cities."
    )
    plain = enrich(body, title="Railway deal agreed")
    headline = enrich(body, title="Bergen wins railway deal")
    assert entity(plain, "Oslo").salience >= entity(plain, "Bergen").salience
    assert entity(headline, "Bergen").salience > entity(headline, "Oslo").salience


def test_later_mentions_beyond_the_lead_are_found() -> None:
    filler = "The committee discussed the budget at length and adjourned without a vote. " * 30
    body = (
        "The council met on Tuesday to discuss the budget.\n\n"
        + filler
        + "\n\nLater, Priya Raman of the Harbour Trust said the budget was too small. "
        "Raman asked the council to reconsider. The Harbour Trust will publish its own plan, "
        "Raman said."
    )
    e = enrich(body)
    raman = entity(e, "Priya Raman")
    assert raman.type == "person"
    assert raman.mentions == 3
    assert body.index("Priya Raman") == raman.first_offset


def test_an_article_without_entities() -> None:
    body = (
        "it rained all day and the river rose. nobody was hurt. the water went down by "
        "evening and the roads opened again.\n\nmore rain is expected later this week."
    )
    e = enrich(body)
    assert e.enrichment.entities == []
    assert e.enrichment.places.countries == []
    assert all(q.speaker is None for q in e.enrichment.quotes)


def test_a_huge_list_of_names_stays_bounded_and_fast() -> None:
    first = ["Anna", "Boris", "Chen", "Dara", "Emeka", "Farah", "Goran", "Hana", "Ivan", "Jun"]
    last = ["Abbott", "Bakker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad"]
    names = [f"{f} {surname}" for surname in last for f in first] * 60  # 4,800 names
    intro = (
        "The open letter asks the government to reconsider the closure of the coastal "
        "railway, which the signatories say would leave the towns along the line without "
        "a daily service to the city. "
    ) * 8
    body = intro + "\n\nThe signatories were " + ", ".join(names) + "."
    options = EnrichOptions(max_entities=50)
    started = time.perf_counter()
    e = enrich_article(unique(body), options)
    assert time.perf_counter() - started < 30  # a sanity bound, not a benchmark
    assert e.enrichment.language == "en"
    assert 0 < len(e.enrichment.entities) <= 50
    assert validator("enriched")(e.to_dict()) is None


def test_a_100k_word_body() -> None:
    para = (
        "Jonas Berg of the Nordic Rail Authority said the new line would open in Oslo next "
        "year. The authority has spent two years on the plan and expects more passengers."
    )
    body = "\n\n".join([para] * 3400)  # 29 words a paragraph: about 100,000 words
    e = enrich(body)
    assert e.enrichment.word_count == len(words(body)) > 95_000
    berg = entity(e, "Jonas Berg")
    assert berg.mentions == 3400
    assert e.enrichment.keywords
    assert e.enrichment.places.countries[0].code == "NO"


# --- languages and scripts ---------------------------------------------------------------

GERMAN = (
    "Bundeskanzler Olaf Scholz hat am Dienstag in Berlin mit Vertretern der Industrie "
    "\u00fcber die Energiepreise gesprochen. Die Regierung will die Stromsteuer senken.\n\n"
    "Scholz sagte, die Entlastung komme noch in diesem Jahr. Die Opposition kritisierte "
    "die Pl\u00e4ne der Regierung als zu sp\u00e4t."
)
FRENCH = (
    "Le Premier ministre a annonc\u00e9 mardi \u00e0 Paris un plan pour les transports "
    "publics. Le gouvernement veut doubler le nombre de trains r\u00e9gionaux.\n\n"
    "\u00ab Nous devons agir maintenant pour le climat \u00bb, a d\u00e9clar\u00e9 le ministre "
    "devant les d\u00e9put\u00e9s."
)
ARABIC = (
    "\u0642\u0627\u0644 \u0631\u0626\u064a\u0633 \u0627\u0644\u0648\u0632\u0631\u0627\u0621 "
    "\u0625\u0646 \u0627\u0644\u062d\u0643\u0648\u0645\u0629 \u0633\u062a\u0628\u0646\u064a "
    "\u0645\u062f\u0627\u0631\u0633 \u062c\u062f\u064a\u062f\u0629 \u0641\u064a "
    "\u0628\u063a\u062f\u0627\u062f \u0647\u0630\u0627 \u0627\u0644\u0639\u0627\u0645. "
    "\u0648\u0623\u0636\u0627\u0641 \u0623\u0646 \u0627\u0644\u0645\u0634\u0631\u0648\u0639 "
    "\u0633\u064a\u0628\u062f\u0623 \u0641\u064a \u0627\u0644\u0631\u0628\u064a\u0639."
)
HEBREW = (
    "\u05e8\u05d0\u05e9 \u05d4\u05e2\u05d9\u05e8 \u05d0\u05de\u05e8 \u05db\u05d9 "
    "\u05d4\u05e2\u05d9\u05e8\u05d9\u05d9\u05d4 \u05ea\u05d1\u05e0\u05d4 \u05d2\u05df "
    "\u05e6\u05d9\u05d1\u05d5\u05e8\u05d9 \u05d7\u05d3\u05e9 \u05d1\u05de\u05e8\u05db\u05d6 "
    "\u05d4\u05e2\u05d9\u05e8 \u05d1\u05e9\u05e0\u05d4 \u05d4\u05d1\u05d0\u05d4."
)


SPANISH = (
    "El alcalde de Sevilla, Manuel Ortega, anunci\u00f3 el lunes un plan para ampliar el "
    "metro. La obra costar\u00e1 m\u00e1s de lo previsto, seg\u00fan el ayuntamiento.\n\n"
    "Ortega dijo que las obras empezar\u00e1n en primavera."
)
RUSSIAN = (
    "\u041c\u044d\u0440 \u041c\u043e\u0441\u043a\u0432\u044b \u0421\u0435\u0440"
    "\u0433\u0435\u0439 \u0418\u0432\u0430\u043d\u043e\u0432 \u0437\u0430\u044f"
    "\u0432\u0438\u043b, \u0447\u0442\u043e \u0433\u043e\u0440\u043e\u0434 "
    "\u043f\u043e\u0441\u0442\u0440\u043e\u0438\u0442 \u043d\u043e\u0432\u044b"
    "\u0435 \u0448\u043a\u043e\u043b\u044b. \u0418\u0432\u0430\u043d\u043e\u0432 "
    "\u0441\u043a\u0430\u0437\u0430\u043b, \u0447\u0442\u043e \u0440\u0430\u0431"
    "\u043e\u0442\u044b \u043d\u0430\u0447\u043d\u0443\u0442\u0441\u044f "
    "\u0432\u0435\u0441\u043d\u043e\u0439."
)
CHINESE = (
    "\u5e02\u653f\u5e9c\u5468\u4e00\u5ba3\u5e03\uff0c\u5c06\u5728\u660e\u5e74"
    "\u6269\u5efa\u5730\u94c1\u7ebf\u8def\u3002\u5e02\u957f\u8868\u793a\uff0c"
    "\u65b0\u7ebf\u8def\u5c06\u8fde\u63a5\u673a\u573a\u548c\u706b\u8f66\u7ad9"
    "\uff0c\u5de5\u7a0b\u9884\u8ba1\u4e24\u5e74\u5b8c\u6210\u3002"
)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (GERMAN, "de"),
        (FRENCH, "fr"),
        (SPANISH, "es"),
        (RUSSIAN, "ru"),
        (CHINESE, "zh"),
        (ARABIC, "ar"),
        (HEBREW, "he"),
    ],
    ids=["de", "fr", "es", "ru", "zh", "ar", "he"],
)
def test_no_english_ner_on_other_languages(body: str, code: str) -> None:
    e = enrich(body)
    assert e.enrichment.language == code
    # No NER model is configured for these languages: no entities (and so no
    # countries or speakers) rather than an English model's guesses.
    assert e.enrichment.entities == []
    assert e.enrichment.places.countries == []
    assert e.enrichment.topics == []
    assert e.enrichment.summary


def test_other_languages_get_keywords_with_their_own_stop_words() -> None:
    phrases = {k.phrase.lower() for k in enrich(GERMAN).enrichment.keywords}
    assert "regierung" in phrases
    assert not phrases & {"die", "der", "am", "in"}
    assert enrich(FRENCH).enrichment.keywords


def test_french_guillemets_are_quotes_without_an_english_speaker() -> None:
    [quote] = enrich(FRENCH).enrichment.quotes
    assert quote.text == "Nous devons agir maintenant pour le climat"
    assert quote.speaker is None


def test_a_language_with_a_configured_model_gets_it() -> None:
    # Only the model's own language: "en" mapped to the English model is the default.
    options = EnrichOptions(ner_models=())
    e = enrich_article(unique(HARBOUR), options)
    assert e.enrichment.language == "en"
    assert e.enrichment.entities == []


def test_emoji_and_right_to_left_text_inside_an_english_article() -> None:
    body = (
        "Fans cheered \U0001f389\U0001f389 as Maria Lopez crossed the line in Madrid \U0001f3c3"
        "\u200d\u2640\ufe0f.\n\n"
        "A banner read \u05e9\u05dc\u05d5\u05dd and \u0633\u0644\u0627\u0645 in the crowd. "
        "Lopez said \u201cthis is for everyone who ran with me \U0001f64f\u201d and waved.\n\n"
        "Lopez will race again in Valencia next month."
    )
    e = enrich(body)
    lopez = entity(e, "Maria Lopez")
    assert body[lopez.first_offset : lopez.first_offset + len("Maria Lopez")] == "Maria Lopez"
    assert lopez.mentions == 3
    [quote] = e.enrichment.quotes
    assert quote.speaker == "Maria Lopez"
    assert "\U0001f64f" in quote.text
    assert e.enrichment.places.countries[0].code == "ES"


def test_a_body_of_emoji_only() -> None:
    e = enrich("\U0001f389\U0001f389 \U0001f3c3\u200d\u2640\ufe0f \U0001f64f\n\n\u2764\ufe0f")
    assert e.enrichment.language is None
    assert e.enrichment.entities == []
    assert e.enrichment.keywords == []
    assert e.enrichment.topics == []


def test_an_english_article_quoting_right_to_left_names() -> None:
    # Hebrew and Arabic names inside English prose: no English label for them,
    # and the Latin-script names around them keep their offsets.
    body = (
        "The mayor of Haifa, \u05d9\u05d5\u05e1\u05d9 \u05db\u05d4\u05df, met "
        "Samir Haddad and \u0633\u0645\u064a\u0631 \u062d\u062f\u0627\u062f at the port. "
        "Haddad said the port would reopen.\n\n"
        + "The ships waited outside the harbour for the weather to change. " * 15
        + "\n\nLater Haddad thanked the Haifa Port Company."
    )
    e = enrich(body)
    haddad = entity(e, "Samir Haddad")
    assert haddad.type == "person"
    assert haddad.mentions == 3
    assert body[haddad.first_offset :].startswith("Samir Haddad")
    # Mentioned once, past the lead: found through its window.
    assert entity(e, "Haifa Port Company").type == "organization"
    assert entity(e, "Haifa").type == "location"
    assert e.enrichment.places.countries[0].code == "IL"


# --- places ---------------------------------------------------------------------------


def test_countries_from_locations_and_nationality_adjectives() -> None:
    body = (
        "BAGHDAD (AP) \u2014 Iraqi officials met French diplomats in Baghdad on Monday. "
        "Iraq and France agreed to expand trade, the Iraqi foreign ministry said.\n\n"
        "The United States welcomed the deal. Officials in Washington said the U.S. would "
        "send a delegation."
    )
    places = enrich(body).enrichment.places
    codes = [c.code for c in places.countries]
    assert codes[0] == "IQ"
    assert {"IQ", "FR", "US"} <= set(codes)
    assert places.dateline is not None
    assert (places.dateline.name, places.dateline.country) == ("Baghdad", "IQ")


def test_no_dateline_when_the_body_does_not_open_with_one() -> None:
    assert enrich(HARBOUR).enrichment.places.dateline is None


# --- quotes ---------------------------------------------------------------------------


def test_quotes_are_attributed_to_canonical_speakers() -> None:
    quotes = enrich(HARBOUR).enrichment.quotes
    by_text = {q.text: q.speaker for q in quotes}
    assert by_text["We cannot wait for another storm to do this for us,"] == "Angela Ferreira"
    # An unattributed quote in the same paragraph continues the speaker.
    assert by_text["The wall has held for a century."] == "Angela Ferreira"
    # "she added": the pronoun goes to the last person named before it.
    assert by_text["It will hold for another one,"] == "Angela Ferreira"
    # "..." said Thomas Oyelaran
    assert by_text["The city has known for years,"] == "Thomas Oyelaran"
    offsets = [q.offset for q in quotes]
    assert offsets == sorted(offsets)
    for q in quotes:
        assert HARBOUR[q.offset :].startswith(q.text)


def test_short_scare_quotes_are_not_quotations() -> None:
    body = 'The so-called "reform" was shelved, Anna Berg said.'
    assert enrich(body).enrichment.quotes == []


# --- keywords and topics ---------------------------------------------------------------


def test_keywords_are_the_terms_the_article_repeats() -> None:
    keywords = enrich(HARBOUR).enrichment.keywords
    assert 0 < len(keywords) <= 10
    assert keywords[0].score == 1.0
    assert all(0 < k.score <= 1 for k in keywords)
    phrases = [k.phrase.lower() for k in keywords]
    assert any("wall" in p for p in phrases)
    assert not {"said", "the", "he"} & set(phrases)


@pytest.mark.parametrize(
    ("title", "body", "label"),
    [
        (
            "Lakers beat Thunder",
            "LeBron James scored 23 points and the Lakers beat the Thunder 112-107 on Tuesday. "
            "The coach praised the team's defense in the fourth quarter of the game, and "
            "the players said the season had only started.",
            "sport",
        ),
        (
            "Senate vote delayed",
            "The Senate delayed a vote on the budget bill after Republicans and Democrats "
            "failed to agree. The president urged lawmakers to pass the legislation before "
            "the election campaign starts.",
            "politics",
        ),
        (
            "Shares fall after earnings",
            "Shares of the company fell 8 percent after quarterly earnings missed analysts' "
            "forecasts. Revenue rose but profit fell, and investors worried about the "
            "retailer's sales in the holiday quarter.",
            "economy, business and finance",
        ),
    ],
    ids=["sport", "politics", "business"],
)
def test_topics(title: str, body: str, label: str) -> None:
    topics = enrich(body, title).enrichment.topics
    assert topics[0].label == label
    assert 0 < topics[0].score <= 1
    assert sum(t.score for t in topics) <= 1.0 + 1e-9


def test_no_topic_without_evidence() -> None:
    assert enrich("Blue. Green. Yellow.").enrichment.topics == []


# --- batching and process pools ----------------------------------------------------------


def test_a_batch_gives_what_one_at_a_time_gives() -> None:
    bodies = [HARBOUR, GERMAN, "it rained.", FRENCH, HARBOUR.replace("Boston", "Halifax")]
    uniques = [unique(b, n=i) for i, b in enumerate(bodies)]
    batch = enrich_batch(uniques, EnrichOptions())
    assert [e.to_dict() for e in batch] == [enrich_article(u).to_dict() for u in uniques]
    assert enrich_batch([], EnrichOptions()) == []


def test_timings_cover_the_sub_steps_and_change_nothing() -> None:
    timings: dict[str, float] = {}
    with_timings = enrich_batch([unique(HARBOUR)], EnrichOptions(), timings)
    assert {"language", "ner_lead", "entities", "quotes", "keywords", "topics"} <= set(timings)
    assert all(v >= 0 for v in timings.values())
    assert with_timings[0].to_dict() == enrich_article(unique(HARBOUR)).to_dict()


def test_options_and_results_pickle_for_a_process_pool() -> None:
    options = EnrichOptions(ner_lead_chars=500)
    assert pickle.loads(pickle.dumps(options)) == options
    assert pickle.loads(pickle.dumps(enrich_batch)) is enrich_batch
    e = enrich_article(unique(HARBOUR), options)
    assert pickle.loads(pickle.dumps(e)).to_dict() == e.to_dict()


def test_a_missing_model_package_is_an_error_not_silence() -> None:
    options = EnrichOptions(ner_models=(("en", "no_such_model_package"),))
    with pytest.raises(RuntimeError, match="no_such_model_package"):
        enrich_article(unique(HARBOUR), options)
