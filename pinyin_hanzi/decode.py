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


def top_candidates(ids: np.ndarray, logprobs: np.ndarray, width: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """One position's candidate hanzi `ids` and their log-probs -> the `width` best (ids,
    log-probs), best first (ties: in the order given)."""
    order = np.argsort(-logprobs, kind="stable")[:width]  # (~50 candidates: sorting is cheap)
    return ids[order], logprobs[order]


def beam_search(positions: list[tuple[np.ndarray, np.ndarray]], hanzi: list[str], k: int,
                beam: int = 0, lm=None, lm_weight: float = 0.0) -> list[Candidate]:
    """positions[i] = (candidate hanzi ids, their log-probs), best first. Returns the k best
    distinct clauses, best first. `lm` (ngram.CharNgram) scores each position's candidates for
    every kept clause in one batch."""
    beam = max(beam, k)
    fused = lm is not None and lm_weight
    # Hypotheses: (score, text) pairs, and each text's n-gram history key.
    hyps: list[tuple[float, str]] = [(0.0, "")]
    histories = [lm.history("")] if fused else []
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
