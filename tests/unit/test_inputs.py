"""inputs: files and directories -> the raw message values a crawler would publish."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import orjson
import pytest

from worker.inputs import InputError, decode_page, expand, iter_inputs

HTML = (
    "<html><head><title>Pier reopens</title></head>"
    "<body><p>The pier reopened on Saturday.</p></body></html>"
)


def values(paths: list[str]) -> list[tuple[str, dict[str, object] | bytes, bytes | None]]:
    out: list[tuple[str, dict[str, object] | bytes, bytes | None]] = []
    for item in iter_inputs(paths):
        try:
            out.append((item.label, orjson.loads(item.value), item.key))
        except orjson.JSONDecodeError:
            out.append((item.label, item.value, item.key))
    return out


def test_jsonl_lines_are_passed_through_with_path_line_labels(fixtures_dir: Path) -> None:
    path = fixtures_dir / "wire.jsonl"
    items = list(iter_inputs([str(path)]))
    lines = path.read_bytes().splitlines()
    # Line 3 is blank: skipped, but the numbering still follows the file.
    assert [i.label for i in items] == [f"{path}:{n}" for n in (1, 2, 4, 5, 6, 7)]
    assert [i.value for i in items] == [lines[n - 1] for n in (1, 2, 4, 5, 6, 7)]


def test_jsonl_keys_are_the_urls_and_malformed_lines_reach_the_parser(
    fixtures_dir: Path,
) -> None:
    items = list(iter_inputs([str(fixtures_dir / "wire.jsonl")]))
    assert items[0].key == (
        b"https://www.riverton-gazette.example/local/library-hours?utm_source=feed&utm_medium=rss"
    )
    malformed = items[3]
    assert malformed.key is None
    assert malformed.value.startswith(b'{"url": "https://broken.example/a"')
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(malformed.value)


def test_jsonl_line_that_is_not_an_object_has_no_key(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b'["https://a.example/x"]\n{"url": 7}\n')
    assert [item.key for item in iter_inputs([str(path)])] == [None, None]


def test_html_file_becomes_an_html_article(tmp_path: Path) -> None:
    path = tmp_path / "pier.html"
    path.write_text(HTML, encoding="utf-8")
    assert values([str(path)]) == [(str(path), {"html": HTML}, None)]


def test_htm_and_gzipped_html(tmp_path: Path) -> None:
    (tmp_path / "a.htm").write_text(HTML, encoding="utf-8")
    (tmp_path / "b.html.gz").write_bytes(gzip.compress(HTML.encode("utf-8")))
    (tmp_path / "c.htm.gz").write_bytes(gzip.compress(HTML.encode("utf-8")))
    got = values([str(tmp_path)])
    assert [label for label, _, _ in got] == [
        str(tmp_path / name) for name in ("a.htm", "b.html.gz", "c.htm.gz")
    ]
    assert all(value == {"html": HTML} for _, value, _ in got)


def test_text_files_become_text_articles(fixtures_dir: Path, tmp_path: Path) -> None:
    source = fixtures_dir / "council-budget.txt"
    text = source.read_text(encoding="utf-8")
    (tmp_path / "story.txt.gz").write_bytes(gzip.compress(text.encode("utf-8")))
    assert values([str(source)]) == [(str(source), {"text": text}, None)]
    assert values([str(tmp_path / "story.txt.gz")])[0][1] == {"text": text}


def test_gzipped_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl.gz"
    path.write_bytes(
        gzip.compress(b'{"url": "https://a.example/1"}\n{"url": "https://a.example/2"}\n')
    )
    assert [i.label for i in iter_inputs([str(path)])] == [f"{path}:1", f"{path}:2"]


def test_directories_are_expanded_recursively_in_sorted_order(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "b.html").write_text(HTML, encoding="utf-8")
    (tmp_path / "a.txt").write_text("Headline\nBody.", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    shutil.copy(fixtures_dir / "wire.jsonl", tmp_path / "sub" / "c.jsonl")
    (tmp_path / "notes.md").write_text("not an input", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "empty-dir").mkdir()
    assert expand([str(tmp_path)]) == [
        tmp_path / "a.txt",
        tmp_path / "b.html",
        tmp_path / "sub" / "c.jsonl",
    ]
    labels = [item.label for item in iter_inputs([str(tmp_path)])]
    assert labels[:2] == [str(tmp_path / "a.txt"), str(tmp_path / "b.html")]
    assert labels[2] == f"{tmp_path / 'sub' / 'c.jsonl'}:1"
    assert len(labels) == 2 + 6


def test_paths_keep_the_order_they_were_given_in(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A\nFirst.", encoding="utf-8")
    (tmp_path / "z.txt").write_text("Z\nLast.", encoding="utf-8")
    labels = [i.label for i in iter_inputs([str(tmp_path / "z.txt"), str(tmp_path / "a.txt")])]
    assert labels == [str(tmp_path / "z.txt"), str(tmp_path / "a.txt")]


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        list(iter_inputs([str(tmp_path / "nope.jsonl")]))


def test_unsupported_file_given_explicitly_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match="unsupported"):
        list(iter_inputs([str(path)]))


def test_gzip_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("worker.inputs.MAX_INFLATED_BYTES", 1000)
    path = tmp_path / "bomb.html.gz"
    path.write_bytes(gzip.compress(b"<p>" + b"a" * 5000 + b"</p>"))
    with pytest.raises(InputError, match="inflates"):
        list(iter_inputs([str(path)]))


# --- page decoding -------------------------------------------------------------


def test_decode_page_utf8() -> None:
    assert (
        decode_page("<p>K\u00f6ln \u2013 Z\u00fcrich</p>".encode())
        == "<p>K\u00f6ln \u2013 Z\u00fcrich</p>"
    )


def test_decode_page_honours_a_declared_charset() -> None:
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>Caf\u00e9 M\u00fcller</p>'
    assert decode_page(page.encode("latin-1")) == page
    page2 = (
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
        "<p>\u041d\u043e\u0432\u043e\u0441\u0442\u0438</p>"
    )
    assert decode_page(page2.encode("cp1251")) == page2


def test_decode_page_falls_back_to_cp1252_for_undeclared_non_utf8() -> None:
    raw = "<p>\u201cQuoted\u201d caf\u00e9</p>".encode("cp1252")
    assert decode_page(raw) == "<p>\u201cQuoted\u201d caf\u00e9</p>"


def test_decode_page_ignores_an_unknown_charset() -> None:
    page = '<meta charset="no-such-charset"><p>\u00e9t\u00e9</p>'
    assert decode_page(page.encode("utf-8")) == page


def test_html_file_in_a_legacy_charset(tmp_path: Path) -> None:
    page = (
        '<html><head><meta charset="iso-8859-1"></head><body><p>Gr\u00fc\u00dfe</p></body></html>'
    )
    path = tmp_path / "legacy.html"
    path.write_bytes(page.encode("latin-1"))
    assert values([str(path)]) == [(str(path), {"html": page}, None)]
