"""The reading table, the G2P examples and the notations: literal tables, no model."""

import numpy as np
import pytest

from pinyin_hanzi.g2p.data import (G2PCollator, NgramGuard, cpp_reading, marked_examples,
                                   marked_set, read_marked, record_examples)
from pinyin_hanzi.g2p.notation import sandhi, styled
from pinyin_hanzi.g2p.readings import ReadingTable, dictionary_readings
from pinyin_hanzi.vocab import IGNORE, Vocab

HANZI = ["<unk>", "银", "行", "长", "大", "走", "了", "我", "子", "桌"]


@pytest.fixture
def vocab():
    return Vocab(syllables=["yin", "hang", "xing"], hanzi=HANZI, candidates={})


@pytest.fixture
def table():
    return ReadingTable.build(HANZI, seen=[("子", "zi5"), ("行", "hang2")])


def test_dictionary_readings_are_tone3_with_neutral_five():
    assert dictionary_readings("了")[:2] == ["le5", "liao3"]
    assert dictionary_readings("绿")[0] == "lv4"
    assert dictionary_readings("a") == [] and dictionary_readings("<unk>") == []


def test_table_polyphones_slots_and_round_trip(table, tmp_path):
    assert table.is_polyphone("行") and table.is_polyphone("长")
    assert not table.is_polyphone("我") and not table.is_polyphone("<unk>")
    assert table.readings[table.choices["行"][table.slot("行", "hang2")]] == "hang2"
    assert table.slot("行", "zhang3") == -1 and table.slot("？", "le5") == -1
    assert "zi5" in [table.readings[i] for i in table.choices["子"]]  # widened by `seen`
    choices = table.choice_array(HANZI)
    assert choices.shape == (len(HANZI), table.max_choices)
    assert (choices[0] == -1).all()  # <unk> has no reading
    table.save(tmp_path / "readings.json")
    again = ReadingTable.load(tmp_path / "readings.json")
    assert again.readings == table.readings and again.choices == table.choices


def test_the_table_does_not_depend_on_the_order_labels_were_seen():
    seen = [("行", "xing9"), ("行", "hang8"), ("子", "zi5")]
    a, b = ReadingTable.build(HANZI, seen), ReadingTable.build(HANZI, set(reversed(seen)))
    assert a.readings == b.readings and a.choices == b.choices


@pytest.mark.parametrize("content", ["", "{", '{"format": "x"}', '{"format": '
                         '"pinyin-hanzi-readings/1", "readings": ["a1"], "choices": {"a": [3]}}'])
def test_a_broken_table_is_an_error_naming_the_file(tmp_path, content):
    path = tmp_path / "readings.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="readings.json"):
        ReadingTable.load(path)


def test_read_marked_and_its_errors(tmp_path):
    (tmp_path / "g.sent").write_text("我▁长▁大了。\n他很▁行▁\n")
    (tmp_path / "g.lb").write_text("zhang3\nxing2\n")
    assert read_marked(tmp_path / "g") == [("我长大了。", 1, "zhang3"), ("他很行", 2, "xing2")]
    (tmp_path / "g.lb").write_text("zhang3\n")
    with pytest.raises(ValueError, match="2 lines"):
        read_marked(tmp_path / "g")
    (tmp_path / "g.sent").write_text("我长大了\n")
    with pytest.raises(ValueError, match="line 1"):
        read_marked(tmp_path / "g")
    assert cpp_reading("lu:4") == "lv4"


def test_read_marked_of_a_missing_stem_names_its_files(tmp_path):
    """`train-g2p --gold cpp/dev.sent` (or a typo) was Python's "[Errno 2] No such file"."""
    (tmp_path / "g.sent").write_text("我▁长▁大了。\n")
    with pytest.raises(FileNotFoundError, match=r"no such file: .*g\.lb \(marked sentences "
                                                r"are given by the stem of a \.sent/\.lb pair"):
        read_marked(tmp_path / "g")
    with pytest.raises(FileNotFoundError, match=r"g\.sent\.sent, .*g\.sent\.lb"):
        read_marked(tmp_path / "g.sent")


def test_marked_examples_label_only_the_marked_hanzi_within_a_window(vocab, table):
    sentence = "我" * 100 + "长大" + "我" * 100
    examples, skipped = marked_examples([(sentence, 100, "zhang3"), ("桌子", 1, "zi9")],
                                        vocab, table, max_len=16)
    assert skipped == 1  # zi9 is no reading of 子
    (tokens, slots), = examples
    assert len(tokens) == 16 and (slots != IGNORE).sum() == 1
    at = int(np.nonzero(slots != IGNORE)[0][0])
    assert tokens[at] == vocab.hanzi_token("长")
    assert table.readings[table.choices["长"][slots[at]]] == "zhang3"


def test_record_examples_label_every_polyphone_and_nothing_else(vocab, table):
    record = {"text": "银行走了，我", "pinyin": [], "tone3":
              ["yin2", "hang2", "zou3", "le5", None, "wo3"], "source": "s", "doc": "d"}
    (tokens, slots), = record_examples(record, vocab, table, max_len=64)  # 我 alone: no run
    assert len(tokens) == 4
    assert [table.readings[table.choices[c][s]] if s != IGNORE else None
            for c, s in zip("银行走了", slots)] == [None, "hang2", None, "le5"]


def test_guard_drops_text_sharing_a_window_with_held_out_sentences():
    guard = NgramGuard(["今天天气很好我们去公园散步吧"], n=6)
    assert not guard.clean("听说今天天气很好我们出去")
    assert guard.clean("今天天气不好")


def test_guard_splits_marked_sentences_by_sentence_not_by_marked_hanzi():
    guard = NgramGuard(["今天天气很好我们去公园散步吧"], n=6)
    marked = [("今天天气很好我们去公园", 0, "jin1"),  # the held-out sentence's hanzi
              ("听说今天天气很好", 7, "hao3"),  # another hanzi marked: dropped all the same
              ("今天天气不好", 5, "hao3")]
    assert guard.split(marked) == ([marked[2]], 2)


def test_a_marked_set_is_three_split_pairs_and_the_error_names_what_is_missing(tmp_path):
    for name in ("train.sent", "train.lb", "dev.sent", "test.sent", "test.lb"):
        (tmp_path / name).write_text("▁行▁走\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"missing dev\.lb$"):
        marked_set(tmp_path)
    (tmp_path / "dev.lb").write_text("xing2\n", encoding="utf-8")
    assert marked_set(tmp_path) == {s: tmp_path / s for s in ("train", "dev", "test")}
    with pytest.raises(ValueError, match="missing train.sent, train.lb, dev.sent"):
        marked_set(tmp_path / "nowhere")


def test_collator_pads():
    batch = G2PCollator()([{"input_ids": np.array([5, 6], np.int32),
                            "labels": np.array([IGNORE, 1], np.int32)},
                           {"input_ids": np.array([7], np.int32),
                            "labels": np.array([0], np.int32)}])
    assert batch["input_ids"].tolist() == [[5, 6], [7, 0]]
    assert batch["labels"].tolist() == [[IGNORE, 1], [0, IGNORE]]
    assert batch["attention_mask"].tolist() == [[1, 1], [1, 0]]


@pytest.mark.parametrize("reading, style, expected", [
    ("zhong1", "tone3", "zhong1"), ("zhong1", "tone", "zhōng"), ("zhong1", "normal", "zhong"),
    ("zhong1", "initials", "zh"), ("lv4", "tone", "lǜ"), ("lv4", "normal", "lv"),
    ("le5", "tone", "le"), ("er2", "initials", ""), ("a1", "initials", "")])
def test_styles(reading, style, expected):
    assert styled(reading, style) == expected


def test_styles_match_pypinyin_on_every_reading_of_its_dictionary():
    """notation.py writes the styles itself (importing pypinyin costs a `g2p` call 0.7 s)."""
    from pypinyin.contrib.tone_convert import to_initials, to_normal, to_tone
    from pypinyin.pinyin_dict import pinyin_dict

    readings = {r for code in pinyin_dict for r in dictionary_readings(chr(code))}
    assert len(readings) > 1500 and {"lv4", "ng2", "hm5", "m4", "ê2"} <= readings
    for reading in sorted(readings) + ["银", "n1", "m3", "lv"]:
        assert [styled(reading, s) for s in ("tone", "normal", "initials")] == [
            to_tone(reading), to_normal(reading), to_initials(reading, strict=True)], reading


def test_unknown_style_is_named():
    with pytest.raises(ValueError, match="tone4"):
        styled("a1", "tone4")


@pytest.mark.parametrize("run, readings, spoken", [
    ("一个", "yi1 ge4", "yi2 ge4"), ("一天", "yi1 tian1", "yi4 tian1"),
    ("不对", "bu4 dui4", "bu2 dui4"), ("不好", "bu4 hao3", "bu4 hao3"),
    ("第一", "di4 yi1", "di4 yi1"), ("十一月", "shi2 yi1 yue4", "shi2 yi1 yue4"),
    ("看一看", "kan4 yi1 kan4", "kan4 yi5 kan4"), ("统一", "tong3 yi1", "tong3 yi1"),
    ("一九九八", "yi1 jiu3 jiu3 ba1", "yi1 jiu3 jiu3 ba1")])
def test_sandhi_of_yi_and_bu(run, readings, spoken):
    assert sandhi(run, readings.split()) == spoken.split()
