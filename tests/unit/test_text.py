"""Text normalisation shared by clean, dedup and enrich."""

from __future__ import annotations

import random
import re
import unicodedata

import pytest

from worker.pipeline.text import count_sentences, lead, normalise_line, paragraphs_to_body, words

ELLIPSIS = "\u2026"


def test_normalise_line_composes_to_nfc() -> None:
    decomposed = "Cafe\u0301 Mu\u0308ller reopens"
    result = normalise_line(decomposed)
    assert result == "Caf\u00e9 M\u00fcller reopens"
    assert unicodedata.is_normalized("NFC", result)


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"])
def test_normalise_line_drops_invisible_characters(invisible: str) -> None:
    assert normalise_line(f"harbour{invisible}side") == "harbourside"


def test_normalise_line_collapses_whitespace_including_nbsp_and_tabs() -> None:
    assert normalise_line("  Mayor \t opens\u00a0\u00a0new   pier  ") == "Mayor opens new pier"


def test_normalise_line_turns_line_breaks_into_spaces() -> None:
    assert normalise_line("Ferry service\nresumes\r\n today") == "Ferry service resumes today"


def test_paragraphs_to_body_separates_with_one_blank_line_and_skips_empty() -> None:
    assert paragraphs_to_body(["First.", "", "Second.", "Third."]) == "First.\n\nSecond.\n\nThird."
    assert paragraphs_to_body([]) == ""


def test_words_are_unicode_aware() -> None:
    assert words("Stra\u00dfe in K\u00f6ln, 12 km!") == [
        "Stra\u00dfe",
        "in",
        "K\u00f6ln",
        "12",
        "km",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("One sentence.", 1),
        ("One. Two! Three?", 3),
        ("A heading without a full stop", 1),
        ("Heading\n\nFirst sentence. Second sentence.", 3),
        ('She said "we will rebuild." Then she left.', 2),
        ("Prices rose 3.5 percent. Wages did not.", 2),
        ("Wait for it\u2026 It came.", 2),
    ],
)
def test_count_sentences(text: str, expected: int) -> None:
    assert count_sentences(text) == expected


def test_lead_returns_whole_text_when_it_fits() -> None:
    assert lead("Short story.\n\nSecond paragraph.", 100) == "Short story. Second paragraph."


def test_lead_keeps_whole_sentences_within_budget() -> None:
    text = "The ferry resumed service. Crews fixed the ramp overnight. More later today."
    assert lead(text, 30) == "The ferry resumed service."
    assert lead(text, 60) == "The ferry resumed service. Crews fixed the ramp overnight."


def test_lead_cuts_an_overlong_first_sentence_at_a_word_with_an_ellipsis() -> None:
    text = "An unusually long opening sentence that runs well past any sensible summary budget."
    summary = lead(text, 30)
    assert summary.endswith(ELLIPSIS)
    assert len(summary) <= 30
    assert text.startswith(summary[:-1])
    assert not summary[:-1].endswith(" ")


@pytest.mark.parametrize("budget", [5, 10, 30])
def test_lead_never_exceeds_budget_even_without_spaces(budget: int) -> None:
    summary = lead("x" * 100 + ". Next sentence.", budget)
    assert len(summary) <= budget
    assert summary.endswith(ELLIPSIS)


def test_lead_keeps_a_word_that_ends_exactly_at_the_cut() -> None:
    assert lead("Storm warning issued for the coast", 14) == "Storm warning" + ELLIPSIS


def test_normalise_line_folds_every_unicode_space_and_drops_invisibles() -> None:
    # Spaces of every kind (no-break, ideographic, line separators, NEL, tabs) and
    # the invisible characters, mixed with ordinary ones.
    hidden = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
    pool = "ab é\u00a0\u3000\u2028\u2029\u0085\t\n\r\x0b\x0c\x1c" + hidden
    rng = random.Random(5)
    invisible = dict.fromkeys(map(ord, hidden))
    for _ in range(20_000):
        line = "".join(rng.choice(pool) for _ in range(rng.randint(0, 10)))
        expected = re.sub(r"\s+", " ", unicodedata.normalize("NFC", line).translate(invisible))
        assert normalise_line(line) == expected.strip(), repr(line)
