"""plaintext: scraped page text -> headline, body, tags, photo credit, removal audit.

The pages here are invented: they have the shape of scraped news pages (menus,
credits, share bars, teasers, footers around an article), not their text.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from worker.pipeline.boilerplate import SourceLines
from worker.pipeline.extraction import Budget, Extraction, ExtractTimeout
from worker.pipeline.plaintext import extract_text, page_lines, photo_credit, split_tags

BODY = [
    "The harbour authority in Port Almery voted on Monday to close the old ferry pier "
    "for a year of repairs, after divers found corroded piles under the north landing.",
    "Ferries to the islands will use a temporary floating pontoon next to the fish "
    "market from the first of March, the authority's director, Mara Ellison, said.",
    "\u201cNobody wants to lose a summer season, but the pier has carried passengers "
    "since 1931 and it has earned a proper rebuild,\u201d Ellison told reporters.",
    "The repairs are expected to cost about 14 million, most of it from the regional "
    "transport fund, with the rest coming from a rise in berthing fees.",
    "Island residents have asked for a later last sailing while the pontoon is in use, "
    "and the operator, Blue Gull Ferries, said it would publish a new timetable soon.",
]
HEADLINE = "Port Almery closes its old ferry pier for repairs"


def page(*parts: str | list[str]) -> str:
    lines: list[str] = []
    for part in parts:
        lines.extend([part] if isinstance(part, str) else part)
    return "\n".join(lines)


def rules(out: Extraction) -> dict[str, list[str]]:
    return {r["rule"]: r["sample"] for r in out.removed.to_list()}


def removed_count(out: Extraction) -> int:
    return sum(out.removed.counts.values())


# --- the shape of the seed article -------------------------------------------


SEED_LIKE = page(
    HEADLINE,
    "",
    "Getty Images",
    "",
    BODY,
    "",
    "Tags Port Almery Mara Ellison ferries Blue Gull Ferries harbour",
    "See all Coast.TV See all Video",
    "",
    "Most Popular",
    "",
    "Load more",
    "",
    "",
    "See all Video",
)


def test_seed_shaped_page_gives_headline_body_tags_and_credit() -> None:
    out = extract_text(SEED_LIKE)
    assert out.title == HEADLINE
    assert out.paragraphs == BODY
    assert out.tags == ["Port Almery", "Mara Ellison", "ferries", "Blue Gull Ferries", "harbour"]
    assert out.image == {"url": None, "caption": None, "credit": "Getty Images"}
    assert out.method == "plain-lines"


def test_every_dropped_line_is_in_the_audit_under_its_rule() -> None:
    out = extract_text(SEED_LIKE)
    dropped = rules(out)
    assert dropped["title"] == [HEADLINE]
    assert dropped["photo-credit"] == ["Getty Images"]
    assert dropped["tags-line"][0].startswith("Tags Port Almery")
    assert {"Most Popular", "Load more"} <= set(dropped["navigation"])
    non_blank = [line for line in SEED_LIKE.splitlines() if line.strip()]
    assert removed_count(out) + len(out.paragraphs) == len(non_blank)


# --- tags ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Tags: Harbour, Port Almery, Transport", ["Harbour", "Port Almery", "Transport"]),
        ("TOPICS ferries | island life | budgets", ["ferries", "island life", "budgets"]),
        ("Filed Under:Harbour; Repairs; Harbour", ["Harbour", "Repairs"]),
        ("Keywords #ferries #harbour", ["ferries", "harbour"]),
    ],
)
def test_tag_lines_with_separators_split_on_them(line: str, expected: list[str]) -> None:
    assert split_tags(line, "") == expected


def test_separator_less_tags_follow_the_names_the_article_uses() -> None:
    body = (
        "The Green Party and the mayor, Tomas Varga, met the New Harbour Trust. "
        "Varga later spoke to the Trust alone."
    )
    line = "Tags Green Party Tomas Varga New Harbour Trust budget Harbour"
    assert split_tags(line, body) == ["Green Party", "Tomas Varga", "New Harbour Trust",
                                      "budget", "Harbour"]


def test_capitalised_words_the_article_never_joins_stay_separate_tags() -> None:
    # "Iceland" and "Norway" are both in the text, but never side by side.
    body = "Fishing fleets from Iceland met boats from Norway in the Arctic Sea."
    assert split_tags("Tags Iceland Norway Arctic Sea", body) == ["Iceland", "Norway",
                                                                   "Arctic Sea"]


def test_names_glued_to_the_next_word_by_the_page_still_count() -> None:
    # A name followed by its hover card, with no space between them.
    body = "Gov. Ada QuistAda Mae Quist said the Lower Valley would get its dam."
    assert split_tags("Tags Ada Quist Lower Valley dams", body) == ["Ada Quist",
                                                                     "Lower Valley", "dams"]


def test_between_equally_short_splits_the_names_used_most_win() -> None:
    # "Ada | Quist North Shore" would be as few tags as "Ada Quist | North Shore".
    body = ("Ada Quist spoke first. Lord QuistNorth Shore then spoke for the North Shore "
            "council and the North Shore ferry.")
    assert split_tags("Tags Ada Quist North Shore", body) == ["Ada Quist", "North Shore"]


def test_tags_under_a_tag_heading_after_the_article_are_one_per_line() -> None:
    text = page(HEADLINE, BODY, "Topics", "Port Almery", "Ferries", "Island life",
                "Share on Facebook", "Most Popular")
    out = extract_text(text)
    assert out.paragraphs == BODY
    assert out.tags == ["Port Almery", "Ferries", "Island life"]
    assert out.removed.counts["tags-line"] == 4


def test_a_topics_menu_above_the_article_gives_no_tags() -> None:
    text = page(f"{HEADLINE} | Coastal Ledger", "TOPICS", "Harbour", "Islands", "Weather",
                HEADLINE, BODY)
    out = extract_text(text)
    assert out.paragraphs == BODY
    assert out.tags == []


def test_tags_of_a_name_not_in_the_article_are_single_words() -> None:
    assert split_tags("Tags Lower Valley Dam", "A story about something else.") == [
        "Lower", "Valley", "Dam",
    ]


def test_a_line_that_merely_starts_with_tags_inside_a_sentence_is_body() -> None:
    text = page(HEADLINE, BODY[:2],
                "Tags on the ferry luggage will be checked by the crew before boarding.",
                BODY[2:])
    out = extract_text(text)
    assert "tags-line" not in rules(out)
    assert out.tags == []


# --- photo credits ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "credit"),
    [
        ("Getty Images", "Getty Images"),
        ("Photo: Riverton Gazette staff", "Riverton Gazette staff"),
        ("Photograph by Ines Kova", "Ines Kova"),
        ("(AP Photo/Lena Marsh)", "AP Photo/Lena Marsh"),
        ("Image credit: Port Almery Harbour Authority", "Port Almery Harbour Authority"),
        ("The new pontoon on its first morning.Credit...Noor Hale/Coastal Ledger",
         "Noor Hale/Coastal Ledger"),
        ("Foto: Jana Weber", "Jana Weber"),
    ],
)
def test_photo_credit_lines(line: str, credit: str) -> None:
    assert photo_credit(line) == credit
    out = extract_text(page(HEADLINE, line, BODY))
    assert out.image == {"url": None, "caption": None, "credit": credit}
    assert out.paragraphs == BODY


@pytest.mark.parametrize(
    "line",
    [
        "The photo shows the pier at low tide, with the corroded piles in view.",
        "Photos of the storm damage were sent to the authority by residents.",
        "Images",
    ],
)
def test_lines_about_photos_are_not_credits(line: str) -> None:
    assert photo_credit(line) is None


def test_only_the_first_credit_is_the_image_credit_but_all_are_removed() -> None:
    out = extract_text(page(HEADLINE, "Photo: Ann Lee", BODY[:3], "Photo: Bo Tan", BODY[3:]))
    assert out.image is not None and out.image["credit"] == "Ann Lee"
    assert out.paragraphs == BODY
    assert out.removed.counts["photo-credit"] == 2


# --- share, navigation, notices ------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("Share on Facebook", "share"),
        ("FacebookTwitterWhatsAppEmail", "share"),
        ("Share this article", "share"),
        ("Tweet", "share"),
        ("Most Popular", "navigation"),
        ("Load more", "navigation"),
        ("See all Video", "navigation"),
        ("Skip to content", "navigation"),
        ("Sign up for our newsletter", "navigation"),
        ("Advertisement", "navigation"),
        ("\u2039 \u203a \u00d7", "navigation"),
        ("\u00a9 2024 Coastal Ledger Ltd. All rights reserved.", "copyright"),
        ("We use cookies to give you the best experience on our website. Accept all?",
         "cookie-notice"),
    ],
)
def test_boilerplate_lines_inside_the_article_are_removed_by_rule(line: str, rule: str) -> None:
    out = extract_text(page(HEADLINE, BODY[:2], line, BODY[2:]))
    assert out.paragraphs == BODY
    assert line in rules(out)[rule]


def test_a_menu_printed_twice_is_removed_as_repeated() -> None:
    menu = ["Harbour", "Islands", "Weather", "Opinion"]
    out = extract_text(page(HEADLINE, menu, BODY, menu))
    assert out.paragraphs == BODY
    assert out.removed.counts["repeated"] == 8


def test_the_headline_printed_again_above_the_article_is_removed() -> None:
    out = extract_text(page(f"{HEADLINE} | Coastal Ledger", "Home", HEADLINE, BODY))
    assert out.title == f"{HEADLINE} | Coastal Ledger"
    assert out.paragraphs == BODY
    assert out.removed.counts["title"] == 2


# --- the body region ------------------------------------------------------------------


TEASERS = [
    "Council approves a new cycle lane along the seafront after a long debate about "
    "parking, deliveries and the safety of children on the promenade.",
    "Lifeboat crew rescue two kayakers off Gull Point as the wind rises to gale force "
    "and the coastguard warns visitors to stay off the water this weekend.",
]


def test_teasers_before_the_repeated_headline_are_not_body() -> None:
    text = page(f"{HEADLINE} - Coastal Ledger", "News", "Sport", "Latest",
                TEASERS[0], "2 hours ago", TEASERS[1], "5 hours ago", "Opinion", "Weather",
                HEADLINE, "By Noor Hale", "12 March 2024", BODY, "Related", "Contact us")
    out = extract_text(text)
    assert out.paragraphs == BODY


def test_a_teaser_list_after_the_article_is_not_body() -> None:
    teaser_list: list[str] = []
    for n, blurb in enumerate(TEASERS * 2):
        teaser_list += ["LOCAL", f"Story number {n} from the coast", blurb, "Noor Hale",
                        "Tuesday 12 March"]
    out = extract_text(page(HEADLINE, BODY, "More from Coastal Ledger", teaser_list))
    assert out.paragraphs == BODY
    assert "isolated-line" in rules(out) or "outside-body-region" in rules(out)


def test_reader_comments_below_the_article_are_not_body() -> None:
    comments = [
        "12 comments",
        "harbourwatcher",
        "3 hours ago",
        "About time too. The pier has been rotting for years and everyone on the island "
        "knew it long before the divers went down to have a look.",
        "Reply",
        "islandmum",
        "2 hours ago",
        "A later last sailing would make all the difference for those of us who work in "
        "town. I hope the operator listens to residents this time.",
    ]
    out = extract_text(page(HEADLINE, BODY, comments))
    assert out.paragraphs == BODY


def test_subheads_and_short_quotes_between_paragraphs_stay() -> None:
    text = page(HEADLINE, BODY[:2], "What happens next", BODY[2:4], "\u201cWe are ready.\u201d",
                BODY[4:])
    out = extract_text(text)
    assert out.paragraphs == [*BODY[:2], "What happens next", *BODY[2:4],
                              "\u201cWe are ready.\u201d", *BODY[4:]]


MORE_BODY = [
    "Engineers from the regional roads department will inspect the harbour wall at the "
    "same time, because the storms of the last two winters moved several of its stones.",
    "The authority said the inspection would not delay the pier works, which have been "
    "planned since a survey three years ago first raised concerns about the piles.",
    "A public meeting on the timetable will be held in the island school hall on the "
    "last Thursday of February, and the operator has promised to attend it.",
]


def test_a_long_run_of_short_lines_inside_the_article_is_a_menu() -> None:
    menu = ["Harbour", "Islands", "Weather", "Opinion", "Sport", "Culture", "Travel"]
    out = extract_text(page(HEADLINE, BODY, menu, MORE_BODY))
    assert out.paragraphs == BODY + MORE_BODY
    assert out.removed.counts["short-line"] == len(menu)


def test_a_list_the_article_introduces_is_body_however_long() -> None:
    intro = "The new timetable for the pontoon, from the first of March, is:"
    schedule = [f"{day} -- 07:15, 12:40 and 18:05" for day in
                ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")]
    out = extract_text(page(HEADLINE, BODY, intro, schedule, "Share on Facebook", "Most Popular",
                            "Newsletter"))
    assert out.paragraphs == [*BODY, intro, *schedule]


def test_a_table_under_a_heading_after_the_article_is_body() -> None:
    rows = [f"{n} Pier {n} {n * 40} berths" for n in range(1, 7)]
    out = extract_text(page(HEADLINE, BODY, "Berths by pier", rows, "Follow us", "Contact us"))
    assert out.paragraphs == [*BODY, "Berths by pier", *rows]


def test_lines_between_two_halves_of_the_article_are_bridged() -> None:
    widget = ["Most read", "Council approves cycle lane", "Lifeboat rescues kayakers",
              "Advertisement"]
    out = extract_text(page(HEADLINE, BODY[:3], widget, BODY[3:]))
    assert out.paragraphs == BODY


# --- scripts without spaces -----------------------------------------------------------

JA_BODY = [
    "\u6e2f\u6e7e\u5c40\u306f\u6708\u66dc\u65e5\u3001\u8001\u673d\u5316\u3057\u305f"
    "\u30d5\u30a7\u30ea\u30fc\u685f\u6a4b\u3092\u4e00\u5e74\u9593\u9589\u9396\u3057\u3001"
    "\u5927\u898f\u6a21\u306a\u4fee\u7406\u3092\u884c\u3046\u3068\u767a\u8868\u3057\u305f\u3002",
    "\u5cf6\u3078\u306e\u4fbf\u306f\u4e09\u6708\u304b\u3089\u9b5a\u5e02\u5834\u306e\u96a3"
    "\u306b\u8a2d\u3051\u308b\u4eee\u8a2d\u306e\u6d6e\u304d\u685f\u6a4b\u3092\u4f7f\u3046"
    "\u3053\u3068\u306b\u306a\u308b\u3068\u3044\u3046\u3002",
    "\u4f4f\u6c11\u304b\u3089\u306f\u6700\u7d42\u4fbf\u3092\u9045\u3089\u305b\u3066\u307b"
    "\u3057\u3044\u3068\u3044\u3046\u58f0\u304c\u4e0a\u304c\u3063\u3066\u304a\u308a\u3001"
    "\u904b\u822a\u4f1a\u793e\u306f\u65b0\u3057\u3044\u6642\u523b\u8868\u3092\u691c\u8a0e"
    "\u3057\u3066\u3044\u308b\u3002",
]


def test_unspaced_scripts_are_measured_in_characters() -> None:
    menu = ["\u30db\u30fc\u30e0", "\u30cb\u30e5\u30fc\u30b9", "\u5929\u6c17",
            "\u30b9\u30dd\u30fc\u30c4", "\u304a\u554f\u3044\u5408\u308f\u305b"]
    related = ["\u95a2\u9023\u8a18\u4e8b", "\u6e2f\u306e\u82b1\u706b\u5927\u4f1a",
               "\u5cf6\u306e\u65b0\u3057\u3044\u5b66\u6821"]
    out = extract_text(page("\u30d5\u30a7\u30ea\u30fc\u685f\u6a4b\u3092\u9589\u9396",
                            menu, JA_BODY, related))
    assert out.paragraphs == JA_BODY


# --- inputs that are not full pages ---------------------------------------------------


def test_clean_text_without_boilerplate_is_kept_whole() -> None:
    text = page(HEADLINE, "The pier closes.", "Ferries move.", "Residents object.")
    out = extract_text(text)
    assert out.paragraphs == ["The pier closes.", "Ferries move.", "Residents object."]
    assert rules(out) == {"title": [HEADLINE]}


def test_a_short_last_sentence_of_the_article_stays() -> None:
    out = extract_text(page(HEADLINE, BODY, "The vote was unanimous.", "Most Popular"))
    assert out.paragraphs == [*BODY, "The vote was unanimous."]


def test_a_brief_among_menus_keeps_its_one_short_paragraph() -> None:
    out = extract_text(page(HEADLINE, "Home", "The pier is closed today.", "Most Popular"))
    assert out.paragraphs == ["The pier is closed today."]


@pytest.mark.parametrize("text", ["", "\n\n", " \t \n", "\u200b\n\u00a0"])
def test_blank_input_gives_an_empty_extraction(text: str) -> None:
    out = extract_text(text)
    assert (out.title, out.paragraphs, out.tags, out.image) == (None, [], [], None)


def test_headline_only() -> None:
    out = extract_text("  Port Almery   closes its pier  \n\n")
    assert (out.title, out.paragraphs) == ("Port Almery closes its pier", [])


def test_a_first_line_that_is_a_whole_paragraph_is_not_a_headline() -> None:
    text = " ".join(BODY)  # a dump that lost its line breaks
    out = extract_text(text)
    assert out.title is None
    assert out.paragraphs == [text]


def test_hard_wrapped_text_is_unwrapped_into_paragraphs() -> None:
    wrapped = "\n\n".join(textwrap.fill(paragraph, 64) for paragraph in BODY)
    out = extract_text(page(HEADLINE, "", "Photo: Ann Lee", "", wrapped, "", "Share this",
                            "Most Popular"))
    assert out.paragraphs == BODY
    assert out.image is not None and out.image["credit"] == "Ann Lee"


def test_lines_of_different_lengths_are_not_taken_for_wrapped_text() -> None:
    menu = ["Home", "Harbour news and island life", "Weather", "Opinion and letters",
            "Sport", "Contact the newsroom"]
    assert page_lines(page(HEADLINE, menu, BODY)) == [HEADLINE, *menu, *BODY]


def test_lines_are_normalised_as_they_are_read() -> None:
    assert page_lines("  A\u00a0 b  \n\n\tC\u200bd\r\ne\u0301 ") == ["A b", "Cd", "\u00e9"]
    out = extract_text("Head\u00a0line\n  The pier\u00a0closes   today. \n")
    assert (out.title, out.paragraphs) == ("Head line", ["The pier closes today."])


def test_an_exhausted_budget_stops_extraction() -> None:
    with pytest.raises(ExtractTimeout):
        extract_text(SEED_LIKE, Budget(seconds=0.0, started=0.0))


def test_odd_input_does_not_break_the_extractor() -> None:
    lines = ["::", "-- --", "1", "\u2022", "x" * 5000, "Tags", "Photo:", "(", "\u3002",
             "a b c d e f g h i j k l m n o p q r s t u v w x y z.", "Tags Tags Tags"] * 30
    out = extract_text("\n".join(lines))
    assert out.title == "::"
    assert removed_count(out) + len(out.paragraphs) == len(lines)


# --- learned boilerplate -----------------------------------------------------------------

FOOTER = ("The Coastal Ledger is an independent newspaper published in Port Almery by "
          "the Ledger Trust, owned by its readers since 1921.")


def test_lines_the_source_prints_everywhere_are_dropped_as_learned_boilerplate() -> None:
    text = page(HEADLINE, BODY, FOOTER)
    assert FOOTER in extract_text(text).paragraphs  # prose: no generic rule can tell
    known = SourceLines(min_articles=3)
    for n in range(4):
        known.observe(page_lines(page(f"Other story {n}", f"A different first line {n}.",
                                      FOOTER)))
    out = extract_text(text, known=known)
    assert out.paragraphs == BODY
    assert rules(out)["learned-boilerplate"] == [FOOTER[:120]]


def test_learned_boilerplate_never_empties_an_article() -> None:
    known = SourceLines(min_articles=2)
    for _ in range(3):  # the source keeps sending this very article
        known.observe(page_lines(page(HEADLINE, BODY)))
    out = extract_text(page(HEADLINE, BODY), known=known)
    assert out.paragraphs == BODY


# --- shared corpus ------------------------------------------------------------------


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = [t.lower() for t in re.findall(r"\w+", text)]
    if 0 < len(tokens) < 4:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3))


def test_seed_article(corpus: Path) -> None:
    seeds = sorted((corpus / "seed").glob("*.txt"))
    if not seeds:
        pytest.skip(f"no seed article in {corpus / 'seed'}")
    text = seeds[0].read_text(encoding="utf-8")
    out = extract_text(text)
    assert out.paragraphs[0].startswith("The top U.S. general in the Middle East")
    assert out.paragraphs[-1].endswith("what we do for them now.\u201d")
    assert out.tags == ["Iraq", "Islamic State", "Kenneth McKenzie", "Qassem Soleimani",
                        "troops", "United States"]
    assert out.image == {"url": None, "caption": None, "credit": "Getty Images"}
    # No paragraph lost: the body is every line between the credit and the tags.
    lines = page_lines(text)
    first = lines.index(out.paragraphs[0])
    tags_at = next(i for i, line in enumerate(lines) if line.startswith("Tags "))
    assert out.paragraphs == lines[first:tags_at]
    # Every boilerplate line removed.
    for line in ("Getty Images", "Most Popular", "Load more", "See all Video"):
        assert line not in out.paragraphs
    assert removed_count(out) + len(out.paragraphs) == len(lines)


def test_plaintext_dev_quality_floor(corpus: Path) -> None:
    """A regression guard well under the measured score (bench/extract.py), with
    the benchmark's metric: 4-token shingles, macro-averaged P and R."""
    root = corpus / "plaintext-dev"
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    precision = recall = 0.0
    for page_id, expected in truth.items():
        text = (root / "txt" / f"{page_id}.txt").read_text(encoding="utf-8")
        predicted = _shingles("\n\n".join(extract_text(text).paragraphs))
        gold = _shingles(expected["articleBody"])
        common = sum((predicted & gold).values())
        precision += common / sum(predicted.values()) if predicted else 0.0
        recall += common / sum(gold.values()) if gold else 1.0
    precision, recall = precision / len(truth), recall / len(truth)
    assert 2 * precision * recall / (precision + recall) >= 0.9
