"""Per-position scores -> an n-best list of whole-clause candidates.

The encoder gives, for every syllable, log-probabilities over that syllable's candidate hanzi.
A clause candidate's score is the sum over positions, plus, when a character n-gram model is
given (ngram.py), `lm_weight` times its log-probability: the shallow fusion an input method
uses to let a language model re-rank a lattice. Beam search over positions keeps `beam`
partial clauses; with no n-gram model the positions are independent and a beam of k returns
the exact k best.

Inputs longer than the model's window are scored in overlapping windows (`windows`), each
position taking its scores from the window where it sits furthest from an edge, so nothing is
ever truncated.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Candidate:
    text: str
    score: float
    """Log-probability of the clause (model, plus weighted n-gram model if fused)."""


def windows(n: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """Spans [start, end) of length <= size covering range(n), neighbours sharing `overlap`."""
    if n <= size:
        return [(0, n)]
    if not 0 <= overlap < size:
        raise ValueError(f"overlap must be in [0, {size}), got {overlap}")
    step = size - overlap
    spans = [(s, min(s + size, n)) for s in range(0, n - overlap, step)]
    if spans[-1][1] < n:
        spans.append((n - size, n))
    return spans


def owner_of_positions(n: int, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """For each position, (window index, offset in that window) of the window in which it is
    furthest from an edge: context on both sides is what the encoder needs."""
    owners = []
    for i in range(n):
        best = max(
            (min(i - a, b - 1 - i), w) for w, (a, b) in enumerate(spans) if a <= i < b)
        owners.append((best[1], i - spans[best[1]][0]))
    return owners


def top_candidates(logprobs: np.ndarray, allowed: np.ndarray, width: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """One position's log-probs over all hanzi -> its `width` best allowed (ids, log-probs)."""
    ids = np.flatnonzero(allowed)
    if len(ids) > width:
        ids = ids[np.argpartition(-logprobs[ids], width - 1)[:width]]
    ids = ids[np.argsort(-logprobs[ids], kind="stable")]
    return ids, logprobs[ids]


def beam_search(positions: list[tuple[np.ndarray, np.ndarray]], hanzi: list[str], k: int,
                beam: int = 0, lm=None, lm_weight: float = 0.0) -> list[Candidate]:
    """positions[i] = (candidate hanzi ids, their log-probs), best first. Returns the k best
    distinct clauses, best first."""
    beam = max(beam, k)
    # A hypothesis: (score, text). Python's heap is a min-heap, so keep the best `beam`.
    hyps: list[tuple[float, str]] = [(0.0, "")]
    for ids, logps in positions:
        extended = []
        for score, text in hyps:
            for h, lp in zip(ids.tolist(), logps.tolist()):
                char = hanzi[h]
                s = score + lp
                if lm is not None and lm_weight:
                    s += lm_weight * lm.logprob(text, char)
                extended.append((s, text + char))
        hyps = heapq.nlargest(beam, extended)
    if lm is not None and lm_weight:
        hyps = sorted(((s + lm_weight * lm.end_logprob(t), t) for s, t in hyps), reverse=True)
    return [Candidate(text, float(score)) for score, text in hyps[:k]]
