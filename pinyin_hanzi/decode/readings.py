"""The likeliest whole readings of an input whose positions each allow several syllables.

An abbreviated, unfinished or fuzzy input (spelling.py) allows, per position, a set of
syllables: ``zgrm`` allows ~40 x 20 x 20 x 20 readings. The encoder reads one syllable per
position, so the few readings worth its time are chosen first, as libime and Rime choose:
by the word model over the lexicon words that fit (`WordLM.span_words`) and single hanzi, a
beam search left to right whose paths are kept for the last few inputs, so that a keystroke
searches only the positions it changed. Each chosen reading is then converted like typed
pinyin and the candidates merged (runtime/converter.py).
"""

from __future__ import annotations

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

    def __init__(self, word_lm, vocab, beam: int = 16, word_bonus: float = -4.0):
        self.word_lm, self.vocab = word_lm, vocab
        self.beam, self.word_bonus = beam, word_bonus
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
        word or hanzi that covers the sets up to q."""
        lm, found = self.word_lm, []
        for start in range(q - 1, max(-1, q - 1 - MAX_SPAN), -1):
            span = sets[start:q]
            if len(span) == 1:
                arcs = [((syllable,), lm.word_id(hanzi)) for syllable in sorted(span[0])
                        for hanzi in self.vocab.candidates.get(syllable, ())
                        [:SINGLES_PER_SYLLABLE]]
            else:
                arcs = lm.span_words(span)
            here = paths[start]
            if not arcs or not here:
                continue
            words = np.array([w for _, w in arcs], dtype=np.int64)
            previous = np.array([prev for _, prev, _ in here], dtype=np.int64)
            gains = lm.logprobs(previous[:, None], words[None, :]) + self.word_bonus
            for (score, _, reading), row in zip(here, gains.tolist()):
                for (arc, word), gain in zip(arcs, row):
                    found.append((score + gain, word, reading + arc))
        return _prune(found, self.beam)


def _prune(states: list[State], beam: int) -> list[State]:
    """The `beam` best, one per (previous word, reading): the rest cannot do better."""
    best: dict[tuple[int, tuple[str, ...]], State] = {}
    for state in states:
        key = (state[1], state[2])
        if key not in best or state[0] > best[key][0]:
            best[key] = state
    return sorted(best.values(), key=lambda s: -s[0])[:beam]
