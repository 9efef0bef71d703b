"""The likeliest whole readings of an input whose positions each allow several syllables.

An abbreviated, unfinished or fuzzy input (spelling.py) allows, per position, a set of
syllables: ``zgrm`` allows ~40 x 20 x 20 x 20 readings. The encoder reads one syllable per
position, so the few readings worth its time are chosen first, as libime and Rime choose:
by the word model over the lexicon words that fit (`WordLM.span_words`) and single hanzi, a
beam search left to right whose paths are kept for the last few inputs, so that a keystroke
searches only the positions it changed. Each chosen reading is then converted like typed
pinyin and the candidates merged (runtime/converter.py). The search is bounded as libime
bounds its lattice, so that no input costs much more than whole pinyin: `beam` states a
position, and each span's ARCS most frequent words (`z`*64 allows ~1,250 a position).
"""

from __future__ import annotations

import bisect
import functools
import threading
from collections import OrderedDict

import numpy as np

from ..lm.words import BOUNDARY, KEY_SYLLABLES

MAX_SPAN = KEY_SYLLABLES  # the longest word the lexicon's reading index holds

__all__ = ["ReadingSearch"]

SINGLES_PER_SYLLABLE = 4  # a syllable's most frequent hanzi, as one-character words
# Readings this far behind the best are not worth converting: on dev clauses, a margin of 8
# kept every point of accuracy of converting them all, at 3.7-5 readings an input instead of 6.
MARGIN = 8.0
RECENT = 8  # inputs whose paths are kept, so that the next keystroke reuses them
RECENT_MAX_LEN = 64  # longer inputs are not kept: nobody types them a key at a time
# The search's budget, as libime bounds its lattice: at most `beam` states a position, each
# extended by at most ARCS of each span's words, the most frequent. Unbounded, `z`*64 had
# ~1,250 arcs a position (1.3 s) and `l`*64 read with every fuzzy pair 1.26 M states (1.6 s).
ARCS = 32
ARC_CACHE = 512  # spans whose arcs are remembered (a keystroke asks for the same ones again)

State = tuple[float, int, tuple[str, ...]]  # (score, previous word, reading so far)


class ReadingSearch:
    """The likeliest whole readings of inputs whose positions each allow several syllables,
    for one word model and vocabulary.

    A path is scored by the word model: each word's log-prob given the previous word, plus
    `word_bonus` per word (negative: fewer, longer words), over the lexicon words that fit
    (`WordLM.span_words`) and each syllable's SINGLES_PER_SYLLABLE most frequent hanzi. The
    best paths ending at position q depend only on the sets before q, so the paths of the
    last RECENT inputs are kept: typing one more letter changes only the last set, and only
    the positions after the prefix it shares with a kept input are searched again. Safe to
    share between threads."""

    def __init__(self, word_lm, vocab, beam: int = 16, word_bonus: float = -4.0,
                 arcs: int = ARCS):
        self.word_lm, self.vocab = word_lm, vocab
        self.beam, self.word_bonus, self.arcs = beam, word_bonus, arcs
        self._arcs = functools.lru_cache(ARC_CACHE)(self._arcs_uncached)
        self._recent: OrderedDict[tuple, list[list[State]]] = OrderedDict()
        self._lock = threading.Lock()

    def readings(self, sets: list[frozenset[str]], limit: int = 4,
                 margin: float = MARGIN) -> list[tuple[str, ...]]:
        """Up to `limit` distinct readings (one syllable of sets[p] per position p), best
        first, none more than `margin` (log-prob) behind the best."""
        ends = self.paths(sets)[-1]
        if not ends:
            return []
        final = self.word_lm.logprobs(np.array([prev for _, prev, _ in ends]), BOUNDARY)
        ranked = sorted(((score + f, reading) for (score, _, reading), f
                         in zip(ends, final.tolist())), key=lambda x: -x[0])
        out: list[tuple[str, ...]] = []
        for score, reading in ranked:
            if score < ranked[0][0] - margin:
                break
            if reading not in out:
                out.append(reading)
                if len(out) == limit:
                    break
        return out

    def paths(self, sets: list[frozenset[str]]) -> list[list[State]]:
        """paths[q]: the `beam` best paths over sets[:q] (one per previous word and
        reading), q = 0..len(sets)."""
        sets = tuple(frozenset(s) for s in sets)
        with self._lock:
            kept = list(self._recent.items())
        shared, paths = 0, [[(0.0, BOUNDARY, ())]]
        for key, key_paths in kept:
            k = 0
            while k < min(len(key), len(sets)) and key[k] == sets[k]:
                k += 1
            if k > shared:
                shared, paths = k, key_paths
        paths = paths[:shared + 1]
        for q in range(shared + 1, len(sets) + 1):
            paths.append(self._arrive(sets, q, paths))
        if len(sets) <= RECENT_MAX_LEN:
            with self._lock:
                self._recent[sets] = paths
                self._recent.move_to_end(sets)
                while len(self._recent) > RECENT:
                    self._recent.popitem(last=False)
        return paths

    def _arrive(self, sets: tuple[frozenset[str], ...], q: int, paths: list[list[State]]
                ) -> list[State]:
        """The best paths that end at position q: those ending earlier, each extended by a
        word or hanzi that covers the sets up to q (at most `arcs` of each span: `_arcs`).
        Every extension is scored in one call; only the few that can survive become states."""
        blocks = []  # (paths it extends, the span's arcs and words), by start, latest first
        for start in range(q - 1, max(-1, q - 1 - MAX_SPAN), -1):
            arcs, words = self._arcs(sets[start:q])
            if len(arcs) and paths[start]:
                blocks.append((paths[start], arcs, words))
        if not blocks:
            return []
        previous = np.concatenate([np.repeat([p for _, p, _ in here], len(words))
                                   for here, _, words in blocks])
        following = np.concatenate([np.tile(words, len(here)) for here, _, words in blocks])
        before = np.concatenate([np.repeat([s for s, _, _ in here], len(words))
                                 for here, _, words in blocks])
        scores = before + self.word_lm.logprobs(previous, following) + self.word_bonus
        offsets = np.cumsum([len(h) * len(w) for h, _, w in blocks]).tolist()
        # In the order the states were once listed (start, path, arc): ties go the same way.
        best: dict[tuple[int, tuple[str, ...]], State] = {}
        for flat in np.argsort(-scores, kind="stable").tolist():
            block = bisect.bisect_right(offsets, flat)
            here, arcs, words = blocks[block]
            path, arc = divmod(flat - (offsets[block - 1] if block else 0), len(words))
            state = (float(scores[flat]), int(words[arc]), here[path][2] + arcs[arc])
            best.setdefault((state[1], state[2]), state)  # the first met scores best
            if len(best) == self.beam:
                break
        return list(best.values())

    def _arcs_uncached(self, span: tuple[frozenset[str], ...]
                       ) -> tuple[list[tuple[str, ...]], np.ndarray]:
        """The readings and words of the arcs over `span`: the lexicon's words that fit it,
        or (one position) each syllable's SINGLES_PER_SYLLABLE most frequent hanzi; only the
        `arcs` most frequent, in the order listed."""
        lm = self.word_lm
        if len(span) == 1:
            found = [((syllable,), lm.word_id(hanzi)) for syllable in sorted(span[0])
                     for hanzi in self.vocab.candidates.get(syllable, ())
                     [:SINGLES_PER_SYLLABLE]]
        else:
            found = list(lm.span_words(span))
        words = np.array([w for _, w in found], dtype=np.int64)
        if len(found) > self.arcs:
            counts = np.where(words >= 0, lm.count(np.maximum(words, 0)), -1)
            keep = np.sort(np.argsort(-counts.astype(np.int64), kind="stable")[:self.arcs])
            found, words = [found[i] for i in keep.tolist()], words[keep]
        return [reading for reading, _ in found], words
