"""minhash: word shingles, signatures, band keys and the similarity estimates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from worker.pipeline.minhash import (
    DEFAULT_SCHEME,
    EMPTY_SKETCH,
    MinHashScheme,
    band_hex,
    band_keys,
    band_of_hex,
    decode_signature,
    encode_signature,
    estimate_containment,
    estimate_jaccard,
    jaccard_of_encoded,
    minima,
    shingle_hashes,
    sketch,
    slots_of,
    tokens_of,
)

# Synthetic text written for these tests.
STORY = (
    "The harbour authority in Port Almery approved a plan on Tuesday to deepen the "
    "northern channel so that larger grain ships can dock without waiting for the tide. "
    "Dredging will start in the spring and is expected to take eleven months, during "
    "which the ferry to Kestrel Island will run from the southern quay. Fishermen said "
    "they welcomed the work but asked for compensation for the weeks when the channel "
    "is closed to small boats. The authority said a fund would be set up before the "
    "first barge arrives, and that residents near the quay would be told about night "
    "work at least a week in advance. The plan was first proposed four years ago and "
    "was delayed twice by disputes over who would pay for the disposal of the dredged silt."
)
OTHER = (
    "A bakery on Mill Lane in Riverton has won the regional bread prize for the third "
    "year running, beating forty entries from across the county with a rye loaf made "
    "from grain grown on a farm two miles away. The owner said the recipe came from her "
    "grandmother and that the secret was a slow overnight rise in a cool cellar. The "
    "judges praised the crust and the even crumb, and said the loaf kept well for days. "
    "Queues formed outside the shop on Saturday morning as customers arrived to buy it."
)


def test_tokens_fold_case_and_punctuation() -> None:
    assert tokens_of("Flood-wall HOLDS, officials said!") == ["flood", "wall", "holds",
                                                              "officials", "said"]


def test_shingles_of_a_body_shorter_than_a_shingle_are_empty() -> None:
    assert shingle_hashes([]).size == 0
    assert shingle_hashes(["two", "words"]).size == 0
    assert shingle_hashes(["three", "whole", "words"]).size == 1
    assert sketch(tokens_of("")) == EMPTY_SKETCH
    assert sketch(tokens_of("Breaking news")) == EMPTY_SKETCH


def test_shingles_are_distinct_sorted_and_depend_on_word_order() -> None:
    hashes = shingle_hashes(tokens_of("a b c a b c a b c"))
    assert hashes.size == 3  # "a b c", "b c a", "c a b"
    assert np.all(np.diff(hashes.astype(np.int64)) > 0)
    assert int(hashes.max()) < 2**32
    forward = set(shingle_hashes(tokens_of("one two three four")).tolist())
    backward = set(shingle_hashes(tokens_of("four three two one")).tolist())
    assert not forward & backward


def test_a_sketch_has_the_schemes_shape() -> None:
    summary = sketch(tokens_of(STORY))
    assert summary.shingles == len(set(shingle_hashes(tokens_of(STORY)).tolist()))
    slots = decode_signature(summary.signature)
    assert slots.size == DEFAULT_SCHEME.num_perm
    assert len(summary.bands) == DEFAULT_SCHEME.bands
    # The band index above a 40-bit hash, 48 bits in all (exact in any JSON reader).
    assert [b >> 40 for b in summary.bands] == list(range(DEFAULT_SCHEME.bands))
    assert all(0 <= b < 2**48 for b in summary.bands)
    assert [band_of_hex(band_hex(b)) for b in summary.bands] == summary.bands
    assert all(len(band_hex(b)) == 12 for b in summary.bands)


def test_sketches_of_identical_text_are_identical_and_of_different_text_differ() -> None:
    assert sketch(tokens_of(STORY)) == sketch(tokens_of(STORY))
    a, b = sketch(tokens_of(STORY)), sketch(tokens_of(OTHER))
    assert not set(a.bands) & set(b.bands)
    assert estimate_jaccard(decode_signature(a.signature), decode_signature(b.signature)) < 0.05


def test_sketches_are_the_same_in_another_process() -> None:
    """Python's hash() is salted per process; nothing here may depend on it."""
    script = (
        "import json, sys\n"
        "from worker.pipeline.minhash import sketch, tokens_of\n"
        "s = sketch(tokens_of(sys.stdin.read()))\n"
        "print(json.dumps([s.shingles, s.signature, s.bands]))\n"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(root)}
    out = subprocess.run(
        [sys.executable, "-c", script], input=STORY, capture_output=True, text=True,
        env=env, check=True, cwd=root,
    ).stdout
    here = sketch(tokens_of(STORY))
    assert json.loads(out) == [here.shingles, here.signature, here.bands]


def test_the_default_scheme_is_pinned() -> None:
    """Stored sketches are only comparable within one scheme: a change to the
    hashing must come with a new scheme name (and this pin updated with it)."""
    assert DEFAULT_SCHEME.name == "w3-p256x8-b32x3-s6e657773-v1"
    summary = sketch(tokens_of("the quick brown fox jumps over the lazy dog"))
    assert summary.shingles == 7
    assert summary.signature.startswith("WAgWj2BEMdwzQL1HXua9OHZU")
    # The hex strings band keys were before they were ints: the same keys.
    assert [band_hex(b) for b in summary.bands[:2]] == ["00b708b7b706", "01e13bcf1fe2"]


def _words(n: int, offset: int = 0) -> list[str]:
    return [f"w{i}" for i in range(offset, offset + n)]


@pytest.mark.parametrize("overlap", [0.2, 0.5, 0.8])
def test_jaccard_estimate_is_within_four_standard_deviations(overlap: float) -> None:
    # Two runs of distinct words sharing a middle stretch: the exact Jaccard of
    # their shingle sets is known from the counts.
    n = 600
    shared = int(n * overlap)
    a = _words(n)
    b = _words(shared, n - shared) + _words(n - shared, 10_000)
    ha, hb = shingle_hashes(a), shingle_hashes(b)
    exact = len(set(ha.tolist()) & set(hb.tolist())) / len(set(ha.tolist()) | set(hb.tolist()))
    estimate = estimate_jaccard(
        slots_of(minima(ha)), slots_of(minima(hb)), DEFAULT_SCHEME.bits
    )
    sd = (exact * (1 - exact) / DEFAULT_SCHEME.num_perm) ** 0.5
    assert abs(estimate - exact) <= 4 * sd + 0.01


def test_a_truncated_copy_is_fully_contained_in_its_original() -> None:
    tokens = tokens_of(STORY)
    full, half = sketch(tokens), sketch(tokens[: len(tokens) // 2])
    jaccard = estimate_jaccard(decode_signature(full.signature), decode_signature(half.signature))
    assert 0.3 < jaccard < 0.7
    assert estimate_containment(jaccard, full.shingles, half.shingles) > 0.85


def test_containment_from_jaccard_and_sizes() -> None:
    # |A| = 100, |B| = 50, B inside A: J = 0.5, containment 1.
    assert estimate_containment(0.5, 100, 50) == pytest.approx(1.0)
    assert estimate_containment(0.0, 100, 50) == 0.0
    assert estimate_containment(0.5, 0, 50) == 0.0
    assert estimate_containment(1.0, 10, 10) == 1.0


def test_estimate_corrects_for_chance_agreement_of_low_bits() -> None:
    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, 25_600, dtype=np.uint8)
    b = rng.integers(0, 256, 25_600, dtype=np.uint8)
    # Unrelated slots agree 1/256 of the time; the estimate takes that away.
    assert estimate_jaccard(a, b, 8) < 0.01
    assert estimate_jaccard(a, a, 8) == 1.0
    assert estimate_jaccard(a, a[:10], 8) == 0.0


def test_the_jaccard_of_encoded_signatures_is_the_same_float_as_of_decoded_ones() -> None:
    """The sequencer's byte path must give exactly what estimate_jaccard gives: a
    threshold sits on these floats."""
    rng = np.random.default_rng(12)
    for bits, dtype in ((8, np.uint8), (16, np.uint16)):
        base = rng.integers(0, 2**bits, 256, dtype=dtype)
        for share in (0.0, 0.003, 0.2, 0.5, 0.51, 0.73, 0.999, 1.0):
            other = np.where(rng.random(256) < share, base,
                             rng.integers(0, 2**bits, 256, dtype=dtype)).astype(dtype)
            a, b = encode_signature(base), encode_signature(other)
            expected = estimate_jaccard(decode_signature(a, bits), decode_signature(b, bits), bits)
            assert jaccard_of_encoded(a, b, bits) == expected
        # Leading and trailing zero bytes in the difference count as agreeing slots.
        edges = base.copy()
        edges[1:-1] = base[1:-1] ^ 1
        a, b = encode_signature(base), encode_signature(edges)
        expected = estimate_jaccard(decode_signature(a, bits), decode_signature(b, bits), bits)
        assert jaccard_of_encoded(a, b, bits) == expected > 0.0
    short = encode_signature(np.zeros(10, dtype=np.uint8))
    full = encode_signature(np.zeros(256, dtype=np.uint8))
    assert jaccard_of_encoded(short, full) == 0.0
    assert jaccard_of_encoded("", "") == 0.0


def test_minima_are_the_same_however_the_hashes_are_chunked() -> None:
    rng = np.random.default_rng(9)
    hashes = np.unique(rng.integers(0, 2**32, 40_000, dtype=np.uint64))
    halves = np.minimum(minima(hashes[:15_000]), minima(hashes[15_000:]))
    assert np.array_equal(minima(hashes), halves)
    with pytest.raises(ValueError, match="empty shingle set"):
        minima(np.empty(0, dtype=np.uint64))


def test_band_keys_match_exactly_when_their_rows_match() -> None:
    rng = np.random.default_rng(3)
    mins = rng.integers(0, 2**32, DEFAULT_SCHEME.num_perm, dtype=np.uint64)
    changed = mins.copy()
    changed[0] ^= np.uint64(1)  # a row of band 0
    a, b = band_keys(mins), band_keys(changed)
    assert a[0] != b[0]
    assert a[1:] == b[1:]


@pytest.mark.parametrize("bits", [8, 16])
def test_signatures_round_trip(bits: int) -> None:
    scheme = MinHashScheme(bits=bits)
    slots = slots_of(minima(shingle_hashes(tokens_of(STORY)), scheme), scheme)
    assert np.array_equal(decode_signature(encode_signature(slots), bits), slots)


def test_banding_shapes_the_candidate_curve() -> None:
    scheme = DEFAULT_SCHEME
    assert scheme.candidate_probability(0.5) > 0.98
    assert scheme.candidate_probability(0.05) < 0.01
    assert scheme.candidate_probability(0.3) < scheme.candidate_probability(0.4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bands": 100, "rows": 3}, "exceeds num_perm"),
        ({"bits": 12}, "bits must be 8 or 16"),
        ({"shingle_words": 0}, "shingle_words"),
        ({"bands": 0}, "bands"),
    ],
)
def test_bad_schemes_are_refused_with_a_reason(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MinHashScheme(**kwargs)
