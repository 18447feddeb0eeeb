"""boilerplate: per-source line statistics that learn a source's header and footer.

The source here is invented ("Harbourside Herald"): every article carries the
same masthead and footer lines around a body of its own.
"""

from __future__ import annotations

import orjson
import pytest

from worker.pipeline.boilerplate import SourceLines, line_key
from worker.pipeline.plaintext import extract_text, page_lines

HEADER = [
    "Harbourside Herald",
    "Independent news for the Almery coast since 1921",
    "Subscribe to the Herald from 2 a week",
]
FOOTER = [
    "The Harbourside Herald is published every morning except Sunday by the Herald "
    "Trust, a charity owned by the people who read it.",
    "Letters to the editor: letters@herald.example",
    "\u00a9 2024 Harbourside Herald",
]


TOPICS = ["lights", "moorings", "fees", "dredging", "parking", "signs", "benches", "cranes",
          "fuel", "nets", "buoys", "ramps", "tides", "gulls", "ropes", "paint"]


def article(n: int) -> list[str]:
    """Article ``n`` of the source: its own headline and body between the shared lines.
    (Its lines differ by words, not only by numbers: keys fold digits.)"""
    one, two = TOPICS[n % len(TOPICS)], TOPICS[(n // len(TOPICS) + n + 1) % len(TOPICS)]
    body = [
        f"The harbour committee spent Monday evening on {one} and then on {two}.",
        f"Boat owners had asked for changes to the {one}, and the {two} came up late "
        f"in a long meeting that ran past ten o'clock at night.",
        f"A decision on the {one} and the {two} is expected next month, the chair said.",
    ]
    return [f"Committee talks {one} and {two}", *HEADER, *body, *FOOTER]


def trained(articles: int, **settings: int | float) -> SourceLines:
    state = SourceLines(**settings)  # type: ignore[arg-type]
    for n in range(articles):
        state.observe(article(n))
    return state


# --- line keys --------------------------------------------------------------------


def test_line_key_folds_case_spacing_digits_and_unicode_forms() -> None:
    key = line_key("\u00a9 2024 Harbourside Herald")
    assert key is not None and len(key) == 16
    assert line_key("  \u00a9 2025   HARBOURSIDE herald ") == key
    assert line_key("Caf\u00e9 news") == line_key("Cafe\u0301 news")
    assert line_key("Harbourside Herald") != key


@pytest.mark.parametrize("line", ["", "   ", "\u2022", "| | |", "\u200b"])
def test_lines_without_text_have_no_key(line: str) -> None:
    assert line_key(line) is None


# --- learning ---------------------------------------------------------------------


def test_shared_lines_become_boilerplate_and_article_lines_do_not() -> None:
    state = trained(10)
    assert state.articles == 10
    for line in HEADER + FOOTER:
        assert state.is_boilerplate(line), line
    for line in article(3)[3 + 1 : -len(FOOTER)]:  # the body of an already seen article
        assert not state.is_boilerplate(line), line
    assert not state.is_boilerplate(article(3)[0])
    assert not state.is_boilerplate("A line the source never printed.")


def test_nothing_is_boilerplate_before_min_articles() -> None:
    state = trained(4, min_articles=5)
    assert not any(state.is_boilerplate(line) for line in HEADER)
    state.observe(article(4))
    assert all(state.is_boilerplate(line) for line in HEADER)


def test_a_line_in_fewer_articles_than_min_fraction_is_not_boilerplate() -> None:
    state = SourceLines(min_articles=2, min_fraction=0.5)
    for n in range(10):
        lines = article(n) + (["Weather warning for the coast tonight"] if n < 4 else [])
        state.observe(lines)
    assert not state.is_boilerplate("Weather warning for the coast tonight")  # 4 of 10
    state.observe(["Weather warning for the coast tonight"])
    assert not state.is_boilerplate("Weather warning for the coast tonight")  # 5 of 11
    state.observe(["Weather warning for the coast tonight"])
    assert state.is_boilerplate("Weather warning for the coast tonight")  # 6 of 12


def test_a_line_repeated_within_one_article_counts_once() -> None:
    state = SourceLines(min_articles=2)
    state.observe(["Advert"] * 10 + ["Body one."])
    state.observe(["Body two."])
    state.observe(["Body three."])
    assert not state.is_boilerplate("Advert")  # in 1 of 3 articles


def test_old_habits_are_forgotten_after_the_window() -> None:
    state = SourceLines(window=20, min_articles=5)
    for n in range(10):
        state.observe([*article(n), "Old masthead slogan"])
    assert state.is_boilerplate("Old masthead slogan")
    for n in range(10, 60):
        state.observe(article(n))
    assert state.articles < 20
    assert not state.is_boilerplate("Old masthead slogan")
    assert state.is_boilerplate(HEADER[0])


def test_the_state_stays_bounded_and_keeps_the_frequent_lines() -> None:
    state = SourceLines(max_lines=50, window=1000)
    for n in range(200):
        state.observe(article(n))
    assert len(state.counts) <= 2 * 50
    assert all(state.is_boilerplate(line) for line in HEADER + FOOTER)


@pytest.mark.parametrize(
    "settings",
    [{"window": 9}, {"max_lines": 0}, {"min_articles": 0}, {"min_fraction": 0.0},
     {"min_fraction": 1.5}],
)
def test_settings_are_validated(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        SourceLines(**settings)  # type: ignore[arg-type]


# --- serialisation ------------------------------------------------------------------


def test_json_round_trip() -> None:
    state = trained(8)
    data = state.to_json()
    raw = orjson.loads(data)
    assert raw["articles"] == 8 and raw["v"] == 1
    assert "Harbourside" not in data  # digests, never article text
    again = SourceLines.from_json(data)
    assert (again.articles, again.counts) == (state.articles, state.counts)
    assert all(again.is_boilerplate(line) for line in HEADER)
    assert SourceLines.from_json(data.encode()).counts == state.counts


def test_from_json_takes_settings_from_the_caller_and_applies_the_bound() -> None:
    restored = SourceLines.from_json(trained(8).to_json(), max_lines=3, min_articles=20)
    assert len(restored.counts) == 3
    assert not restored.is_boilerplate(HEADER[0])  # 8 articles < min_articles


@pytest.mark.parametrize(
    "data",
    ["[]", '{"v": 2, "articles": 1, "counts": {}}', '{"v": 1, "counts": {}}',
     '{"v": 1, "articles": 1, "counts": []}', '{"v": 1, "articles": 1, "counts": {"a": "2"}}',
     "not json"],
)
def test_from_json_rejects_what_it_did_not_write(data: str) -> None:
    with pytest.raises(ValueError):
        SourceLines.from_json(data)


# --- with the plain-text extractor ----------------------------------------------------


def test_extract_text_drops_the_learned_lines_of_a_new_article() -> None:
    state = trained(6)
    text = "\n".join(article(99))
    body = article(99)[1 + len(HEADER) : -len(FOOTER)]
    plain = extract_text(text)
    # The footer's first line reads like a paragraph: no generic rule can tell.
    assert FOOTER[0] in plain.paragraphs
    learned = extract_text(text, known=state)
    assert learned.paragraphs == body
    removed = {r["rule"]: r["count"] for r in learned.removed.to_list()}
    assert removed["learned-boilerplate"] == len(HEADER) + len(FOOTER)
    # Then the article itself is observed, as the stream does.
    state.observe(page_lines(text))
    assert state.articles == 7


def test_a_source_without_history_changes_nothing() -> None:
    text = "\n".join(article(1))
    assert extract_text(text, known=SourceLines()).paragraphs == extract_text(text).paragraphs
