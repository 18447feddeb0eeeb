"""Body-extraction quality and speed: newswire's cleaner vs trafilatura, one run.

    .venv/bin/python bench/extract.py [--corpus ../shared/corpus] [--json OUT]

HTML: the 102 pages of extraction-dev, through newswire's HTML extractor and
through trafilatura (default settings), scored with the public benchmark's
metric (bench/score.py), timed page by page, alternating the two so machine
noise hits both alike. Plain text: the same pages as scraped text dumps
(plaintext-dev), through newswire's plain-text cleaner.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.score import DocScore, score_corpus, score_document
from worker.inputs import decode_page
from worker.pipeline.html_extract import extract_html
from worker.pipeline.plaintext import extract_text
from worker.pipeline.text import paragraphs_to_body

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def newswire_html(html: str) -> str:
    return paragraphs_to_body(extract_html(html).paragraphs)


def newswire_text(text: str) -> str:
    return paragraphs_to_body(extract_text(text).paragraphs)


def trafilatura_html(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html) or ""


def _timed(fn: Callable[[str], str], doc: str) -> tuple[str, float]:
    started = time.perf_counter()
    out = fn(doc)
    return out, time.perf_counter() - started


def run(corpus: Path, repeats: int) -> dict[str, Any]:
    truth_html = json.loads((corpus / "extraction-dev" / "ground-truth.json").read_text())
    truth_text = json.loads((corpus / "plaintext-dev" / "ground-truth.json").read_text())
    pages = {
        pid: decode_page(gzip.decompress(
            (corpus / "extraction-dev" / "html" / f"{pid}.html.gz").read_bytes()))
        for pid in sorted(truth_html)
    }
    dumps = {
        pid: (corpus / "plaintext-dev" / "txt" / f"{pid}.txt").read_text(encoding="utf-8")
        for pid in sorted(truth_text)
    }
    systems: dict[str, Callable[[str], str]] = {
        "newswire-html": newswire_html,
        "trafilatura-html": trafilatura_html,
    }
    for fn in systems.values():  # imports and lazy set-up outside the clock
        fn(next(iter(pages.values())))
    scores: dict[str, list[DocScore]] = {name: [] for name in systems}
    times: dict[str, list[float]] = {name: [] for name in systems}
    worst: dict[str, list[tuple[float, str]]] = {name: [] for name in systems}
    for pid, html in pages.items():
        gold = truth_html[pid]["articleBody"]
        for name, fn in systems.items():
            best = float("inf")
            for _ in range(repeats):
                out, seconds = _timed(fn, html)
                best = min(best, seconds)
            times[name].append(best)
            doc = score_document(out, gold)
            scores[name].append(doc)
            f = 2 * doc.precision * doc.recall / (doc.precision + doc.recall or 1)
            worst[name].append((f, pid))
    text_scores, text_times, text_worst = [], [], []
    for pid, dump in dumps.items():
        out, seconds = _timed(newswire_text, dump)
        text_times.append(seconds)
        doc = score_document(out, truth_text[pid]["articleBody"])
        text_scores.append(doc)
        text_worst.append((2 * doc.precision * doc.recall / (doc.precision + doc.recall or 1), pid))

    result: dict[str, Any] = {"html": {}, "text": {}}
    for name in systems:
        c = score_corpus(scores[name])
        result["html"][name] = {
            "precision": c.precision, "recall": c.recall, "f1": c.f1, "pages": c.documents,
            "median_ms": statistics.median(times[name]) * 1000,
            "p95_ms": sorted(times[name])[int(0.95 * (len(times[name]) - 1))] * 1000,
            "max_ms": max(times[name]) * 1000,
            "worst": sorted(worst[name])[:5],
        }
    c = score_corpus(text_scores)
    result["text"]["newswire-text"] = {
        "precision": c.precision, "recall": c.recall, "f1": c.f1, "pages": c.documents,
        "median_ms": statistics.median(text_times) * 1000,
        "max_ms": max(text_times) * 1000, "worst": sorted(text_worst)[:5],
    }
    return result


def print_report(result: dict[str, Any]) -> None:
    print("HTML body extraction (extraction-dev, 4-token shingles, macro P/R)")
    print(f"  {'system':<18} {'pages':>5} {'P':>6} {'R':>6} {'F1':>6} {'med ms':>7} "
          f"{'p95 ms':>7} {'max ms':>7}")
    for name, r in result["html"].items():
        print(f"  {name:<18} {r['pages']:>5} {r['precision']:6.3f} {r['recall']:6.3f} "
              f"{r['f1']:6.3f} {r['median_ms']:7.2f} {r['p95_ms']:7.2f} {r['max_ms']:7.1f}")
    ours, theirs = result["html"]["newswire-html"], result["html"]["trafilatura-html"]
    print(f"  F1 difference newswire - trafilatura: {ours['f1'] - theirs['f1']:+.3f}; "
          f"median speed-up: {theirs['median_ms'] / ours['median_ms']:.1f}x")
    print("  newswire's weakest pages (F1, id): "
          + ", ".join(f"{f:.2f} {pid[:10]}" for f, pid in ours["worst"]))
    print()
    print("Plain-text boilerplate removal (plaintext-dev)")
    r = result["text"]["newswire-text"]
    print(f"  newswire-text      {r['pages']:>5} P {r['precision']:.3f} R {r['recall']:.3f} "
          f"F1 {r['f1']:.3f}  median {r['median_ms']:.2f} ms, max {r['max_ms']:.1f} ms")
    print("  weakest pages (F1, id): "
          + ", ".join(f"{f:.2f} {pid[:10]}" for f, pid in r["worst"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="directory holding extraction-dev/ and plaintext-dev/")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timing runs per page and system; the fastest counts (default 3)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    if not (args.corpus / "extraction-dev").is_dir():
        print(f"bench/extract.py: corpus not found at {args.corpus}", file=sys.stderr)
        return 2
    result = run(args.corpus, args.repeats)
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
