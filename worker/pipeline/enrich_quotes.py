"""Direct quotations and who said them.

News attributes a quote in a few fixed shapes: ``"...," McKenzie said``,
``"...," said Gen. Kenneth McKenzie``, ``McKenzie said the president is
"negotiating..."``, and a quote paragraph with no attribution continues the
previous speaker. Speakers resolve to the article's canonical entities, so
"McKenzie" comes out as "Kenneth McKenzie". Attribution needs the language's
speech verbs; for languages without a list the quotes come out unattributed.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence

from worker.pipeline.enrich_entities import Mention
from worker.pipeline.enrich_tokens import sentence_bounds
from worker.pipeline.records import Entity, Quote

SPEECH_VERBS = {
    "en": frozenset(
        [
            "said",
            "says",
            "say",
            "told",
            "tells",
            "added",
            "adds",
            "asked",
            "asks",
            "wrote",
            "writes",
            "tweeted",
            "explained",
            "noted",
            "stated",
            "argued",
            "insisted",
            "warned",
            "claimed",
            "continued",
            "recalled",
            "replied",
            "responded",
            "remarked",
            "acknowledged",
            "admitted",
            "announced",
            "declared",
            "suggested",
            "observed",
            "predicted",
            "according",
            "concluded",
            "cautioned",
            "conceded",
            "emphasized",
            "emphasised",
            "stressed",
            "testified",
            "posted",
            "joked",
        ]
    ),
}
_PRONOUNS = frozenset(["he", "she", "they"])
# Opening mark -> the closing marks that end it.
_QUOTE = re.compile(
    r"\u201c(?P<curly>[^\u201c\u201d\n]+)(?:\u201d|(?=\n|$))"
    r"|\"(?P<straight>[^\"\n]+)\""
    r"|\u00ab\s?(?P<guillemet>[^\u00ab\u00bb\n]+?)\s?\u00bb"
    r"|\u201e(?P<low>[^\u201e\u201c\u201d\n]+)[\u201c\u201d]"
)
_WORD = re.compile(r"\w+(?:['\u2019]\w+)?")
# How far from a quote an attribution may sit, in characters.
_REACH = 140


def find_quotes(
    body: str,
    entities: Sequence[Entity],
    mentions: Sequence[Mention],
    language: str | None,
    min_words: int = 3,
) -> list[Quote]:
    verbs = SPEECH_VERBS.get(language or "", frozenset())
    spans = [
        (m.start(m.lastgroup or 0), m.end(m.lastgroup or 0), m.group(m.lastgroup or 0))
        for m in _QUOTE.finditer(body)
    ]
    spans = [(a, b, t.strip()) for a, b, t in spans if len(_WORD.findall(t)) >= min_words]
    if not spans:
        return []
    speakers = _Speakers(body, entities, mentions, [(a - 1, b + 1) for a, b, _ in spans])
    paragraphs = [0] + [m.end() for m in re.finditer(r"\n\s*\n", body)]
    out: list[Quote] = []
    previous: tuple[int, int | None] | None = None  # (paragraph, speaker) of the last quote
    for start, end, text in spans:
        para = bisect_right(paragraphs, start) - 1
        speaker = speakers.attribute(start - 1, end + 1, verbs) if verbs else None
        if speaker is None and previous is not None:
            # Same paragraph, or a paragraph that opens with a quote right after
            # a quoted one: the previous speaker is still talking.
            opens = not body[paragraphs[para] : start].strip(' "\u201c\u00ab\u201e')
            if previous[0] == para or (opens and previous[0] == para - 1):
                speaker = previous[1]
        previous = (para, speaker)
        name = entities[speaker].name if speaker is not None else None
        out.append(Quote(text=text, speaker=name, offset=start))
    return out


class _Speakers:
    """Finds the entity a quote is attributed to from mentions near a speech verb."""

    def __init__(
        self,
        body: str,
        entities: Sequence[Entity],
        mentions: Sequence[Mention],
        quoted: list[tuple[int, int]],
    ) -> None:
        self.body = body
        self.entities = entities
        # Names inside quotations are what the speaker talks about, not who speaks.
        self.mentions = [
            m
            for m in mentions
            if entities[m.entity].type in ("person", "organization")
            and not any(a <= m.start < b for a, b in quoted)
        ]
        self.starts = [m.start for m in self.mentions]
        self.quoted = quoted
        # Sentence starts that know "U.S." and "Gen." do not end a sentence.
        self.sentences = sentence_bounds(body)

    def attribute(self, q_start: int, q_end: int, verbs: frozenset[str]) -> int | None:
        after = self._after(q_end, verbs)
        return after if after is not None else self._before(q_start, verbs)

    def _after(self, q_end: int, verbs: frozenset[str]) -> int | None:
        stop = self._clause_end(q_end)
        verb = self._verb_in(q_end, stop, verbs)
        if verb is None:
            return None
        v_start, v_end = verb
        # The name between the quote and the verb ("..." McKenzie said), else
        # right after the verb ("..." said McKenzie), else a pronoun.
        before = self._mentions_in(q_end, v_start)
        if before:
            return self._pick(before, last=True)
        after = self._mentions_in(v_end, min(stop, v_end + 60))
        if after:
            return self._pick(after, last=False)
        if self._pronoun_in(q_end, stop):
            return self._last_person_before(q_end)
        return None

    def _before(self, q_start: int, verbs: frozenset[str]) -> int | None:
        start = self._clause_start(q_start)
        verb = self._verb_in(start, q_start, verbs, last=True)
        if verb is None:
            return None
        v_start, v_end = verb
        if self.body[v_start:v_end].lower() == "according":
            after = self._mentions_in(v_end, q_start)
            return self._pick(after, last=False) if after else None
        before = self._mentions_in(start, v_start)
        if before:
            return self._pick(before, last=True)
        if self._pronoun_in(start, v_start):
            return self._last_person_before(start)
        return None

    def _clause_end(self, pos: int) -> int:
        limit = min(len(self.body), pos + _REACH)
        sentence = (
            self.sentences[bisect_right(self.sentences, pos)] if pos < len(self.body) else pos
        )
        next_quote = min((a for a, _ in self.quoted if a > pos), default=limit)
        para = self.body.find("\n", pos, limit)
        return min(limit, next_quote, sentence, para if para >= 0 else limit)

    def _clause_start(self, pos: int) -> int:
        floor = max(0, pos - _REACH)
        para = self.body.rfind("\n", floor, pos)
        sentence = self.sentences[bisect_right(self.sentences, pos) - 1]
        return max(floor, para + 1, sentence)

    def _verb_in(
        self, start: int, end: int, verbs: frozenset[str], last: bool = False
    ) -> tuple[int, int] | None:
        found = [
            m.span() for m in _WORD.finditer(self.body, start, end) if m.group().lower() in verbs
        ]
        if not found:
            return None
        return found[-1] if last else found[0]

    def _mentions_in(self, start: int, end: int) -> list[Mention]:
        i = bisect_right(self.starts, start - 1)
        out = []
        while i < len(self.mentions) and self.mentions[i].start < end:
            out.append(self.mentions[i])
            i += 1
        return out

    def _pick(self, found: list[Mention], last: bool) -> int:
        people = [m for m in found if self.entities[m.entity].type == "person"]
        pool = people or found
        return (pool[-1] if last else pool[0]).entity

    def _pronoun_in(self, start: int, end: int) -> bool:
        return any(m.group().lower() in _PRONOUNS for m in _WORD.finditer(self.body, start, end))

    def _last_person_before(self, pos: int) -> int | None:
        i = bisect_right(self.starts, pos) - 1
        while i >= 0:
            m = self.mentions[i]
            if self.entities[m.entity].type == "person":
                return m.entity
            i -= 1
        return None
