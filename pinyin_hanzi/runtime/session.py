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

A Session holds only its own state, so one Converter serves many sessions from many threads;
a Session itself is for one thread.

    from pinyin_hanzi import Converter
    from pinyin_hanzi.runtime.session import Session
    s = Session(Converter.load())
    s.type("zhongguorenmin"); s.candidates()[0].text   # '中国人民'
    s.select(0); s.commit()                            # '中国人民'
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..lm.words import KEY_SYLLABLES
from ..pinyin import PinyinError
from ..spelling import InputOptions
from .converter import MAX_TOP_K, Converter
from .history import UserHistory

__all__ = ["Session", "SessionCandidate", "CONTEXT_CHARS"]

CONTEXT_CHARS = 32  # committed text kept as left context
WORDS_PER_LENGTH = 3  # lexicon words offered per prefix length
SINGLES = 5  # single hanzi offered for the first syllable


@dataclass(frozen=True)
class SessionCandidate:
    """`text` for the first `length` characters of the pending input (`Session.keys`)."""

    text: str
    score: float
    length: int


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
        learned = self.history is not None and len(self.history) > 0
        asked = min(MAX_TOP_K, self.top_k * (2 if learned else 1))  # the converter's cap
        whole = [SessionCandidate(c.text, c.score + (self.history.bonus(c.text) if learned
                                                     else 0.0), len(keys))
                 for c in conv.convert(keys, asked, options=self.options, context=before)]
        whole = sorted(whole, key=lambda c: -c.score)[:self.top_k]
        seg, sets = conv.parse(keys, self.options)
        parts: list[SessionCandidate] = []
        seen = {c.text for c in whole}
        if conv.word_lm is not None and len(sets) > 1:
            lm = conv.word_lm
            by_length: dict[int, list[tuple[int, str]]] = {}
            # Only words from the first syllable: lm.matching(sets) finds them from every
            # position, 2.2 M words for `z`*64 typed a key at a time (a third of its time).
            for length in range(2, min(KEY_SYLLABLES, len(sets) - 1) + 1):
                for reading, word in lm.span_words(tuple(sets[:length])):
                    by_length.setdefault(length, []).append(
                        (int(lm.count(word)), lm.word(word)))
            for length in sorted(by_length, reverse=True):
                best = sorted(by_length[length], key=lambda cw: -cw[0])
                for count, text in best[:WORDS_PER_LENGTH]:
                    if text not in seen:
                        seen.add(text)
                        parts.append(SessionCandidate(text, float(count), seg.spans[length - 1][1]))
        singles = [(h, rank) for s in sets[0] for rank, h in
                   enumerate(conv.vocab.candidates[s][:SINGLES])]
        singles.sort(key=lambda hr: hr[1])
        for hanzi, _ in singles:
            if len(parts) >= len(whole) + SINGLES * 3 or hanzi in seen:
                continue
            seen.add(hanzi)
            parts.append(SessionCandidate(hanzi, 0.0, seg.spans[0][1]))
        out = whole + parts[:WORDS_PER_LENGTH * 8 + SINGLES]
        self._cache = (depends, out)
        return out

    def predictions(self, k: int = 5) -> list[str]:
        """After a commit (联想): the `k` words the word model most often saw after the last
        word of the context; [] without a word model. The first call builds the word index
        (about 0.4 s for the shipped model); later ones take well under a millisecond."""
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
        return None

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
        self._selected, self.keys, self._cache = [], "", None
        self._picks = {}
        return text

    def reset(self) -> None:
        """Drop the input and the selections (the context stays)."""
        self._selected, self.keys, self._cache = [], "", None
        self._picks = {}
