"""Word-frequency priors: how common a word is in corpora far larger than ours.

Our training text is ~10^7 hanzi; a user types words it never says. A frequency list counted
over 10^8-10^9 words (wordfreq blends Wikipedia, subtitles, news, books and the web) tells the
word model that 鼠标 or 登录 are common even where our corpus is silent. `WordLM.train` adds
each listed word's frequency, scaled to our corpus and by a weight tuned on dev, to the word's
unigram count, and lets listed words our lexicon lacks join it.

    wordfreq_prior()   {word: relative frequency} of wordfreq's Chinese list (Apache-2.0 code,
                       CC-BY-SA 4.0 data; pip package `wordfreq`, version pinned)

The list is read from the installed package: nothing is fetched at run time.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..data.clean import HANZI_RUN, to_simplified

# Longer entries are phrases the lexicon's readings cannot hold (words.MAX_WORD_LEN).
MAX_PRIOR_WORD_LEN = 8


def wordfreq_prior(min_frequency: float = 1e-8) -> dict[str, float]:
    """wordfreq's Chinese words that are all hanzi, simplified, with their relative
    frequencies (words that simplify alike are summed)."""
    try:
        import wordfreq
    except ImportError:
        raise ValueError("the word prior needs the wordfreq package (pip install "
                         "wordfreq==3.1.1)") from None
    prior: dict[str, float] = {}
    for word, frequency in wordfreq.get_frequency_dict("zh").items():
        if frequency < min_frequency:
            break  # the list is ordered, most frequent first
        word = to_simplified(word)
        if len(word) <= MAX_PRIOR_WORD_LEN and HANZI_RUN.fullmatch(word):
            prior[word] = prior.get(word, 0.0) + frequency
    return prior


def prior_counts(prior: Mapping[str, float], corpus_words: int, weight: float
                 ) -> dict[str, int]:
    """Pseudo-counts: each word's prior frequency times `weight` times the corpus size in
    words, rounded; weight 1 makes the prior count as much as the corpus itself."""
    scale = weight * corpus_words
    counts = {}
    for word, frequency in prior.items():
        count = round(frequency * scale)
        if count > 0:
            counts[word] = count
    return counts
