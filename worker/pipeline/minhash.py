"""MinHash over word shingles and LSH band keys, vectorised with NumPy.

A body becomes the set of its word ``k``-shingles (lower-cased ``\\w+`` words,
the tokens the content hash folds to). Each shingle is hashed to 32 bits and
the set is summarised by ``num_perm`` minima of the universal hash family

    h_i(x) = ((a_i * x + b_i) mod 2**64) >> 32        (x < 2**32, a_i odd)

(Dietzfelbinger's multiply-add-shift, 2-independent onto 32 bits), evaluated
for every permutation and shingle at once as one ``uint64`` matrix. Two sets
agree in a slot with probability equal to their Jaccard similarity.

Only the low ``bits`` of each minimum are kept (b-bit minwise hashing, Li and
Koenig): two different minima then agree by chance with probability 2**-bits,
which ``estimate_jaccard`` subtracts. At 8 bits, 256 slots cost 256 bytes and
estimate Jaccard with half the variance of 128 full 16-bit slots.

LSH bands are ``rows`` consecutive slots of the full 32-bit minima, hashed to
40 bits; a band's key is one integer, its index above that hash, so two
unrelated bodies share a key only by a 2**-40 chance however few rows a band
has. Written as 12 hex digits (``band_hex``) the key is the string earlier
versions used, so records and state that carry the strings read back as the
same keys.

Everything is a pure function of the text and the scheme: words are hashed
with blake2b and the permutations derive from blake2b of the seed, never from
Python's salted ``hash()`` or a NumPy RNG stream, so the clean stage's
processes, the offline CLI and a restarted worker produce identical sketches.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from worker.pipeline.text import words

U64 = npt.NDArray[np.uint64]
# A decoded signature: one unsigned slot of ``bits`` per permutation.
Slots = npt.NDArray[np.unsignedinteger[Any]]

SHINGLE_WORDS = 3
NUM_PERM = 256
SIGNATURE_BITS = 8
# 32 bands of 3 rows: a pair at Jaccard 0.5 shares a band with probability
# 0.99, at 0.4 with 0.88, at 0.1 with 0.03. On bench/dedup.py's labelled set
# 32x3 and 64x4 reach the same F1 (24x3 loses 0.3% of recall); each band is one
# table write per indexed article, so 32x3 halves the sequencer's writes, and
# the few extra candidates its shorter bands let through are cheap to verify.
BANDS = 32
ROWS = 3
BAND_HASH_HEX = 10
# A band key's bits: the hash in the low 40, the band index above it (48 bits in
# all for up to 255 bands: exact in any JSON reader, which keeps 53).
BAND_HASH_BITS = 4 * BAND_HASH_HEX
BAND_KEY_HEX = 2 + BAND_HASH_HEX
SEED = 0x6E657773  # "news"
# Bounds the (num_perm x shingles) hash matrix at 32 MiB for huge bodies.
_CHUNK = 16_384
_SHIFT32 = np.uint64(32)


@dataclass(frozen=True, slots=True)
class MinHashScheme:
    """Shingle size, permutations, kept bits and LSH banding. Its ``name`` is
    stored with each fingerprint, so sketches of different schemes never meet."""

    shingle_words: int = SHINGLE_WORDS
    num_perm: int = NUM_PERM
    bits: int = SIGNATURE_BITS
    bands: int = BANDS
    rows: int = ROWS
    seed: int = SEED

    def __post_init__(self) -> None:
        if self.shingle_words < 1:
            raise ValueError(f"shingle_words must be >= 1, got {self.shingle_words}")
        if self.bits not in (8, 16):
            raise ValueError(f"bits must be 8 or 16, got {self.bits}")
        if not 1 <= self.bands <= 255 or self.rows < 1:
            raise ValueError(f"need 1 <= bands <= 255 and rows >= 1, got {self.bands}x{self.rows}")
        if self.bands * self.rows > self.num_perm:
            raise ValueError(
                f"bands * rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}; "
                "lower bands or rows, or raise num_perm"
            )

    @property
    def name(self) -> str:
        return (
            f"w{self.shingle_words}-p{self.num_perm}x{self.bits}-b{self.bands}x{self.rows}"
            f"-s{self.seed:x}-v1"
        )

    def candidate_probability(self, jaccard: float) -> float:
        """Chance that two sets at this Jaccard share at least one band key."""
        return float(1.0 - (1.0 - jaccard**self.rows) ** self.bands)


DEFAULT_SCHEME = MinHashScheme()


@dataclass(frozen=True, slots=True)
class Sketch:
    """A body's MinHash summary: what the clean stage ships to the sequencer."""

    shingles: int  # distinct shingles in the body (exact)
    signature: str  # base64 of the slots; "" when there are no shingles
    bands: list[int]  # one LSH key per band


EMPTY_SKETCH = Sketch(0, "", [])


@functools.cache
def _permutations(num_perm: int, seed: int) -> tuple[U64, U64]:
    raw = b"".join(
        hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=16).digest() for i in range(num_perm)
    )
    params = np.frombuffer(raw, dtype="<u8").reshape(num_perm, 2).astype(np.uint64)
    a = (params[:, 0] | np.uint64(1)).reshape(-1, 1)  # odd multipliers
    b = params[:, 1].reshape(-1, 1)
    return a, b


def _mix64(x: U64) -> U64:
    """splitmix64's finaliser: every output bit depends on every input bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def tokens_of(text: str) -> list[str]:
    """The lower-cased words shingles are made of (the content hash folds alike)."""
    return [w.lower() for w in words(text)]


def shingle_hashes(tokens: Sequence[str], shingle_words: int = SHINGLE_WORDS) -> U64:
    """Sorted distinct 32-bit hashes (as uint64) of the word shingles of ``tokens``.

    Fewer tokens than a shingle make no shingles: such a body is no evidence."""
    n = len(tokens) - shingle_words + 1
    if n <= 0:
        return np.empty(0, dtype=np.uint64)
    vocabulary = list(dict.fromkeys(tokens))
    digests = b"".join(
        [hashlib.blake2b(w.encode("utf-8"), digest_size=8).digest() for w in vocabulary]
    )
    by_word = dict(zip(vocabulary, np.frombuffer(digests, dtype="<u8").tolist(), strict=True))
    hashed = np.array([by_word[t] for t in tokens], dtype=np.uint64)
    # A polynomial over the shingle's word hashes (word order matters), then a
    # finaliser so the 32 bits kept depend on all of it.
    acc = hashed[:n].copy()
    prime = np.uint64(0x100000001B3)
    for j in range(1, shingle_words):
        acc = acc * prime + hashed[j : j + n]
    return np.unique(_mix64(acc) >> _SHIFT32)


def minima(hashes: U64, scheme: MinHashScheme = DEFAULT_SCHEME) -> U64:
    """The ``num_perm`` 32-bit minima (in uint64) of the shingle hashes."""
    if hashes.size == 0:
        raise ValueError("an empty shingle set has no MinHash signature")
    a, b = _permutations(scheme.num_perm, scheme.seed)
    out = np.full(scheme.num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
    for start in range(0, hashes.size, _CHUNK):
        block = hashes[start : start + _CHUNK].reshape(1, -1)
        np.minimum(out, ((a * block + b) >> _SHIFT32).min(axis=1), out=out)
    return out


def slots_of(mins: U64, scheme: MinHashScheme = DEFAULT_SCHEME) -> Slots:
    """The signature: the low ``scheme.bits`` of each minimum."""
    low = mins & np.uint64((1 << scheme.bits) - 1)
    return low.astype("<u2" if scheme.bits == 16 else "u1")


def band_keys(mins: U64, scheme: MinHashScheme = DEFAULT_SCHEME) -> list[int]:
    """One key per band: the band index above 40 bits of a hash of the band's
    minima. The index is part of the key, so one table holds all bands.

    Integers rather than strings: the sequencer holds millions of them, and an
    int key is half the memory of a 12-character string and hashes without
    reading a string (bench/dedup.py --only speed)."""
    rows = mins[: scheme.bands * scheme.rows].reshape(scheme.bands, scheme.rows)
    acc = np.arange(1, scheme.bands + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    for j in range(scheme.rows):
        acc = _mix64(acc ^ rows[:, j])
    index = np.arange(scheme.bands, dtype=np.uint64) << np.uint64(BAND_HASH_BITS)
    keys: list[int] = (index | (acc >> np.uint64(64 - BAND_HASH_BITS))).tolist()
    return keys


def band_hex(key: int) -> str:
    """A band key as the 12 hex digits records carry (two of index, ten of hash)."""
    return f"{key:0{BAND_KEY_HEX}x}"


def band_of_hex(text: str) -> int:
    """The band key 12 hex digits spell (``band_hex`` reversed)."""
    return int(text, 16)


def encode_signature(slots: Slots) -> str:
    return base64.b64encode(slots.tobytes()).decode("ascii")


def decode_signature(encoded: str, bits: int = SIGNATURE_BITS) -> Slots:
    return np.frombuffer(base64.b64decode(encoded), dtype="<u2" if bits == 16 else "u1")


def sketch(tokens: Sequence[str], scheme: MinHashScheme = DEFAULT_SCHEME) -> Sketch:
    """The MinHash summary of a body's lower-cased words (``tokens_of``)."""
    hashes = shingle_hashes(tokens, scheme.shingle_words)
    if hashes.size == 0:
        return EMPTY_SKETCH
    mins = minima(hashes, scheme)
    return Sketch(
        int(hashes.size), encode_signature(slots_of(mins, scheme)), band_keys(mins, scheme)
    )


def estimate_jaccard(a: Slots, b: Slots, bits: int = SIGNATURE_BITS) -> float:
    """Unbiased Jaccard estimate from two signatures of one scheme: the share
    of agreeing slots, less the chance 2**-bits that different minima agree."""
    if a.size == 0 or a.size != b.size:
        return 0.0
    chance = 2.0**-bits
    agree = float(np.count_nonzero(a == b)) / a.size
    return max(0.0, (agree - chance) / (1.0 - chance))


def jaccard_of_encoded(a: str, b: str, bits: int = SIGNATURE_BITS) -> float:
    """``estimate_jaccard`` of two encoded signatures, the same float. The
    sequencer verifies every candidate with it: for 8-bit slots the agreeing
    slots are the zero bytes of the two signatures XORed as one big integer,
    a few C calls where NumPy's per-call overhead is most of the cost."""
    if bits != 8:
        return estimate_jaccard(decode_signature(a, bits), decode_signature(b, bits), bits)
    left, right = binascii.a2b_base64(a), binascii.a2b_base64(b)
    size = len(left)
    if size == 0 or size != len(right):
        return 0.0
    mixed = int.from_bytes(left, "little") ^ int.from_bytes(right, "little")
    chance = 2.0**-bits
    agree = float(mixed.to_bytes(size, "little").count(0)) / size
    return max(0.0, (agree - chance) / (1.0 - chance))


def estimate_containment(jaccard: float, size_a: int, size_b: int) -> float:
    """Share of the smaller set inside the larger, from the Jaccard estimate and
    the exact set sizes: |A & B| = J (|A| + |B|) / (1 + J)."""
    smaller = min(size_a, size_b)
    if smaller <= 0:
        return 0.0
    overlap = jaccard * (size_a + size_b) / (1.0 + jaccard)
    return min(1.0, overlap / smaller)
