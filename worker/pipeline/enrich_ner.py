"""The statistical NER model: loaded once per process, run in batches.

The only place that imports spaCy's pipeline machinery. Results come back as
plain tuples so the rest of the enrichment never touches spaCy objects (and
everything stays picklable for a process pool).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

# Only the NER component (and the shared token-to-vector layer, when NER
# listens to it) is run; the tagger, parser and lemmatizer would more than
# double the cost.
_UNUSED_COMPONENTS = (
    "tagger",
    "parser",
    "senter",
    "attribute_ruler",
    "lemmatizer",
    "morphologizer",
    "trainable_lemmatizer",
    "textcat",
    "textcat_multilabel",
)


@dataclass(frozen=True, slots=True)
class Span:
    """One entity the model found: character offsets into the text it was given."""

    start: int
    end: int
    label: str
    text: str


class ModelUnavailableError(RuntimeError):
    """The configured model package is not installed."""


def _matmul_ops() -> Any:
    """thinc's CPU ops with matrix products done by numpy's BLAS.

    thinc's own gemm (its bundled BLIS) ran the CNN's products well below the
    speed of numpy's OpenBLAS on this machine's CPU, and those products are a
    large part of the NER time; the results are the same float32 products.
    """
    import numpy
    from thinc.api import NumpyOps

    class MatmulOps(NumpyOps):  # type: ignore[misc]
        def gemm(
            self,
            x: Any,
            y: Any,
            out: Any = None,
            trans1: bool = False,
            trans2: bool = False,
        ) -> Any:
            a = x.T if trans1 else x
            b = y.T if trans2 else y
            if out is None:
                return numpy.matmul(a, b)
            numpy.matmul(a, b, out=out)
            return out

    return MatmulOps()


@cache
def _one_blas_thread() -> None:
    """Limit numpy's BLAS to one thread in this process, for good.

    The enrich stage scales with processes (NEWSWIRE_PROCESSES); OpenBLAS's own
    threads on top of that compete for the same cores, and on the dev bodies
    they added CPU time without saving wall time (make bench-enrich)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


@cache
def load_model(name: str) -> Any:
    """The spaCy pipeline ``name`` (an installed package), NER components only."""
    import spacy
    from thinc.api import get_current_ops, set_current_ops

    _one_blas_thread()
    previous = get_current_ops()
    # Layers take the ops current when they are built: only this model's.
    set_current_ops(_matmul_ops())
    try:
        nlp = spacy.load(name, exclude=list(_UNUSED_COMPONENTS))
    except OSError as exc:
        raise ModelUnavailableError(f"spaCy model package {name!r} is not installed") from exc
    finally:
        set_current_ops(previous)
    shared: Any = nlp.get_pipe("tok2vec") if "tok2vec" in nlp.pipe_names else None
    if shared is not None and "ner" not in shared.listening_components:
        # en_core_web_sm's NER embeds tokens with its own inner Tok2Vec; the
        # shared one only feeds the excluded tagger and parser. Running it
        # anyway cost a third of the NER time (and changes no entity).
        nlp.disable_pipe("tok2vec")
    # The stage never feeds whole long bodies to the model (see enrich_entities),
    # but a lead or window is bounded anyway; this only guards misuse.
    nlp.max_length = 2_000_000
    return nlp


@cache
def context_tokens(name: str) -> int:
    """How many tokens either side of a name can change the label the model gives
    it: the receptive field of its CNN encoder (depth x window), plus the token
    before the current one that spaCy's NER transition system also reads. A
    model of another architecture gets a generous 12."""
    config = load_model(name).config["components"]
    tok2vec = config["ner"]["model"].get("tok2vec", {})
    if "Listener" in str(tok2vec.get("@architectures", "")):
        tok2vec = config.get("tok2vec", {}).get("model", {})
    encode = tok2vec.get("encode", {})
    try:
        return int(encode["depth"]) * int(encode["window_size"]) + 1
    except (KeyError, TypeError, ValueError):
        return 12


@cache
def model_language(name: str) -> str:
    return str(load_model(name).lang)


def run_ner(model: str, texts: Sequence[str], batch_size: int = 64) -> list[list[Span]]:
    """Entities of each text, in order. ``nlp.pipe`` batches the matrix work."""
    if not texts:
        return []
    nlp = load_model(model)
    out: list[list[Span]] = []
    for doc in nlp.pipe(texts, batch_size=batch_size):
        out.append([Span(e.start_char, e.end_char, e.label_, e.text) for e in doc.ents])
    return out
