"""Word-frequency priors: wordfreq's Chinese list as the word model reads it."""

import pytest

from pinyin_hanzi.lm.priors import MAX_PRIOR_WORD_LEN, prior_counts, wordfreq_prior


def test_wordfreq_prior_is_simplified_hanzi_words_with_frequencies():
    prior = wordfreq_prior(min_frequency=1e-6)
    assert prior["的"] > prior["我们"] > prior["鼠标"] > 0
    assert all("\u4e00" <= c <= "\u9fff" for w in prior for c in w)
    assert all(len(w) <= MAX_PRIOR_WORD_LEN for w in prior)
    assert "這個" not in prior and "这个" in prior  # traditional forms are folded in
    assert sum(prior.values()) < 1


@pytest.mark.parametrize("weight, expected", [(1.0, {"甲": 50, "乙": 1}), (0.03, {"甲": 2}),
                                              (0.001, {})])
def test_prior_counts_scale_with_the_corpus_and_the_weight(weight, expected):
    """Pseudo-counts = frequency x weight x corpus words (100), rounded; zeros left out."""
    assert prior_counts({"甲": 0.5, "乙": 0.01, "丙": 0.001}, 100, weight) == expected
