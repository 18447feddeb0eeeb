"""enrich_windows / enrich_ner: what the NER model reads, and that reading less changes nothing."""

from __future__ import annotations

import pytest

from tests.factories import unique_article
from worker.pipeline.enrich import DEFAULT_NER_MODEL, EnrichOptions, enrich_article
from worker.pipeline.enrich_ner import Span, context_tokens, load_model, run_ner
from worker.pipeline.enrich_tokens import name_tokens
from worker.pipeline.enrich_windows import (
    candidate_windows,
    capitalised_runs,
    join_windows,
    lead_end,
    spans_in_windows,
)
from worker.pipeline.records import EnrichedArticle

FILLER = "The committee discussed the budget at length and adjourned without a vote. "


def windows_of(body: str, lead_chars: int = 0, lead_spans: list[Span] | None = None) -> list[str]:
    stop = lead_end(body, lead_chars) if lead_chars else 0
    found = candidate_windows(body, stop, lead_spans or [], "en", name_tokens(body), 5, 64)
    return [body[a:b] for a, b in found]


def enrich(body: str) -> EnrichedArticle:
    return enrich_article(unique_article(body, title="Headline"))


def names(enriched: EnrichedArticle) -> dict[str, str]:
    return {e.name: e.type for e in enriched.enrichment.entities}


# --- candidate runs ---------------------------------------------------------------------


def test_runs_join_names_across_spaces_particles_initials_and_ampersands() -> None:
    body = (
        "the State of Israel, John M. Ford, Marks & Spencer, then U.S. officials "
        "with Mohammed bin Salman, Islamic State in Iraq and Syria."
    )
    toks = name_tokens(body)
    runs = capitalised_runs(body, toks, [False] * len(toks))
    texts = [body[toks[a].start : toks[b - 1].end] for a, b in runs]
    assert texts == [
        "State of Israel",
        "John M. Ford",
        "Marks & Spencer",
        "U.S",
        "Mohammed bin Salman",
        "Islamic State in Iraq and Syria",
    ]


def test_a_name_mentioned_once_past_the_lead_gets_a_window() -> None:
    body = "The council met on Tuesday.\n\n" + FILLER * 20 + "Later Priya Raman spoke briefly."
    [window] = windows_of(body, lead_chars=100)
    assert "Priya Raman" in window


def test_sentence_initial_words_and_calendar_words_get_no_window() -> None:
    body = (
        "Officials met on Tuesday. However the plan stalled in March. Residents waited. "
        "I\u2019m sure, one said. Meanwhile nothing moved."
    )
    assert windows_of(body) == []


def test_a_word_seen_mid_sentence_is_a_candidate_even_at_a_sentence_start() -> None:
    body = "Okafor arrived late. The board thanked Okafor for the report."
    [window] = windows_of(body)
    assert "Okafor" in window


def test_countries_and_cities_are_left_to_the_gazetteer() -> None:
    body = "Trade between France and the city of Nairobi grew, officials in Peru said."
    assert windows_of(body) == []


def test_surnames_of_people_named_in_full_elsewhere_get_no_window_of_their_own() -> None:
    body = "Dara Eriksen opened the meeting.\n\n" + FILLER * 10 + "Later, Eriksen closed it."
    lead = [Span(0, len("Dara Eriksen"), "PERSON", "Dara Eriksen")]
    assert windows_of(body, lead_chars=40, lead_spans=lead) == []
    # Without a lead the full name gets the window, still not the surname.
    [window] = windows_of(body)
    assert "Dara Eriksen" in window
    assert "Later" not in window


def test_windows_are_the_model_context_wide_and_never_cut_a_name() -> None:
    words = "one two three four five six seven eight nine ten"
    body = f"{words} Helena Okonkwo-Barrett {words}."
    [window] = windows_of(body)
    # Five words before the name, four after (the model reads one token back).
    assert window == "six seven eight nine ten Helena Okonkwo-Barrett one two three four"
    long_name = "alpha beta gamma delta epsilon Royal Society of Harbour Pilots of Calder said"
    [window] = windows_of(long_name)
    assert "Royal Society of Harbour Pilots of Calder" in window


def test_windows_stay_within_their_paragraph() -> None:
    body = "The first paragraph ends here.\n\nKestrel Holdings bought the mill."
    [window] = windows_of(body)
    assert "\n" not in window
    assert window.startswith("Kestrel Holdings")


def test_window_spans_map_back_to_body_offsets() -> None:
    body = "x " * 40 + "the board of Calder Mills met. " + "y " * 40 + "Anouk Visser spoke."
    stop = 0
    windows = candidate_windows(body, stop, [], "en", name_tokens(body), 5, 64)
    joined = join_windows(body, windows)
    [found] = run_ner(DEFAULT_NER_MODEL, [joined])
    mapped = spans_in_windows(windows, found)
    assert mapped
    assert all(body[s.start : s.end] == s.text for s in mapped)


def test_many_distinct_names_get_at_most_max_windows() -> None:
    first = ["Anna", "Boris", "Chen", "Dara", "Emeka", "Farah", "Goran", "Hana", "Ivan", "Jun"]
    last = ["Abbott", "Bakker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad"]
    body = FILLER * 5 + "\n\n" + " ".join(
        f"Then {f} {s} of the guild spoke." for s in last for f in first
    )
    toks = name_tokens(body)
    found = candidate_windows(body, 0, [], "en", toks, 5, max_windows=12)
    assert 1 <= len(found) <= 12
    assert sum(b - a for a, b in found) < len(body) / 2


# --- what the stage finds with them ------------------------------------------------------


def test_single_later_mentions_are_found_and_typed() -> None:
    body = (
        "The harbour board met on Monday to approve the dredging plan.\n\n"
        + FILLER * 12
        + "\n\nThe work will be done by Calder Dredging Company, the board said. "
        + FILLER * 6
        + "\n\nThe plan was welcomed by Senator Ruth Abernathy, who has pressed for it."
    )
    found = names(enrich(body))
    assert found.get("Ruth Abernathy") == "person"
    assert found.get("Calder Dredging Company") == "organization"


def test_a_single_mention_deep_in_a_100k_word_body_is_found() -> None:
    para = (
        "The valley council reviewed the water budget again and heard long reports from "
        "the engineers about pipes, pumps and the reservoir. Nothing was decided."
    )
    paras = [para] * 4200
    paras[3500] = "At the very end, Ingrid Solberg of the Fjord Water Trust asked for a vote."
    e = enrich("\n\n".join(paras))
    assert e.enrichment.word_count > 95_000
    found = names(e)
    assert found.get("Ingrid Solberg") == "person"


# --- the model ----------------------------------------------------------------------------


def test_context_is_the_receptive_field_of_the_small_english_model() -> None:
    # en_core_web_sm's NER: CNN depth 4, window 1, plus the token before.
    assert context_tokens(DEFAULT_NER_MODEL) == 5


def test_only_ner_runs() -> None:
    nlp = load_model(DEFAULT_NER_MODEL)
    active = [name for name, _ in nlp.pipeline]
    assert active == ["ner"]


@pytest.mark.parametrize("lead_chars", [0, 400])
def test_the_model_with_numpy_products_finds_what_stock_spacy_finds(lead_chars: int) -> None:
    import spacy

    text = (
        "Mayor Angela Ferreira said on Monday that Boston will rebuild the harbour wall. "
        "The Massachusetts Port Authority will pay for half, and engineers from Siemens "
        "inspected it with Thomas Oyelaran of the Pilots Guild in March 2024."
    )
    stock = spacy.load(DEFAULT_NER_MODEL, exclude=["tagger", "parser", "lemmatizer"])
    expected = [(e.start_char, e.end_char, e.label_) for e in stock(text).ents]
    [ours] = run_ner(DEFAULT_NER_MODEL, [text])
    assert [(s.start, s.end, s.label) for s in ours] == expected
    options = EnrichOptions(ner_lead_chars=lead_chars)
    assert enrich_article(unique_article(text, title="Harbour"), options).enrichment.entities


def test_loading_the_model_leaves_numpy_one_blas_thread() -> None:
    from threadpoolctl import threadpool_info

    load_model(DEFAULT_NER_MODEL)
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas
    assert all(pool["num_threads"] == 1 for pool in blas)
