"""The word-lattice decoder: the Transformer's per-syllable scores fused with the word model
(lm/words.py) and, optionally, the character n-gram.

Left to right over syllable positions; an arc is a lexicon word or one of the encoder's best
hanzi; a path scores the sum of the encoder's log-probs of its hanzi, plus `word_weight` times
the word model's log-prob, plus `word_bonus` per word, plus (with `lm_weight`) the weighted
character n-gram log-prob. At each position the search keeps the `beam` best distinct texts
that end there (a text reached twice keeps its better path; texts that tie, the first met) and
extends each by every arc that starts there: the single hanzi, then the lexicon's words whose
every hanzi is among its position's candidates. The search is compiled (_lattice.pyx, built at
install): an input method runs it on every keystroke.
"""

from __future__ import annotations

import heapq

import numpy as np

from ..lm.words import BOUNDARY
from ._lattice import Lattice
from .config import Candidate, DecodeConfig, clause_tail


class LatticeDecoder:
    def __init__(self, vocab, word_lm, char_lm, config: DecodeConfig):
        """vocab: the model's Vocab (its hanzi, hanzi_id and candidate_array); word_lm:
        lm.words.WordLM; char_lm: lm.ngram.CharNgram, used only when `config.lm_weight` is
        set. The compiled search is built here, once."""
        if word_lm is None:
            raise ValueError("the word-lattice decoder needs a word model")
        if config.lm_weight and char_lm is None:
            raise ValueError("the decode config weights a character n-gram, but none is given")
        self.vocab, self.config, self.word_lm = vocab, config, word_lm
        self.char_lm = char_lm if config.lm_weight else None
        self._lattice = Lattice(word_lm, self.char_lm, vocab.hanzi, vocab.hanzi_id)

    def decode(self, syllables: list[str], scores: list[np.ndarray], top_k: int,
               context: str = "") -> list[Candidate]:
        """scores[i]: the encoder's log-probs over syllable i's candidate hanzi
        (vocab.candidate_array); `context`: the text before the input (config.clause_tail).
        Returns the `top_k` best distinct clauses, best first."""
        return self.search(syllables, [(self.vocab.candidate_array(s), x)
                                       for s, x in zip(syllables, scores)], top_k, context)

    def search(self, syllables: list[str], positions: list[tuple[np.ndarray, np.ndarray]],
               top_k: int, context: str = "") -> list[Candidate]:
        """positions[i]: the hanzi syllable i may be (ids, ascending) and the encoder's
        log-probs of each; its `width` best (beam.top_candidates) are the one-character arcs
        there."""
        c = self.config
        beam = max(c.beam, top_k)
        tail = clause_tail(context)
        start_word = self.word_lm.last_word(tail)
        if not syllables:
            end = c.word_weight * self.word_lm.logprob(start_word, BOUNDARY)
            if self.char_lm is not None:
                end += c.lm_weight * self.char_lm.end_logprob(tail)
            return [Candidate("", float(0.0 + end))]
        # (The compiled search checks that there is one candidate set per syllable.)
        starts = np.zeros(len(positions) + 1, dtype=np.int64)
        np.cumsum([len(ids) for ids, _ in positions], out=starts[1:])
        none = [np.zeros(0)]  # so that no positions still reach the compiled check
        best = self._lattice.search(
            list(syllables),
            np.concatenate([ids for ids, _ in positions] + none).astype(np.int32),
            np.concatenate([x for _, x in positions] + none).astype(np.float32), starts,
            c.width, top_k, beam, c.word_weight, c.word_bonus,
            c.lm_weight if self.char_lm is not None else 0.0, start_word,
            self.char_lm.history(tail) if self.char_lm is not None else -1)
        # The compiled search returns the k best and any that tie the k-th: ties go to the
        # greater text.
        return [Candidate(text, float(score)) for score, text in heapq.nlargest(top_k, best)]
