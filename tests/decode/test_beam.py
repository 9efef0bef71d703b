"""Tests for pinyin_hanzi.decode.beam: the per-position best hanzi and the beam search, with
and without the character n-gram, against a plain reference."""

import heapq
import itertools

import numpy as np
import pytest

from pinyin_hanzi.decode.beam import beam_search, top_candidates
from pinyin_hanzi.decode.config import Candidate
from pinyin_hanzi.lm.ngram import CharNgram

TOY = ["我们好", "你们好", "我好", "好好学习", "银行行走"]


@pytest.mark.parametrize(
    "logprobs, allowed, width, ids",
    [
        ([-3.0, -1.0, -2.0, -0.5], [True, True, True, False], 2, [1, 2]),
        ([-3.0, -1.0, -2.0, -0.5], [True, True, True, True], 8, [3, 1, 2, 0]),
        ([-3.0, -1.0, -2.0, -0.5], [True, False, False, False], 2, [0]),
        ([-3.0, -1.0, -2.0, -0.5], [False, False, False, False], 2, []),
        ([-1.0, -2.0, -1.0, -1.0], [True, True, True, True], 2, [0, 2]),  # ties: as given
    ],
)
def test_top_candidates(logprobs, allowed, width, ids):
    ids_allowed = np.flatnonzero(allowed)
    got_ids, got_logprobs = top_candidates(ids_allowed, np.array(logprobs)[ids_allowed], width)
    assert got_ids.tolist() == ids
    assert got_logprobs.tolist() == [logprobs[i] for i in ids]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [1, 5, 24, 50])
def test_beam_search_without_lm_is_the_exact_top_k(seed, k):
    rng = np.random.default_rng(seed)
    hanzi = list("你尼泥好号浩中种重国果过")
    positions = []
    for ids in ([0, 1, 2], [3, 4, 5, 6], [7, 8]):  # 3 * 4 * 2 = 24 clauses
        logps = np.log(rng.dirichlet(np.ones(len(ids))))
        order = np.argsort(-logps)
        positions.append((np.array(ids)[order], logps[order]))
    brute = sorted(((sum(lp for _, lp in combo), "".join(hanzi[i] for i, _ in combo))
                    for combo in itertools.product(*(list(zip(ids, lps))
                                                     for ids, lps in positions))),
                   reverse=True)[:k]
    found = beam_search(positions, hanzi, k)
    assert [c.text for c in found] == [text for _, text in brute]
    assert [c.score for c in found] == pytest.approx([score for score, _ in brute])


def reference_beam_search(positions, hanzi, k, beam=0, lm=None, lm_weight=0.0, before=""):
    """beam_search as first written, one string and one n-gram question at a time: the
    reference the batched version must match."""
    beam = max(beam, k)
    hyps = [(0.0, "")]
    for ids, logps in positions:
        extended = []
        for score, text in hyps:
            for h, lp in zip(ids.tolist(), logps.tolist()):
                s = score + lp
                if lm is not None and lm_weight:
                    s += lm_weight * lm.logprob(before + text, hanzi[h])
                extended.append((s, text + hanzi[h]))
        hyps = heapq.nlargest(beam, extended)
    if lm is not None and lm_weight:
        hyps = sorted(((s + lm_weight * lm.end_logprob(before + t), t) for s, t in hyps),
                      reverse=True)
    return [Candidate(text, float(score)) for score, text in hyps[:k]]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("before", ["", "银", "学习"])
def test_beam_search_with_an_ngram_matches_the_reference(seed, order, before):
    """Same texts, same scores; log-probs drawn from a few values, so many scores tie."""
    rng = np.random.default_rng(seed)
    hanzi = list("我们你好银行走学习龘")
    lm = CharNgram.train(TOY, order)
    positions = []
    for _ in range(5):
        ids = rng.choice(len(hanzi), size=4, replace=False)
        logps = np.sort(rng.choice([-0.5, -1.0, -2.0], size=4))[::-1].astype(np.float32)
        positions.append((ids, logps))
    for k, beam in [(1, 3), (5, 4), (10, 16)]:
        assert (beam_search(positions, hanzi, k, beam, lm, 0.7, before)
                == reference_beam_search(positions, hanzi, k, beam, lm, 0.7, before))
