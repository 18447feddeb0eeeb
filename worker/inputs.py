"""Files -> raw message values, shared by `newswire process` and `newswire produce`.

Each input becomes the bytes a crawler would have published to articles.raw,
so the offline pipeline sees exactly what the worker would see. JSONL lines are
passed through untouched: a malformed line must reach the parser (and become a
dead letter), not fail here.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

SUFFIXES = (".jsonl", ".html", ".htm", ".html.gz", ".htm.gz", ".txt", ".txt.gz", ".jsonl.gz")
_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)
# A gzip member that inflates beyond this is refused: a 10 KB bomb must not
# become gigabytes in memory.
MAX_INFLATED_BYTES = 256 * 1024 * 1024


class InputError(ValueError):
    """A path that cannot be read as newswire input."""


@dataclass(frozen=True, slots=True)
class InputItem:
    label: str  # "path" or "path:line"
    value: bytes
    key: bytes | None


def _read(path: Path) -> bytes:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rb") as fh:
            data = fh.read(MAX_INFLATED_BYTES + 1)
        if len(data) > MAX_INFLATED_BYTES:
            raise InputError(f"{path}: inflates beyond {MAX_INFLATED_BYTES} bytes")
        return data
    return path.read_bytes()


def decode_page(data: bytes) -> str:
    """Page bytes -> text: UTF-8 unless the page declares another charset."""
    match = _CHARSET.search(data[:4096])
    if match:
        try:
            return data.decode(match.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _kind(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    kinds = ((".jsonl", "jsonl"), (".html", "html"), (".htm", "html"), (".txt", "text"))
    for suffix, kind in kinds:
        if name.endswith(suffix):
            return kind
    raise InputError(f"{path}: unsupported input (expected one of {', '.join(SUFFIXES)})")


def _url_key(line: bytes) -> bytes | None:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    url = obj.get("url") if isinstance(obj, dict) else None
    return url.encode("utf-8") if isinstance(url, str) else None


def expand(paths: list[str]) -> list[Path]:
    """Files as given, directories as their supported files in sorted order."""
    out: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            out.extend(
                p for p in sorted(path.rglob("*"))
                if p.is_file() and p.name.lower().endswith(SUFFIXES)
            )
        elif path.is_file():
            _kind(path)
            out.append(path)
        else:
            raise InputError(f"{path}: no such file or directory")
    return out


def iter_inputs(paths: list[str]) -> Iterator[InputItem]:
    for path in expand(paths):
        kind = _kind(path)
        data = _read(path)
        if kind == "jsonl":
            for number, line in enumerate(data.splitlines(), start=1):
                if line.strip():
                    yield InputItem(f"{path}:{number}", line, _url_key(line))
        elif kind == "html":
            yield InputItem(str(path), orjson.dumps({"html": decode_page(data)}), None)
        else:
            text = data.decode("utf-8", errors="replace")
            yield InputItem(str(path), orjson.dumps({"text": text}), None)
