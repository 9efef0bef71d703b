"""Gold polyphone examples from the dictionaries' text: literal entries in, marked examples out."""

import zipfile

import pytest

from pinyin_hanzi.data.sources import SourceError
from pinyin_hanzi.g2p.data import read_marked
from pinyin_hanzi.g2p.dictionary import (char_examples, dictionary_gold, phrase_examples,
                                         write_marked)

ENTRY = ("[háng]1.行列：双~。杨柳成~。2.见〖树行子〗。[xíng]1.走：步~。人~道。"
         "8.（旧读xìng）行为：品~。~~出状元。a）用在这里：~之有效")


def test_char_entries_give_each_example_under_its_reading():
    got = list(char_examples("行", ENTRY))
    assert ("双行", 1, "hang2") in got and ("杨柳成行", 3, "hang2") in got
    assert ("步行", 1, "xing2") in got and ("人行道", 1, "xing2") in got
    assert ("品行", 1, "xing2") in got and ("行之有效", 0, "xing2") in got
    assert ("行行出状元", 0, "xing2") in got and ("行行出状元", 1, "xing2") in got
    assert not any("树" in s for s, _, _ in got)  # a cross-reference, not an example
    assert all(s[at] == "行" for s, at, _ in got)


def test_a_reading_that_is_no_syllable_is_skipped():
    assert list(char_examples("丁", "[abc]1.人~。[dīng]1.园~。")) == [("园丁", 1, "ding1")]


def test_phrases_give_their_polyphones_and_leave_yi_and_bu_to_the_citation_rule():
    got = list(phrase_examples("一行不长", "yì/háng/bù/cháng".split("/")))
    assert got == [("一行不长", 1, "hang2"), ("一行不长", 3, "chang2")]
    assert list(phrase_examples("银行", ["yín"])) == []  # misaligned: skipped


def test_examples_round_trip_through_the_marked_format(tmp_path):
    examples = [("银行", 1, "hang2"), ("长大", 0, "zhang3")]
    assert write_marked(examples, tmp_path / "gold") == 2
    assert read_marked(tmp_path / "gold") == examples


def test_without_the_wheel_the_error_says_how_to_get_it(tmp_path):
    with pytest.raises(SourceError, match="setup.sh"):
        dictionary_gold(tmp_path)


def test_a_wheel_is_read_for_both_dictionaries(tmp_path):
    import io

    def inner(name: str, text: str) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as z:
            z.writestr(name, text)
        return buffer.getvalue()

    with zipfile.ZipFile(tmp_path / "jionlp-1.5.31-py2.py3-none-any.whl", "w") as wheel:
        wheel.writestr("jionlp/dictionary/chinese_char_dictionary.zip", inner(
            "c.txt", "行\t行\t1\t0\tx\t行\tx\t" + ENTRY + "\n丁\t一\t0\t0\tx\t丁\tx\t[dīng]1.园~。\n"))
        wheel.writestr("jionlp/dictionary/pinyin_phrase.zip", inner(
            "p.txt", "银行\tyín/háng\n"))
    gold = dictionary_gold(tmp_path)
    assert ("步行", 1, "xing2") in gold["chars"]
    assert not any(s == "园丁" for s, _, _ in gold["chars"])  # 丁 has one reading here
    assert gold["phrases"] == [("银行", 1, "hang2")]
