"""Tests for pinyin_hanzi.decode.readings: the likeliest readings of a many-syllable input."""

from pinyin_hanzi.decode.readings import likely_readings
from pinyin_hanzi.lm.words import WordLM
from pinyin_hanzi.pinyin import SYLLABLES
from pinyin_hanzi.vocab import Vocab

TOY = [
    (["我们", "喜欢", "银行"], ["wo men", "xi huan", "yin hang"]),
    (["我们", "行走"], ["wo men", "xing zou"]),
    (["我们", "喜欢"], ["wo men", "xi huan"]),
    (["你", "好"], ["ni", "hao"]),
]
CANDIDATES = {"wo": ["我"], "men": ["们", "门"], "xi": ["喜", "西"], "huan": ["欢", "换"],
              "xing": ["行"], "zou": ["走"], "yin": ["银"], "hang": ["行"], "ni": ["你"],
              "hao": ["好"], "wa": ["挖"], "ma": ["吗"], "xiang": ["想"], "hu": ["湖"]}


def model():
    lm = WordLM.train(TOY, [])
    hanzi = ["<unk>"] + sorted({h for hs in CANDIDATES.values() for h in hs})
    return lm, Vocab(sorted(SYLLABLES), hanzi, CANDIDATES)


def test_abbreviated_input_reads_as_the_words_it_fits():
    lm, vocab = model()
    sets = [{"wo", "wa"}, {"men", "ma"}, {"xi", "xiang", "xing"}, {"huan", "hu", "hang"}]
    found = likely_readings(lm, vocab, [frozenset(s) for s in sets], limit=3)
    assert found[0] == ("wo", "men", "xi", "huan")
    assert len(found) == len(set(found)) == 3
    for reading in found:
        assert all(s in group for s, group in zip(reading, sets))


def test_single_hanzi_fill_what_no_word_covers():
    lm, vocab = model()
    found = likely_readings(lm, vocab, [frozenset({"ni"}), frozenset({"hao", "hu"})], limit=5)
    assert set(found) == {("ni", "hao"), ("ni", "hu")} and found[0] == ("ni", "hao")


def test_no_reading_when_a_position_has_no_hanzi():
    lm, vocab = model()
    assert likely_readings(lm, vocab, [frozenset({"wo"}), frozenset({"zhuang"})]) == []
