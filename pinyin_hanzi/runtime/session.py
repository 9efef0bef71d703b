"""A typing session: the state of one user's input, on top of a shared Converter.

Modelled on libime's PinyinContext. Keys are typed (`type`, `backspace`); `candidates()`
offers whole-input conversions first, then words and single hanzi for the input's first
syllables; `select(i)` takes one, and the rest of the input stays to be converted (picking
中国 for ``zhongguorenmin`` leaves ``renmin``); `commit()` returns the text and clears the
input. The keys are converted as going on from the text before them (`before`: the
committed context, then what is selected). The last syllable may be unfinished while typing
(``ni ha`` offers 你好) and syllables may be abbreviated (``zgrm``), as
`spelling.InputOptions` say.

With a `history` (runtime.history.UserHistory), what the user commits is remembered and
raises those candidates next time: the whole-input conversions are re-ranked by it, out of
twice `top_k` the converter offers.

A keystroke converts at most WINDOW syllables (and the one being typed), however long the
input: once the keys hold more, the first of them are fixed to the hanzi of the best
conversion at that keystroke, which saw WINDOW syllables after them, as libime and Rime fix
the start of a long sentence. The whole-input candidates are the fixed hanzi, then the
conversions of the rest as going on from them. Deleting keys frees the last fixed syllables
again, so that WINDOW are converted (all of them once the input is no longer); selecting a
part frees them all unless it is what they were fixed to.

A Session holds only its own state, so one Converter serves many sessions from many threads;
a Session itself is for one thread.

    from pinyin_hanzi import Converter
    from pinyin_hanzi.runtime.session import Session
    s = Session(Converter.load())
    s.type("zhongguorenmin"); s.candidates()[0].text   # '中国人民'
    s.select(0); s.commit()                            # '中国人民'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..lm.words import BOUNDARY, KEY_SYLLABLES, MAX_WORD_LEN
from ..pinyin import PinyinError
from ..segment import MAX_INPUT_SYLLABLES, check_chars, too_many_syllables
from ..spelling import InputOptions
from .converter import MAX_TOP_K, Converter
from .history import UserHistory

__all__ = ["Session", "SessionCandidate", "CONTEXT_CHARS"]

CONTEXT_CHARS = 32  # committed text kept as left context
WORDS_PER_LENGTH = 3  # lexicon words offered per prefix length
SINGLES = 5  # single hanzi offered for the first syllable
# A keystroke converts at most this many syllables; those before them are fixed, so that a
# key's work stops growing with the input (late letters of long clauses took up to 82 ms).
# Chosen on test clauses of pd98 and reviews typed a key at a time (dev/EXPERIMENTS.md,
# session 18: 10 lost 1.4 clause points on clauses of 11+ syllables, 12 lost 0.3).
WINDOW = 12
SLACK = 6  # ... or up to WINDOW + SLACK, while a word spans every place to stop fixing


@dataclass(frozen=True)
class SessionCandidate:
    """`text` for the first `length` characters of the pending input (`Session.keys`)."""

    text: str
    score: float
    length: int


class _Fixed(NamedTuple):
    """A syllable at the start of the keys, fixed to `text` (one hanzi)."""

    text: str
    end: int  # where its keys end in Session.keys
    after: int  # where the next syllable starts (past separators)
    group: frozenset[str]  # the syllables it may stand for (Converter.parse's sets)
    word_end: bool  # the last of the syllables fixed at once: no word goes on past it


@dataclass
class Session:
    converter: Converter
    top_k: int = 5
    options: InputOptions = field(default_factory=lambda: InputOptions(complete_last=True))
    keys: str = ""
    """What is typed and not yet converted."""
    context: str = ""
    """The last CONTEXT_CHARS characters committed in this session."""
    history: UserHistory | None = None
    """What the user committed before; None: nothing is learned."""
    _selected: list[tuple[str, str]] = field(default_factory=list)  # (text, the keys it took)
    _cache: tuple[tuple, list[SessionCandidate]] | None = None  # (what they depend on, them)
    # By place in _selected: (text, nats behind) of a whole conversion picked over the first,
    # which the history is told at the commit (UserHistory.remember's picks).
    _picks: dict[int, tuple[str, float]] = field(default_factory=dict)
    _fixed: list[_Fixed] = field(default_factory=list)  # the first syllables, fixed
    _fixed_keys: str = ""  # the keys they were fixed on (they stand while the keys start so)

    @property
    def preedit(self) -> str:
        """What the input line shows: the selected text, then the keys left."""
        return "".join(text for text, _ in self._selected) + self.keys

    def type(self, keys: str) -> None:
        self.keys += keys

    def backspace(self) -> None:
        """Delete the last key; with no keys left, undo the last selection."""
        if self.keys:
            self.keys = self.keys[:-1]
        elif self._selected:
            self.keys = self._selected.pop()[1]
            self._picks.pop(len(self._selected), None)
            self._fixed = []

    @property
    def before(self) -> str:
        """The text before the pending keys: the context, then what is selected so far. The
        keys are converted as going on from it (Converter.convert's context)."""
        return (self.context + "".join(text for text, _ in self._selected))[-CONTEXT_CHARS:]

    def candidates(self) -> list[SessionCandidate]:
        """Whole-input conversions (best first), then lexicon words for the first syllables
        (longest first), then single hanzi for the first. Empty when nothing is typed; raises
        PinyinError when the keys are no pinyin (the caller shows the keys as they are)."""
        keys = self.keys.rstrip(" '")
        if not keys.strip(" '"):
            return []
        before = self.before
        depends = (keys, before, self.history.version if self.history is not None else 0)
        if self._cache is not None and self._cache[0] == depends:
            return self._cache[1]
        conv = self.converter
        fixed = self._still_fixed(keys)
        start = fixed[-1].after if fixed else 0
        seg, sets = conv.parse(keys[start:], self.options)
        if fixed and len(sets) < WINDOW:  # keys were deleted: free some, to convert WINDOW
            del fixed[max(0, len(fixed) - (WINDOW - len(sets))):]
            while fixed and not fixed[-1].word_end:
                fixed.pop()
            start = fixed[-1].after if fixed else 0
            seg, sets = conv.parse(keys[start:], self.options)
        rest, head = keys[start:], "".join(f.text for f in fixed)
        if fixed:
            _check_length(keys, fixed, start, seg)
        learned = self.history is not None and len(self.history) > 0
        asked = min(MAX_TOP_K, self.top_k * (2 if learned else 1))  # the converter's cap
        whole = [SessionCandidate(head + c.text, c.score + (
                     self.history.bonus(head + c.text) if learned else 0.0), len(keys))
                 for c in conv.convert(rest, asked, options=self.options,
                                       context=(before + head)[-CONTEXT_CHARS:])]
        whole = sorted(whole, key=lambda c: -c.score)[:self.top_k]
        # The first syllables, fixed or not: what the parts are looked up over.
        first = KEY_SYLLABLES + 1
        groups = [f.group for f in fixed[:first]] + list(sets[:first - len(fixed[:first])])
        ends = [f.end for f in fixed[:first]] + [start + b for _, b in seg.spans[:first]]
        parts: list[SessionCandidate] = []
        seen = {c.text for c in whole}
        if conv.word_lm is not None and len(fixed) + len(sets) > 1:
            lm = conv.word_lm
            by_length: dict[int, list[tuple[int, str]]] = {}
            # Only words from the first syllable: lm.matching(sets) finds them from every
            # position, 2.2 M words for `z`*64 typed a key at a time (a third of its time).
            for length in range(2, min(KEY_SYLLABLES, len(fixed) + len(sets) - 1) + 1):
                for reading, word in lm.span_words(tuple(groups[:length])):
                    by_length.setdefault(length, []).append(
                        (int(lm.count(word)), lm.word(word)))
            for length in sorted(by_length, reverse=True):
                best = sorted(by_length[length], key=lambda cw: -cw[0])
                for count, text in best[:WORDS_PER_LENGTH]:
                    if text not in seen:
                        seen.add(text)
                        parts.append(SessionCandidate(text, float(count), ends[length - 1]))
        singles = [(h, rank) for s in groups[0] for rank, h in
                   enumerate(conv.vocab.candidates[s][:SINGLES])]
        singles.sort(key=lambda hr: hr[1])
        for hanzi, _ in singles:
            if len(parts) >= len(whole) + SINGLES * 3 or hanzi in seen:
                continue
            seen.add(hanzi)
            parts.append(SessionCandidate(hanzi, 0.0, ends[0]))
        out = whole + parts[:WORDS_PER_LENGTH * 8 + SINGLES]
        self._cache = (depends, out)
        if len(sets) > WINDOW and whole:
            self._fix(keys, start, seg, sets, whole[0].text[len(head):])
        return out

    def _still_fixed(self, keys: str) -> list[_Fixed]:
        """The fixed syllables that still stand before `keys`: their keys unchanged and some
        keys after them (the others are freed)."""
        fixed = self._fixed
        while fixed and not (keys.startswith(self._fixed_keys[:fixed[-1].after])
                             and keys[fixed[-1].after:].strip(" '")):
            fixed.pop()
        return fixed

    def _fix(self, keys: str, start: int, seg, sets, text: str) -> None:
        """Fix the first syllables of `keys[start:]` (parsed as `seg`, `sets`) to the hanzi
        `text` the best conversion read them as, up to a word's end (`_cut`)."""
        if len(text) != len(sets):  # one hanzi a syllable, or nothing is fixed
            return
        spans, cut = seg.spans, self._cut(sets, text)
        for i in range(cut):
            self._fixed.append(_Fixed(text[i], start + spans[i][1], start + spans[i + 1][0],
                                      sets[i], i == cut - 1))
        if self._fixed:
            self._fixed_keys = keys[:self._fixed[-1].after]

    def _cut(self, sets, text: str) -> int:
        """How many syllables to fix, leaving at least WINDOW: up to the last word's end in
        `text` cut into its likeliest words (a word is never split: fixing 天 of 天津市 had
        the rest read as going on from 天, 仅是); none while one word spans every place,
        unless the rest is longer than WINDOW + SLACK."""
        last = len(sets) - WINDOW
        lm = self.converter.word_lm
        if lm is None:
            return last
        near = min(len(sets), last + MAX_WORD_LEN)  # the words that may end by `last`
        ends = _word_ends(lm, self.converter.vocab.candidates, sets[:near], text[:near])
        cut = max((end for end in ends if end <= last), default=0)
        return cut if cut or len(sets) <= WINDOW + SLACK else last

    def predictions(self, k: int = 5) -> list[str]:
        """After a commit (联想): the `k` words the word model most often saw after the last
        word of the context; [] without a word model. Well under a millisecond."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 0:  # -1 gave ~40 words
            raise ValueError(f"k must be a whole number >= 0, got {k!r}")
        lm = self.converter.word_lm
        return lm.next_words(self.context, k) if lm is not None else []

    def select(self, index: int) -> str | None:
        """Take candidate `index` for its part of the input. Returns the committed text when
        that used up the input (as `commit` would), else None: the rest stays pending."""
        cands = self.candidates()
        if not 0 <= index < len(cands):
            raise IndexError(f"candidate {index} out of range: there are {len(cands)}")
        chosen = cands[index]
        taken, rest = self.keys[:chosen.length], self.keys[chosen.length:]
        before = list(self._selected), self.keys
        first = cands[0]
        if index and chosen.length == first.length and first.score > chosen.score:
            self._picks[len(self._selected)] = (chosen.text, first.score - chosen.score)
        self._selected.append((chosen.text, taken))
        self.keys = rest.lstrip(" '")
        if not self.keys.strip(" '"):
            try:
                return self.commit()
            except Exception:  # the history could not be saved: not selected either
                self._selected, self.keys = before
                self._picks.pop(len(self._selected), None)
                raise
        self._keep_fixed_after(chosen, len(before[1]) - len(self.keys))
        return None

    def _keep_fixed_after(self, chosen: SessionCandidate, shift: int) -> None:
        """After `chosen` is selected (and the keys' first `shift` taken): the fixed syllables
        after it still stand if it is what its own were fixed to; else all are freed (they
        were read as going on from other hanzi)."""
        fixed = self._fixed
        taken = next((i + 1 for i, f in enumerate(fixed) if f.end == chosen.length), 0)
        if taken and "".join(f.text for f in fixed[:taken]) == chosen.text:
            self._fixed = [f._replace(end=f.end - shift, after=f.after - shift)
                           for f in fixed[taken:]]
            self._fixed_keys = self._fixed_keys[shift:]
        else:
            self._fixed = []

    def commit(self) -> str:
        """The selected text plus the best conversion of the keys left (as they are if they
        are no pinyin); clears the input and remembers the text as context (and in the
        history, which is saved when it has a file). When the history cannot be saved, raises
        history.HistoryWriteError and the session is as it was: the keys stay to commit again."""
        text = "".join(t for t, _ in self._selected)
        rest = self.keys.strip(" '")
        if rest:
            try:
                best = self.candidates()
                text += best[0].text if best else rest
            except PinyinError:
                text += rest
        if self.history is not None and text:
            # first: if it fails, nothing below has happened
            self.history.record(text, picks=list(self._picks.values()))
        self.context = (self.context + text)[-CONTEXT_CHARS:]
        self._selected, self.keys, self._cache, self._fixed = [], "", None, []
        self._picks = {}
        return text

    def reset(self) -> None:
        """Drop the input and the selections (the context stays)."""
        self._selected, self.keys, self._cache, self._fixed = [], "", None, []
        self._picks = {}


def _word_ends(word_lm, candidates: dict[str, list[str]], sets, text: str) -> list[int]:
    """Where the words of `text` (one hanzi a syllable of `sets`) end when it is cut into
    its likeliest lexicon words by their frequency (a unigram model, as jieba cuts)."""
    reading = [next((s for s in sorted(group) if h in candidates.get(s, ())), min(group))
               for group, h in zip(sets, text)]  # one syllable each, to look words up by
    words: list[list[tuple[int, int]]] = [[(1, word_lm.word_id(h))] for h in text]
    for i, length, word in word_lm.lexicon(reading):
        if word_lm.word(word) == text[i:i + length]:
            words[i].append((length, word))
    ids = np.array([w for here in words for _, w in here])
    counts = np.where(ids >= 0, word_lm.count(np.maximum(ids, 0)), 0)
    total = math.log(word_lm.total - int(word_lm.count(BOUNDARY)))  # words, not clauses
    logp = {w: math.log(c + 1) - total for w, c in zip(ids.tolist(), counts.tolist())}
    best, step = [0.0] * (len(text) + 1), [1] * (len(text) + 1)
    for i in range(len(text) - 1, -1, -1):
        best[i], step[i] = max((logp[w] + best[i + n], n) for n, w in words[i])
    ends, i = [], 0
    while i < len(text):
        i += step[i]
        ends.append(i)
    return ends


def _check_length(keys: str, fixed: list[_Fixed], start: int, seg) -> None:
    """The converter's limits on the whole input (segment.MAX_INPUT_SYLLABLES and
    MAX_INPUT_CHARS), which it sees only in part once the first syllables are fixed:
    `keys[start:]`, parsed as `seg`, follows the `fixed` syllables."""
    check_chars(keys)
    syllables = len(fixed) + len(seg.spans)
    if syllables > MAX_INPUT_SYLLABLES:
        at = start + seg.spans[MAX_INPUT_SYLLABLES - len(fixed)][0]
        raise too_many_syllables(keys, syllables, at)
