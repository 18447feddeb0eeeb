"""`newswire process`: the pipeline offline on files, one JSON line per input."""

from __future__ import annotations

import base64
import gzip
import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from worker.cli import main
from worker.pipeline import flow
from worker.pipeline.flow import InProcessPipeline
from worker.pipeline.records import DeadLetter, Origin, UniqueArticle
from worker.schemas import validator

Lines = list[dict[str, Any]]


@pytest.fixture
def inputs(fixtures_dir: Path, tmp_path: Path) -> Path:
    """A directory as a user would point newswire at: mixed formats, sorted by name."""
    root = tmp_path / "in"
    root.mkdir()
    shutil.copy(fixtures_dir / "wire.jsonl", root / "1-wire.jsonl")
    html = (fixtures_dir / "harbour-bridge.html").read_bytes()
    (root / "2-harbour.html.gz").write_bytes(gzip.compress(html))
    shutil.copy(fixtures_dir / "council-budget.txt", root / "3-council.txt")
    # The same page again, uncompressed: an exact duplicate of 2-harbour.
    (root / "4-harbour-copy.html").write_bytes(html)
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Lines, str]:
    code = main(["process", *argv])
    captured = capsys.readouterr()
    lines = [orjson.loads(line) for line in captured.out.splitlines()]
    return code, lines, captured.err


def test_one_line_per_input_in_input_order(
    capsys: pytest.CaptureFixture[str], inputs: Path
) -> None:
    code, lines, _ = run(capsys, str(inputs))
    assert code == 0
    wire = inputs / "1-wire.jsonl"
    assert [line["input"] for line in lines] == [
        f"{wire}:1",
        f"{wire}:2",
        f"{wire}:4",
        f"{wire}:5",
        f"{wire}:6",
        f"{wire}:7",
        str(inputs / "2-harbour.html.gz"),
        str(inputs / "3-council.txt"),
        str(inputs / "4-harbour-copy.html"),
    ]
    assert all(set(line) == {"input", "topic", "value"} for line in lines)


def test_full_pipeline_decisions(capsys: pytest.CaptureFixture[str], inputs: Path) -> None:
    _, lines, _ = run(capsys, str(inputs))
    topics = [line["topic"] for line in lines]
    assert topics == [
        "articles.enriched",  # wire:1 first sighting
        "articles.duplicates",  # wire:2 same page, other URL spelling
        "articles.duplicates",  # wire:4 same body, syndicated elsewhere
        "articles.deadletter",  # wire:5 malformed JSON
        "articles.enriched",  # wire:6 revised body at the known URL
        "articles.enriched",  # wire:7 German article
        "articles.enriched",  # harbour page
        "articles.enriched",  # council text
        "articles.duplicates",  # harbour page again
    ]
    first, url_dup, exact_dup, dead, revision, german, harbour, council, harbour_dup = (
        line["value"] for line in lines
    )
    assert first["revision"] == 1 and first["supersedes"] is None
    assert first["canonical_url"] == "https://riverton-gazette.example/local/library-hours"
    assert first["extra"] == {"feed_id": "rg-local"}
    assert first["language"] == "en"
    assert (url_dup["method"], url_dup["duplicate_of"]) == ("url", first["article_id"])
    assert (exact_dup["method"], exact_dup["duplicate_of"]) == ("exact", first["article_id"])
    assert (dead["reason"], dead["stage"]) == ("malformed_json", "parse")
    wire_lines = (inputs / "1-wire.jsonl").read_bytes().splitlines()
    assert base64.b64decode(dead["original"]) == wire_lines[4]
    assert revision["revision"] == 2
    assert revision["supersedes"] == first["article_id"]
    assert german["language"] == "de"
    assert harbour["title"] == "Harbour bridge reopens after two-year repair"
    assert council["title"] == "Riverton council approves budget with more weekend buses"
    assert harbour_dup["duplicate_of"] == harbour["article_id"]


def test_every_value_matches_its_topic_schema(
    capsys: pytest.CaptureFixture[str], inputs: Path
) -> None:
    _, lines, _ = run(capsys, str(inputs))
    schema = {
        "articles.enriched": "enriched",
        "articles.duplicates": "duplicates",
        "articles.deadletter": "deadletter",
    }
    for line in lines:
        assert validator(schema[line["topic"]])(line["value"]) is None, line["input"]


def test_stage_clean_stops_after_cleaning(capsys: pytest.CaptureFixture[str], inputs: Path) -> None:
    code, lines, _ = run(capsys, str(inputs), "--stage", "clean")
    assert code == 0
    topics = [line["topic"] for line in lines]
    # No dedup decision yet: repeats are still cleaned articles.
    assert topics == ["newswire-cleaned"] * 3 + ["articles.deadletter"] + ["newswire-cleaned"] * 5
    for line in lines:
        if line["topic"] == "newswire-cleaned":
            assert validator("clean")(line["value"]) is None
            assert "revision" not in line["value"]
            assert "language" not in line["value"]


def test_stage_dedup_stops_after_the_decision(
    capsys: pytest.CaptureFixture[str], inputs: Path
) -> None:
    code, lines, _ = run(capsys, str(inputs), "--stage", "dedup")
    assert code == 0
    assert [line["topic"] for line in lines] == [
        "articles.enriched",
        "articles.duplicates",
        "articles.duplicates",
        "articles.deadletter",
        "articles.enriched",
        "articles.enriched",
        "articles.enriched",
        "articles.enriched",
        "articles.duplicates",
    ]
    unique = [line["value"] for line in lines if line["topic"] == "articles.enriched"]
    assert [u["revision"] for u in unique] == [1, 2, 1, 1, 1]
    assert all("language" not in u and "summary" not in u for u in unique)
    # What goes on the internal topic is what the enrich agent reads back.
    assert all(isinstance(UniqueArticle.from_dict(u), UniqueArticle) for u in unique)


def test_files_are_processed_in_the_order_given(
    capsys: pytest.CaptureFixture[str], inputs: Path
) -> None:
    html_copy, text = inputs / "4-harbour-copy.html", inputs / "3-council.txt"
    _, lines, _ = run(capsys, str(html_copy), str(text), str(inputs / "2-harbour.html.gz"))
    assert [line["input"] for line in lines] == [
        str(html_copy),
        str(text),
        str(inputs / "2-harbour.html.gz"),
    ]
    # The first copy of the page seen is the original, whatever its file name.
    assert [line["topic"] for line in lines] == [
        "articles.enriched",
        "articles.enriched",
        "articles.duplicates",
    ]


def test_missing_path_exits_2_without_output(
    capsys: pytest.CaptureFixture[str], inputs: Path
) -> None:
    code, lines, err = run(capsys, str(inputs), str(inputs / "missing.jsonl"))
    assert code == 2
    assert lines == []
    assert "missing.jsonl" in err


def test_unsupported_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "article.pdf"
    path.write_bytes(b"%PDF-1.7")
    code, lines, err = run(capsys, str(path))
    assert (code, lines) == (2, [])
    assert "unsupported" in err


def test_empty_directory_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, lines, err = run(capsys, str(tmp_path))
    assert (code, lines) == (1, [])
    assert "no input" in err


def test_unknown_stage_is_a_usage_error(capsys: pytest.CaptureFixture[str], inputs: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["process", str(inputs), "--stage", "publish"])
    assert exc.value.code == 2


def test_settings_apply_offline(
    capsys: pytest.CaptureFixture[str], inputs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSWIRE_TOPIC_ENRICHED", "news.out")
    monkeypatch.setenv("NEWSWIRE_APP_ID", "nw-test")
    monkeypatch.setenv("NEWSWIRE_MAX_MESSAGE_BYTES", "1000")
    _, lines, _ = run(capsys, str(inputs / "3-council.txt"), str(inputs / "4-harbour-copy.html"))
    assert lines[0]["topic"] == "news.out"
    # The HTML page is larger than the configured limit.
    assert lines[1]["topic"] == "articles.deadletter"
    assert lines[1]["value"]["reason"] == "too_large"
    _, lines, _ = run(capsys, str(inputs / "3-council.txt"), "--stage", "clean")
    assert lines[0]["topic"] == "nw-test-cleaned"


def test_bad_configuration_stops_with_a_message(
    capsys: pytest.CaptureFixture[str], inputs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSWIRE_PARTITIONS", "many")
    with pytest.raises(SystemExit) as exc:
        main(["process", str(inputs)])
    assert "NEWSWIRE_PARTITIONS" in str(exc.value.code)


# --- the in-process pipeline: errors are values ----------------------------------


def test_a_crash_in_clean_becomes_a_clean_error_dead_letter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("selector engine failed")

    monkeypatch.setattr(flow, "clean_article", explode)
    data = orjson.dumps({"url": "https://a.example/x", "text": "Headline\nBody."})
    origin = Origin("articles.raw", 1, 5, b"k")
    record = InProcessPipeline(validator("raw")).run(data, origin)
    assert isinstance(record, DeadLetter)
    assert (record.reason, record.stage) == ("clean_error", "clean")
    assert record.error == "RuntimeError: selector engine failed"
    assert record.original == data
    assert record.origin == origin


def test_a_crash_in_enrich_becomes_an_enrich_error_dead_letter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("model missing")

    monkeypatch.setattr(flow, "enrich_article", explode)
    data = orjson.dumps({"url": "https://a.example/x", "text": "Headline\nBody."})
    record = InProcessPipeline(validator("raw")).run(data, Origin("articles.raw", 0, 9))
    assert isinstance(record, DeadLetter)
    assert (record.reason, record.stage) == ("enrich_error", "enrich")
    assert validator("deadletter")(record.to_dict()) is None
    # The original is the unique article, replayable onto the internal topic.
    replay = UniqueArticle.from_dict(orjson.loads(record.original))
    assert replay.article.url == "https://a.example/x"
    assert record.origin.offset == 9
