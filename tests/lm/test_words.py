"""Tests for pinyin_hanzi.lm.words (the word bigram model over a pinyin-indexed lexicon) and
the training words lm.corpus reads for it."""

import math

import numpy as np
import pytest

from pinyin_hanzi.checkpoint import WORDLM_FILE
from pinyin_hanzi.lm.corpus import training_words
from pinyin_hanzi.lm.words import BOUNDARY, UNKNOWN, WordLM
from tiny_run import one_thread, shared_data

TOY = [
    (["我们", "喜欢", "银行"], ["wo men", "xi huan", "yin hang"]),
    (["我们", "行走"], ["wo men", "xing zou"]),
    (["取代", "了", "银行"], ["qu dai", "le", "yin hang"]),
    (["我们", "喜欢"], ["wo men", "xi huan"]),
]
LISTED = [("模拟", "mo ni"), ("取代", "qu dai"), ("长", "chang")]  # one-hanzi entries are skipped
LONG = ("长长久久的日子里", "chang chang jiu jiu de ri zi li")  # beyond a reading key


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with one_thread():
        yield


@pytest.mark.parametrize("prune", [1, 2])
@pytest.mark.parametrize("history", ["", "我们", "喜欢", "模拟", "了"])
def test_next_word_distributions_sum_to_one(prune, history):
    """Over every listed word and the clause end, the next-word probabilities sum to 1, with
    or without pruned bigrams, after a seen, a listed-only and the start history."""
    lm = WordLM.train(TOY, LISTED, prune=prune)
    h = lm.word_id(history)
    total = sum(math.exp(lm.logprob(h, w)) for w in range(len(lm)))
    assert total == pytest.approx(1, abs=1e-9)
    assert np.exp(lm.logprobs(h, np.arange(len(lm)))).sum() == pytest.approx(1, abs=1e-9)


# 的 is frequent, 罕见 rare: after 甲 and 乙, each seen twice, only 罕见 is a surprise.
SKEWED = [(["的"], ["de"])] * 20 + [(["甲", "的"], ["jia", "de"]),
                                   (["乙", "罕见"], ["yi", "han jian"])] * 2


def test_a_pair_budget_keeps_the_pairs_the_unigram_does_not_predict():
    """with_pairs(n) keeps n bigrams, the most informative: of two pairs seen twice each, the
    one whose word the unigram already predicts goes first (a count cut-off cannot tell
    them apart); every history's distribution still sums to 1."""
    lm = WordLM.train(SKEWED)
    w = lm.word_id
    assert lm.bigrams.lookup(w("甲"), w("的"))[0] == lm.bigrams.lookup(w("乙"), w("罕见"))[0] == 2
    smaller = lm.with_pairs(len(lm.bigrams) - 2)  # (罕见, clause end) goes too
    assert len(smaller.bigrams) == len(lm.bigrams) - 2
    assert smaller.bigrams.lookup(w("乙"), w("罕见"))[0] == 2
    assert smaller.bigrams.lookup(w("甲"), w("的"))[0] == 0
    for history in range(len(lm)):
        assert np.exp(smaller.logprobs(history, np.arange(len(lm)))).sum() == pytest.approx(
            1, abs=1e-9)
    assert lm.with_pairs(len(lm.bigrams)) is lm
    assert len(WordLM.train(SKEWED, max_pairs=3).bigrams) == 3
    with pytest.raises(ValueError, match="pairs"):
        lm.with_pairs(-1)


def test_words_given_out_of_order_are_renumbered_and_found():
    """from_lists keeps the words in code point order, which word_id's binary search needs:
    given in another order, they are renumbered with their counts, readings and pairs."""
    words = ["", "银行", "我们", "喜欢", "了", "阿"]
    lm = WordLM.from_lists(words, [5, 3, 9, 4, 2, 1],
                           [[], ["yin hang"], ["wo men"], ["xi huan"], ["le"], ["a"]],
                           prev=[2, 3, 0], nxt=[3, 1, 2], pair_counts=[4, 3, 5])
    assert [lm.word(i) for i in range(len(lm))] == sorted(words)
    for word, count in zip(words, [5, 3, 9, 4, 2, 1]):
        assert lm.word(lm.word_id(word)) == word and lm.count(lm.word_id(word)) == count
    assert lm.word_id("银") == lm.word_id("银行行") == lm.word_id("啊啊") == UNKNOWN
    we, like, bank = lm.word_id("我们"), lm.word_id("喜欢"), lm.word_id("银行")
    assert lm.bigrams.lookup(we, like)[0] == 4 and lm.bigrams.lookup(like, bank)[0] == 3
    assert lm.bigrams.lookup(BOUNDARY, we)[0] == 5
    assert lm.lexicon(["xi", "huan"]) == [(0, 2, like)]
    with pytest.raises(ValueError, match="boundary"):
        WordLM.from_lists(["我们", ""], [1, 1], [["wo men"], []], [], [], [])


def test_word_model_prefers_what_it_saw():
    lm = WordLM.train(TOY, LISTED)
    i = {lm.word(w): w for w in range(len(lm))}
    assert all(lm.word_id(word) == w for word, w in i.items())
    assert lm.logprob(i["我们"], i["喜欢"]) > lm.logprob(i["我们"], i["银行"])
    assert lm.logprob(BOUNDARY, i["我们"]) > lm.logprob(BOUNDARY, i["模拟"])
    # A listed-only word is in the lexicon with count 0: it lives on the add-alpha mass, the
    # floor that a lone hanzi the lexicon does not list also gets.
    assert lm.count(i["模拟"]) == 0 and lm.word_id("长") == UNKNOWN
    assert lm.logprob(BOUNDARY, i["模拟"]) == pytest.approx(lm.logprob(BOUNDARY, UNKNOWN))
    # After a hanzi the lexicon does not list, words get their unigram probabilities.
    assert lm.logprob(UNKNOWN, i["模拟"]) == pytest.approx(math.log(lm.floor))
    assert lm.logprob(UNKNOWN, i["我们"]) == pytest.approx(
        math.log((lm.count(i["我们"]) + lm.alpha) / lm.denominator))


def test_a_frequency_prior_raises_listed_words_and_adds_missing_ones():
    """prior_weight 1: the prior counts as much as the corpus (10 words in TOY)."""
    prior = {"模拟": 0.3, "鼠标": 0.2, "我们": 0.6, "长长久久的日子里啊": 0.1}
    plain = WordLM.train(TOY, LISTED)
    lm = WordLM.train(TOY, LISTED, prior=prior, prior_weight=1.0)
    assert lm.count(lm.word_id("模拟")) == 3 and plain.count(plain.word_id("模拟")) == 0
    assert lm.count(lm.word_id("我们")) == plain.count(plain.word_id("我们")) + 6
    # A word only the prior knows joins the lexicon, read by pypinyin; one too long does not.
    assert plain.word_id("鼠标") == UNKNOWN
    assert [lm.word(w) for _, _, w in lm.lexicon(["shu", "biao"])] == ["鼠标"]
    assert lm.word_id("长长久久的日子里啊") == UNKNOWN
    assert lm.logprob(BOUNDARY, lm.word_id("模拟")) > plain.logprob(BOUNDARY,
                                                                   plain.word_id("模拟"))
    # Weight 0 is no prior at all.
    same = WordLM.train(TOY, LISTED, prior=prior, prior_weight=0.0)
    assert np.array_equal(same.count(slice(None)), plain.count(slice(None))) and len(same) == len(plain)


@pytest.mark.parametrize(
    "syllables, found",
    [
        ("mo ni", [(0, 2, "模拟")]),
        ("qu dai le yin hang", [(0, 2, "取代"), (3, 2, "银行")]),
        ("wo men xi huan", [(0, 2, "我们"), (2, 2, "喜欢")]),
        ("xi huan wo men", [(0, 2, "喜欢"), (2, 2, "我们")]),
        ("wo", []),  # one syllable: single hanzi come from the encoder, not the lexicon
        ("men xi", []),
        ("mo zzz ni", []),  # a syllable the lexicon has never seen
    ],
)
def test_lexicon_finds_words_by_reading(syllables, found):
    lm = WordLM.train(TOY, LISTED)
    assert [(i, n, lm.word(w)) for i, n, w in lm.lexicon(syllables.split())] == found


def test_save_load_round_trip(tmp_path):
    lm = WordLM.train(TOY, LISTED, prune=1)
    lm.save(tmp_path / WORDLM_FILE)
    loaded = WordLM.load(tmp_path / WORDLM_FILE)
    assert [loaded.word(i) for i in range(len(loaded))] == [lm.word(i) for i in range(len(lm))]
    assert list(loaded.reading_keys) == list(lm.reading_keys)
    assert list(loaded.reading_words) == list(lm.reading_words)
    assert loaded._long_readings == lm._long_readings
    for mine, theirs in zip(loaded.bigrams.pairs(), lm.bigrams.pairs()):
        assert list(mine) == list(theirs)
    assert list(loaded.count(slice(None))) == list(lm.count(slice(None)))
    for h in range(len(lm)):
        for w in (BOUNDARY, 1, lm.word_id("模拟"), UNKNOWN):
            assert loaded.logprob(h, w) == lm.logprob(h, w)


def npz_bytes(**arrays) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content, error, message",
    [
        (None, FileNotFoundError, "word model file is missing"),
        (b"not a zip file", ValueError, "not a valid word model file"),
        (npz_bytes(format=np.frombuffer(b"other", dtype=np.uint8)), ValueError,
         "expected 'pinyin-hanzi-wordlm/3'"),
        (npz_bytes(format=np.frombuffer(b"pinyin-hanzi-wordlm/2", dtype=np.uint8)), ValueError,
         "expected 'pinyin-hanzi-wordlm/3'"),
        (npz_bytes(format=np.frombuffer(b"pinyin-hanzi-wordlm/3", dtype=np.uint8)), ValueError,
         "not a valid word model file"),
    ],
)
def test_load_errors_name_the_file(tmp_path, content, error, message):
    path = tmp_path / WORDLM_FILE
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error, match=message) as info:
        WordLM.load(path)
    assert WORDLM_FILE in str(info.value)


def test_load_rejects_bigrams_that_point_outside_the_lexicon(tmp_path):
    WordLM.train(TOY, LISTED).save(tmp_path / WORDLM_FILE)
    with np.load(tmp_path / WORDLM_FILE) as data:
        arrays = dict(data)
    arrays["bigram_next"][-1] = len(arrays["counts"]) + 5  # (the last row stays ascending)
    (tmp_path / WORDLM_FILE).write_bytes(npz_bytes(**arrays))
    with pytest.raises(ValueError, match="out of range"):
        WordLM.load(tmp_path / WORDLM_FILE)


@pytest.mark.parametrize("change, message", [
    (lambda a: a.update(reading_keys=a["reading_keys"][::-1].copy()), "not sorted"),
    (lambda a: a.update(reading_words=a["reading_words"][:-1]), "do not fit together"),
    (lambda a: a["long_words"].__setitem__(0, 999), "word index out of range"),
    (lambda a: a["long_readings"].__setitem__((0, 0), 999), "syllable out of range"),
])
def test_load_rejects_a_broken_reading_index(tmp_path, change, message):
    WordLM.train(TOY, LISTED + [LONG]).save(tmp_path / WORDLM_FILE)
    with np.load(tmp_path / WORDLM_FILE) as data:
        arrays = dict(data)
    change(arrays)
    (tmp_path / WORDLM_FILE).write_bytes(npz_bytes(**arrays))
    with pytest.raises(ValueError, match=message):
        WordLM.load(tmp_path / WORDLM_FILE)


def test_training_words_follow_the_annotated_readings(tmp_path_factory):
    pairs = list(training_words(shared_data(tmp_path_factory), ()))
    assert pairs
    for words, readings in pairs[:200]:
        assert len(words) == len(readings)
        for word, reading in zip(words, readings):
            assert len(reading.split()) == len(word)


@pytest.mark.parametrize(
    "sets, found",
    [
        ([{"wo", "wa"}, {"men", "ma"}], [(0, "我们")]),
        ([{"wo"}, {"men"}, {"xi", "xing"}, {"huan", "zou"}],
         [(0, "我们"), (2, "喜欢"), (2, "行走")]),
        ([{"yin"}, {"hang", "xing"}], [(0, "银行")]),
        ([{"wo"}], []),
        ([{"wo"}, set()], []),
        ([{"zzz"}, {"men"}], []),
    ],
)
def test_matching_finds_words_whose_reading_fits(sets, found):
    lm = WordLM.train(TOY, LISTED)
    assert sorted((i, lm.word(w)) for i, _, w in lm.matching(sets)) == sorted(found)


def test_matching_agrees_with_a_scan_of_the_lexicon():
    lm = WordLM.train(TOY, LISTED)
    readings = {}
    for words, spelled in TOY + [([w], [r]) for w, r in LISTED]:
        for word, reading in zip(words, spelled):
            if len(word) > 1:
                readings.setdefault(word, set()).add(tuple(reading.split()))
    sets = [{"wo", "qu", "xi", "mo"}, {"men", "dai", "huan", "ni"}, {"xi", "le", "yin"},
            {"huan", "hang"}]
    expected = {(start, reading, word) for word, rs in readings.items() for reading in rs
                for start in range(len(sets) - len(reading) + 1)
                if all(s in sets[start + k] for k, s in enumerate(reading))}
    got = {(start, reading, lm.word(w)) for start, reading, w in lm.matching(sets)}
    assert got == expected and len(expected) >= 4


def test_next_words_follow_the_last_word_of_the_text():
    lm = WordLM.train(TOY, LISTED)
    frequent = lm.most_frequent(5)
    counts = [int(lm.count([lm.word_id(w)])[0]) for w in frequent]
    assert counts == sorted(counts, reverse=True) and len(frequent) == 5
    assert lm.next_words("今天我们")[:2] == ["喜欢", "行走"]  # 我们 喜欢 twice, 行走 once
    assert lm.next_words("今天我们", k=1) == ["喜欢"]
    assert lm.next_words("")[:2] == ["我们", "取代"]  # what clauses start with
    assert lm.next_words("取代了")[0] == "银行"  # 了, the longest word it ends with
    # Only ever followed by the clause's end, or not a word: the most frequent words.
    assert lm.next_words("喜欢银行") == frequent
    assert lm.next_words("猫") == frequent and lm.last_word("猫") == UNKNOWN
    assert lm.next_words("今天我们") == ["喜欢", "行走"] + [
        w for w in frequent if w not in ("喜欢", "行走")][:3]
