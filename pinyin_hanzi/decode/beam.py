"""Beam search over each position's best hanzi: per-position scores -> an n-best list of
whole-clause candidates.

The encoder gives, for every syllable, log-probabilities over that syllable's candidate hanzi.
A clause candidate's score is the sum over positions, plus, when a character n-gram model is
given (lm/ngram.py), `lm_weight` times its log-probability: the shallow fusion an input method
uses to let a language model re-rank a lattice. Beam search over positions keeps `beam`
partial clauses; with no n-gram model the positions are independent and a beam of k returns
the exact k best.
"""

from __future__ import annotations

import heapq

import numpy as np

from .config import Candidate, DecodeConfig, clause_tail


class BeamDecoder:
    """Each position's `width` best hanzi, searched with a beam; the character n-gram fused
    with `lm_weight` when the config gives it one."""

    def __init__(self, vocab, char_lm, config: DecodeConfig):
        if config.lm_weight and char_lm is None:
            raise ValueError("the decode config weights a character n-gram, but none is given")
        self.vocab, self.config = vocab, config
        self.char_lm = char_lm if config.lm_weight else None

    def decode(self, syllables: list[str], scores: list[np.ndarray], top_k: int,
               context: str = "") -> list[Candidate]:
        """scores[i]: the encoder's log-probs over syllable i's candidate hanzi
        (vocab.candidate_array); `context`: the text before the input (config.clause_tail).
        Returns the `top_k` best distinct clauses, best first."""
        c = self.config
        positions = [top_candidates(self.vocab.candidate_array(s), x, c.width)
                     for s, x in zip(syllables, scores)]
        return beam_search(positions, self.vocab.hanzi, top_k, c.beam, self.char_lm,
                           c.lm_weight, clause_tail(context))



def top_candidates(ids: np.ndarray, logprobs: np.ndarray, width: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """One position's candidate hanzi `ids` and their log-probs -> the `width` best (ids,
    log-probs), best first (ties: in the order given)."""
    order = np.argsort(-logprobs, kind="stable")[:width]  # (~50 candidates: sorting is cheap)
    return ids[order], logprobs[order]


def beam_search(positions: list[tuple[np.ndarray, np.ndarray]], hanzi: list[str], k: int,
                beam: int = 0, lm=None, lm_weight: float = 0.0, before: str = ""
                ) -> list[Candidate]:
    """positions[i] = (candidate hanzi ids, their log-probs), best first. Returns the k best
    distinct clauses, best first. `lm` (lm.ngram.CharNgram) scores each position's candidates for
    every kept clause in one batch, after the clause's text `before` the input."""
    beam = max(beam, k)
    fused = lm is not None and lm_weight
    # Hypotheses: (score, text) pairs, and each text's n-gram history key.
    hyps: list[tuple[float, str]] = [(0.0, "")]
    histories = [lm.history(before)] if fused else []
    for ids, logps in positions:
        chars = [hanzi[h] for h in ids.tolist()]
        scores = np.array([s for s, _ in hyps])[:, None] + np.asarray(logps, dtype=np.float64)
        if fused:
            char_ids = lm.ids("".join(chars))
            scores = scores + lm_weight * lm.logprobs(np.array(histories)[:, None], char_ids)
        flat = scores.ravel()
        keep = np.arange(len(flat))
        if len(flat) > beam:  # everything tied with the beam-th score; ties then go by text
            keep = np.flatnonzero(flat >= np.partition(flat, len(flat) - beam)[len(flat) - beam])
        extended = []
        for j in keep.tolist():
            h, c = divmod(j, len(chars))
            extended.append((float(flat[j]), hyps[h][1] + chars[c], h, c))
        best = heapq.nlargest(beam, extended, key=lambda e: (e[0], e[1]))
        if fused:
            histories = [lm.extend(histories[h], char_ids[c]) for _, _, h, c in best]
        hyps = [(s, text) for s, text, _, _ in best]
    if fused:
        end = lm.logprobs(np.array(histories, dtype=np.int64), lm.eos).tolist()
        hyps = sorted(((s + lm_weight * e, t) for (s, t), e in zip(hyps, end)), reverse=True)
    return [Candidate(text, float(score)) for score, text in hyps[:k]]
