"""The likeliest whole readings of an input whose positions each allow several syllables.

An abbreviated, unfinished or fuzzy input (spelling.py) allows, per position, a set of
syllables: ``zgrm`` allows ~40 x 20 x 20 x 20 readings. The encoder reads one syllable per
position, so the few readings worth its time are chosen first, as libime and Rime choose:
by the word model over the lexicon words that fit (`WordLM.matching`) and single hanzi, a
beam search left to right. Each chosen reading is then converted like typed pinyin and the
candidates merged (runtime/converter.py).
"""

from __future__ import annotations

import numpy as np

from ..lm.words import BOUNDARY

__all__ = ["likely_readings"]

SINGLES_PER_SYLLABLE = 2  # a syllable's most frequent hanzi, as one-character words


def likely_readings(word_lm, vocab, sets: list[frozenset[str]], limit: int = 4,
                    beam: int = 16, word_bonus: float = -4.0) -> list[tuple[str, ...]]:
    """Up to `limit` distinct readings (one syllable of sets[p] per position p), best first
    by the word model: each word's log-prob given the previous word, plus `word_bonus` per
    word (negative: fewer, longer words)."""
    n = len(sets)
    arcs: list[list[tuple[tuple[str, ...], int]]] = [[] for _ in range(n)]
    for start, reading, word in word_lm.matching(sets):
        arcs[start].append((reading, word))
    for p, options in enumerate(sets):
        for syllable in sorted(options):
            for hanzi in vocab.candidates.get(syllable, ())[:SINGLES_PER_SYLLABLE]:
                arcs[p].append(((syllable,), word_lm.word_id(hanzi)))
    # states[p]: (score, previous word, reading so far) of paths that end at position p.
    states: list[list[tuple[float, int, tuple[str, ...]]]] = [[] for _ in range(n + 1)]
    states[0] = [(0.0, BOUNDARY, ())]
    for p in range(n + 1):
        here = states[p] = _prune(states[p], beam)
        if p == n or not here or not arcs[p]:
            continue
        words = np.array([w for _, w in arcs[p]], dtype=np.int64)
        previous = np.array([prev for _, prev, _ in here], dtype=np.int64)
        gains = word_lm.logprobs(previous[:, None], words[None, :]) + word_bonus
        for (score, _, reading), row in zip(here, gains.tolist()):
            for (arc, word), gain in zip(arcs[p], row):
                states[p + len(arc)].append((score + gain, word, reading + arc))
    ends = states[n]
    if not ends:
        return []
    final = word_lm.logprobs(np.array([prev for _, prev, _ in ends]), BOUNDARY)
    ranked = sorted(((score + f, reading) for (score, _, reading), f
                     in zip(ends, final.tolist())), key=lambda x: -x[0])
    out: list[tuple[str, ...]] = []
    for _, reading in ranked:
        if reading not in out:
            out.append(reading)
            if len(out) == limit:
                break
    return out


def _prune(states, beam):
    """The `beam` best, one per (previous word, reading): the rest cannot do better."""
    best: dict[tuple[int, tuple[str, ...]], tuple[float, int, tuple[str, ...]]] = {}
    for state in states:
        key = (state[1], state[2])
        if key not in best or state[0] > best[key][0]:
            best[key] = state
    return sorted(best.values(), key=lambda s: -s[0])[:beam]
