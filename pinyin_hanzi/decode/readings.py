"""The likeliest whole readings of an input whose positions each allow several syllables.

An abbreviated, unfinished or fuzzy input (spelling.py) allows, per position, a set of
syllables: ``zgrm`` allows ~40 x 20 x 20 x 20 readings. The encoder reads one syllable per
position, so the few readings worth its time are chosen first, as libime and Rime choose:
by the word model over the lexicon words that fit (`WordLM.span_words`) and single hanzi, a
beam search left to right whose paths are kept for the last few inputs, so that a keystroke
searches only the positions it changed. Each chosen reading is then converted like typed
pinyin and the candidates merged (runtime/converter.py). The search is bounded as libime
bounds its lattice, so that no input costs much more than whole pinyin: `beam` states a
position, and each span's ARCS most frequent words (`z`*64 allows ~1,250 a position). Its
two inner loops, a span's lexicon words and the scores of a position's extensions, are
compiled (decode/_lattice.pyx, `Lattice.reading_arcs` and `reading_extensions`); the numpy
code here gives the same readings when the extension is not built.
"""

from __future__ import annotations

import bisect
import functools
import threading
from collections import OrderedDict

import numpy as np

from ..lm.words import BOUNDARY, KEY_SYLLABLES

try:
    from ._lattice import Lattice
except ImportError:  # not built: the numpy search, same readings, several times slower
    Lattice = None

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
# On 100 clauses of each bench/input_forms.py variant (bench/adversarial.py --budget-clauses),
# 32 kept every top-1 of the unbounded search; 16 lost 2.3 points of initials' characters.
ARCS = 32
ARC_CACHE = 512  # spans whose arcs are remembered (a keystroke asks for the same ones again)
# The compiled search ranks a position's KEEP x beam best extensions; only when those hold
# fewer than `beam` distinct states (paths that differ only in an earlier word) are all ranked.
KEEP = 4

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
                 arcs: int = ARCS, compiled: bool = True):
        """compiled=False, or the extension not built: the numpy search (same readings)."""
        self.word_lm, self.vocab = word_lm, vocab
        self.beam, self.word_bonus, self.arcs = beam, word_bonus, arcs
        self._arcs = functools.lru_cache(ARC_CACHE)(self._arcs_uncached)
        self._lattice = (Lattice(word_lm, None, vocab.hanzi, vocab.hanzi_id)
                         if compiled and Lattice is not None else None)
        self._digits = functools.lru_cache(ARC_CACHE)(self._digits_uncached)
        self._recent: OrderedDict[tuple, list[list[State]]] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self):
        """Forget the kept paths and the spans' arcs."""
        with self._lock:
            self._recent.clear()
        self._arcs.cache_clear()
        self._digits.cache_clear()

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
        if self._lattice is not None:
            return self._arrive_compiled(sets, q, paths)
        blocks = []  # (paths it extends, the span's arcs and words, each path's previous word)
        previous, following = [], []  # each distinct previous word of a block x its words
        for start in range(q - 1, max(-1, q - 1 - MAX_SPAN), -1):
            arcs, words = self._arcs(sets[start:q])
            here = paths[start]
            if len(arcs) and here:
                # Paths often end with the same word (half to four fifths of the questions
                # were asked twice): each is asked once.
                distinct, which = np.unique([p for _, p, _ in here], return_inverse=True)
                blocks.append((here, arcs, words, which))
                previous.append(np.repeat(distinct, len(words)))
                following.append(np.tile(words, len(distinct)))
        if not blocks:
            return []
        logprobs = self.word_lm.logprobs(np.concatenate(previous), np.concatenate(following))
        parts, at = [], 0
        for (here, _, words, which), asked in zip(blocks, previous):
            grid = logprobs[at:at + len(asked)].reshape(-1, len(words))[which]
            at += len(asked)
            parts.append((np.array([s for s, _, _ in here])[:, None] + grid).ravel())
        scores = np.concatenate(parts) + self.word_bonus
        offsets = np.cumsum([len(h) * len(w) for h, _, w, _ in blocks]).tolist()
        # In the order the states were once listed (start, path, arc): ties go the same way.
        best: dict[tuple[int, tuple[str, ...]], State] = {}
        for flat in np.argsort(-scores, kind="stable").tolist():
            block = bisect.bisect_right(offsets, flat)
            here, arcs, words, _ = blocks[block]
            path, arc = divmod(flat - (offsets[block - 1] if block else 0), len(words))
            state = (float(scores[flat]), int(words[arc]), here[path][2] + arcs[arc])
            best.setdefault((state[1], state[2]), state)  # the first met scores best
            if len(best) == self.beam:
                break
        return list(best.values())

    def _arrive_compiled(self, sets: tuple[frozenset[str], ...], q: int,
                         paths: list[list[State]]) -> list[State]:
        """_arrive, the extensions scored and ranked by the compiled loop."""
        blocks = []  # (paths it extends, the span's arcs, its words)
        for start in range(q - 1, max(-1, q - 1 - MAX_SPAN), -1):
            arcs, words = self._arcs(sets[start:q])
            if len(arcs) and paths[start]:
                blocks.append((paths[start], arcs, words))
        if not blocks:
            return []
        offsets = np.cumsum([len(h) * len(w) for h, _, w in blocks]).tolist()
        scores, order = self._lattice.reading_extensions(
            [(h, w) for h, _, w in blocks], self.word_bonus, KEEP * self.beam)
        best = self._distinct(blocks, offsets, scores, order.tolist())
        if len(best) < self.beam and len(order) < len(scores):
            best = self._distinct(blocks, offsets, scores,
                                  np.argsort(-scores, kind="stable").tolist())
        return list(best.values())

    def _distinct(self, blocks, offsets, scores, order
                  ) -> dict[tuple[int, tuple[str, ...]], State]:
        """The first `beam` distinct (word, reading) states of the extensions in `order`."""
        best: dict[tuple[int, tuple[str, ...]], State] = {}
        for flat in order:
            block = bisect.bisect_right(offsets, flat)
            here, arcs, words = blocks[block]
            path, arc = divmod(flat - (offsets[block - 1] if block else 0), len(words))
            state = (float(scores[flat]), int(words[arc]), here[path][2] + arcs[arc])
            best.setdefault((state[1], state[2]), state)  # the first met scores best
            if len(best) == self.beam:
                break
        return best

    def _arcs_uncached(self, span: tuple[frozenset[str], ...]
                       ) -> tuple[list[tuple[str, ...]], np.ndarray]:
        """The readings and words of the arcs over `span`: the lexicon's words that fit it,
        or (one position) each syllable's SINGLES_PER_SYLLABLE most frequent hanzi; only the
        `arcs` most frequent, in the order listed."""
        lm = self.word_lm
        if len(span) > 1:
            return self._lexicon_arcs(span)
        found = [((syllable,), lm.word_id(hanzi)) for syllable in sorted(span[0])
                 for hanzi in self.vocab.candidates.get(syllable, ())[:SINGLES_PER_SYLLABLE]]
        words = np.array([w for _, w in found], dtype=np.int64)
        keep = self._most_frequent(words)
        return [found[i][0] for i in keep.tolist()], words[keep]

    def _most_frequent(self, words: np.ndarray) -> np.ndarray:
        """The places of the `arcs` most frequent of `words` (UNKNOWN least), in order."""
        if len(words) <= self.arcs:
            return np.arange(len(words))
        counts = np.where(words >= 0, self.word_lm.count(np.maximum(words, 0)), -1)
        return np.sort(np.argsort(-counts.astype(np.int64), kind="stable")[:self.arcs])

    def _lexicon_arcs(self, span: tuple[frozenset[str], ...]
                      ) -> tuple[list[tuple[str, ...]], np.ndarray]:
        """The lexicon's words that fit `span`, as WordLM.span_words lists them, but only the
        `arcs` most frequent spelled out: span_words builds a (reading, word) for each of
        thousands (`lnlnlhszy` at random: half the time of a 64-letter input)."""
        lm, length = self.word_lm, len(span)
        if self._lattice is not None:
            at = self._lattice.reading_arcs([self._digits(options) for options in span],
                                            self.arcs)
            words = lm.reading_words[at].astype(np.int64)
            return self._spelled(lm.reading_keys[at].tolist(), length), words
        _, lo, hi = lm.reading_runs(span)
        runs = hi - lo
        starts = np.cumsum(runs) - runs
        at = np.repeat(lo - starts, runs) + np.arange(runs.sum())
        words = lm.reading_words[at].astype(np.int64)
        keep = self._most_frequent(words)
        return self._spelled(lm.reading_keys[at[keep]].tolist(), length), words[keep]

    def _spelled(self, keys: list[int], length: int) -> list[tuple[str, ...]]:
        """Reading keys of `length` syllables as syllables."""
        return [self.word_lm.spelled(key, length) for key in keys]

    def _digits_uncached(self, options: frozenset[str]) -> np.ndarray:
        """A position's syllables as the lexicon's digits (WordLM.digits), remembered."""
        return self.word_lm.digits(options)
