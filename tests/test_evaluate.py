"""Tests for pinyin_hanzi.evaluate: the benchmark metrics and the TSV reader."""

import json

import pytest

from pinyin_hanzi.decode.config import Candidate
from pinyin_hanzi.evaluate import (char_errors, evaluate, levenshtein,
                                   paired_comparison, read_tsv)


@pytest.mark.parametrize(
    "output, gold, errors",
    [
        ("中国", "中国", 0),
        ("中果", "中国", 1),
        ("国中", "中国", 2),  # same length: position-wise, not one swap
        ("", "中国", 2),
        ("中国人", "中国", 1),  # different lengths: Levenshtein
        ("我北京", "我爱北京", 1),
        ("北京我爱", "我爱北京", 4),
        ("天安门", "我爱北京", 4),
    ],
)
def test_char_errors(output, gold, errors):
    assert char_errors(output, gold) == errors


@pytest.mark.parametrize(
    "a, b, distance",
    [("", "", 0), ("", "你好", 2), ("你好", "你", 1), ("银行", "行银", 2), ("重要", "重新要", 1)],
)
def test_levenshtein(a, b, distance):
    assert levenshtein(a, b) == levenshtein(b, a) == distance


def test_read_tsv(tmp_path):
    path = tmp_path / "bench.tsv"
    path.write_text("ni hao\t你好\n\n zhong guo \t 中国 \n", encoding="utf-8")
    assert read_tsv(path) == [("ni hao", "你好"), ("zhong guo", "中国")]


@pytest.mark.parametrize(
    "content, message",
    [
        ("ni hao\t你好\nzhong guo 中国\n", r"bench.tsv:2: expected 'pinyin<TAB>hanzi'"),
        ("ni hao\t你好\n\nzhong\tguo\t中国\n", r"bench.tsv:3: expected"),
        ("\t你好\n", r"bench.tsv:1: expected"),
        ("ni hao\t \n", r"bench.tsv:1: expected"),
        ("\n\n", r"bench.tsv: no examples"),
        # Never right whatever the engine answers: it was scored as an error, silently.
        ("ni hao\t你好\nni hao\t你好吗\n", r"bench.tsv:2: the pinyin is 2 syllable\(s\), the "
                                         r"hanzi 3 characters"),
        ("xian\t西安\n", r"bench.tsv:1: the pinyin is 1 syllable\(s\), the hanzi 2"),
    ],
)
def test_read_tsv_errors_name_the_line(tmp_path, content, message):
    path = tmp_path / "bench.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        read_tsv(path)


def test_read_tsv_reads_a_bom_and_crlf_and_leaves_unfixed_counts_alone(tmp_path):
    """A BOM (Windows editors) reached the converter: "not pinyin at position 0: '\\ufeff'".
    Inputs whose syllable count the text does not fix (abbreviations, 简拼) are not checked."""
    path = tmp_path / "mine.tsv"
    path.write_bytes("ni hao\t你好\r\nxi'an\t西安\r\nnhm\t你好吗\r\nzgrm\t中国人民\r\n"
                     .encode("utf-8-sig"))
    assert read_tsv(path) == [("ni hao", "你好"), ("xi'an", "西安"), ("nhm", "你好吗"),
                              ("zgrm", "中国人民")]


def test_evaluate_names_the_line_the_converter_refuses(tmp_path):
    """The converter's error alone ("no hanzi in this model reads 'an'") named neither the
    file nor the line."""
    path = tmp_path / "mine.tsv"
    path.write_text("ni hao\t你好\n\nxi an\t西安\n", encoding="utf-8")

    def convert_batch(texts):
        if "xi an" in texts:
            raise ValueError("no hanzi in this model reads 'an'")
        return [[Candidate("你好", 0.0)] for _ in texts]

    with pytest.raises(ValueError, match=r"mine.tsv:3: 'xi an': no hanzi in this model reads"):
        evaluate(convert_batch, path)


def test_read_tsv_rejects_other_encodings_and_missing_files(tmp_path):
    path = tmp_path / "gbk.tsv"
    path.write_bytes("ni hao\t你好\n".encode("gbk"))
    with pytest.raises(ValueError, match="gbk.tsv: not UTF-8"):
        read_tsv(path)
    with pytest.raises(FileNotFoundError, match="nothing.tsv"):
        read_tsv(tmp_path / "nothing.tsv")
    with pytest.raises(IsADirectoryError, match=f"{tmp_path}: a folder; give its .tsv files"):
        read_tsv(tmp_path)  # was "[Errno 21] Is a directory"


def test_evaluate_with_a_fake_converter(tmp_path):
    path = tmp_path / "bench.tsv"
    path.write_text("ni hao\t你好\nzhong guo\t中国\nwo men\t我们\n"
                    "jin tian tian qi hen hao\t今天天气很好\n", encoding="utf-8")
    answers = {
        "ni hao": ["你好", "尼好"],  # right
        "zhong guo": ["中过", "中国"],  # 1 error; gold second
        "wo men": [],  # nothing: 2 errors
        "jin tian tian qi hen hao": ["今天天气很号"],  # 1 error
    }
    batches = []

    def convert_batch(texts):
        batches.append(texts)
        return [[Candidate(t, -float(i)) for i, t in enumerate(answers[x])] for x in texts]

    result = evaluate(convert_batch, path, top_k=5, batch_size=3)
    assert [len(b) for b in batches] == [3, 1]
    assert result["clauses"] == 4
    assert result["char_acc"] == pytest.approx(1 - 4 / 12)
    assert result["top1"] == 0.25 and result["top5"] == 0.5
    assert result["by_length"] == {
        "1-4": {"clauses": 3, "char_acc": pytest.approx(0.5), "top1": pytest.approx(1 / 3)},
        "5-8": {"clauses": 1, "char_acc": pytest.approx(5 / 6), "top1": 0.0},
    }
    assert result["confusions"] == [["国", "过", 1], ["好", "号", 1]]
    assert evaluate(convert_batch, path, top_k=1)["top1"] == 0.25
    assert "best" not in result
    kept = evaluate(convert_batch, path, keep_best=True)
    assert kept["best"] == ["你好", "中过", "", "今天天气很号"]
    json.dumps(result)  # plain JSON data


def test_paired_comparison_counts_and_bounds_the_difference():
    gold = ["你好", "中国", "我们", "今天天气很好"] * 50
    a = ["你好", "中国", "我们", "今天天气很号"] * 50  # 1 error of 12 per round
    b = ["你好", "中过", "我门", "今天天气很号"] * 50  # 3 errors
    r = paired_comparison(gold, a, b)
    assert r["clauses"] == 200
    assert r["char_acc"] == pytest.approx(2 / 12)
    assert r["top1"] == pytest.approx(0.5) and (r["only_a"], r["only_b"]) == (100, 0)
    lo, hi = r["char_acc_95"]
    assert 0 < lo < 2 / 12 < hi  # a is ahead on every draw; the interval holds the estimate
    lo, hi = r["top1_95"]
    assert 0 < lo < 0.5 < hi < 1
    # Swapped, the difference changes sign; against itself it is exactly 0.
    assert paired_comparison(gold, b, a)["char_acc"] == pytest.approx(-2 / 12)
    same = paired_comparison(gold, a, a)
    assert same["char_acc_95"] == [0, 0] and same["top1_95"] == [0, 0]
    # The same seed draws the same interval; a tie on half the clauses spans 0.
    assert paired_comparison(gold, a, b)["char_acc_95"] == r["char_acc_95"]
    mixed = paired_comparison(gold, a[:100] + b[100:], b[:100] + a[100:])
    assert mixed["char_acc_95"][0] < 0 < mixed["char_acc_95"][1]


def test_paired_comparison_needs_equal_lengths():
    with pytest.raises(ValueError, match="3 gold clauses, 2 and 3 outputs"):
        paired_comparison(["一", "二", "三"], ["一", "二"], ["一", "二", "三"])
