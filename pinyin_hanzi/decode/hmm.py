"""The classic HMM of pinyin engines, the baseline the encoder is measured against: hidden
characters scored by a character n-gram (lm/ngram.py), each emitting its syllable with
P(syllable | character) counted in the same training text (lm.corpus.pair_counts), decoded
with a beam over the candidate lattice. It needs no encoder."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from ..lm.ngram import CharNgram
from ..segment import segment
from .beam import beam_search
from .config import Candidate


class NgramConverter:
    """The HMM baseline: n-gram over characters, P(syllable | character) emissions."""

    def __init__(self, lm: CharNgram, vocab, pair_counts: Counter, beam: int = 16):
        self.lm, self.vocab, self.beam = lm, vocab, beam
        char_totals: Counter = Counter()
        for (_, char), n in pair_counts.items():
            char_totals[char] += n
        self.emission = {}
        for syllable, chars in vocab.candidates.items():
            ids, logps = [], []
            for char in chars:
                # Add-0.5 smoothing keeps readings pypinyin lists but the corpus never used.
                p = (pair_counts.get((syllable, char), 0) + 0.5) / (char_totals[char] + 2)
                ids.append(vocab.hanzi_id[char])
                logps.append(math.log(p))
            self.emission[syllable] = (ids, logps)

    def convert_many(self, texts: list[str], k: int = 5) -> list[list[Candidate]]:
        """Typed pinyin -> candidates, using the segmenter's best split."""
        return [self.convert_syllables(list(segment(t).syllables), k) for t in texts]

    def convert_syllables(self, syllables: list[str], k: int = 5) -> list[Candidate]:
        positions = []
        for s in syllables:
            ids, logps = self.emission.get(s, ([], []))
            if not ids:
                raise ValueError(f"no hanzi known for syllable {s!r}")
            positions.append((np.array(ids), np.array(logps)))
        return beam_search(positions, self.vocab.hanzi, k, beam=self.beam, lm=self.lm,
                           lm_weight=1.0)
