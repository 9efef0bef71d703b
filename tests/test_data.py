"""Tests for pinyin_hanzi.data (clean, annotate, decontaminate, split, dedup, sources) and vocab.

Hermetic: every file is written under tmp_path; the built-in corpora are never read.
"""

import json
import re
from collections import Counter

import pytest

from pinyin_hanzi.data.annotate import annotate
from pinyin_hanzi.data.clean import CleanConfig, normalize, split_clauses
from pinyin_hanzi.data.decontaminate import Benchmarks
from pinyin_hanzi.data.dedup import WINDOW, Deduper, line_key, window_keys
from pinyin_hanzi.data.sources import Line, SourceError, read_user_files, strip_pd_tags
from pinyin_hanzi.data.split import SPLITS, assign_split
from pinyin_hanzi.pinyin import SYLLABLES
from pinyin_hanzi.vocab import UNK, UNK_HANZI, Vocab

# --- clean -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, traditional, clean",
    [
        ("ＡＢＣ１２３", False, "ABC123"),  # full-width ASCII -> half-width
        ("你好，世界！", False, "你好,世界!"),  # full-width punctuation too
        ("\uf900", False, "\u8c48"),  # compatibility ideograph 豈 -> unified 豈
        ("漢語", True, "汉语"),  # traditional -> simplified
        ("漢語", False, "漢語"),  # only when the source asks for it
        ("這個問題很難", True, "这个问题很难"),
        ("中\u200b国", False, "中国"),  # zero-width space (Cf)
        ("\ufeff中国", False, "中国"),  # byte-order mark (Cf)
        ("中\x07国\x00", False, "中国"),  # control characters (Cc)
        ("中\t国", False, "中\t国"),  # whitespace survives as a clause break
        ("见 https://example.com/a?b=1 这里", False, "见 \n 这里"),
        ("访问 www.example.com 吧", False, "访问 \n 吧"),
        ("写信给 foo.bar@example.com 吧", False, "写信给 \n 吧"),
        ("", False, ""),
    ],
)
def test_normalize(raw, traditional, clean):
    assert normalize(raw, traditional=traditional) == clean


# Chinese text has no spaces, so a URL or an address is usually glued to the hanzi around it.
@pytest.mark.parametrize(
    "raw, clauses",
    [
        ("详见https://example.com/a，谢谢", ["详见", "谢谢"]),
        ("访问www.example.com获取资料", ["访问", "获取资料"]),
        ("请联系foo@example.com谢谢", ["请联系", "谢谢"]),
    ],
)
def test_urls_glued_to_hanzi_keep_the_hanzi(raw, clauses):
    assert split_clauses(normalize(raw)) == clauses


@pytest.mark.parametrize(
    "text, config, clauses",
    [
        ("你好，世界！我爱北京天安门。", CleanConfig(), ["你好", "世界", "我爱北京天安门"]),
        ("你好,世界!", CleanConfig(), ["你好", "世界"]),  # after NFKC
        ("好，我们走", CleanConfig(), ["我们走"]),  # one hanzi is below min_hanzi
        ("好，我们走", CleanConfig(min_hanzi=1), ["好", "我们走"]),
        ("中 国", CleanConfig(), []),  # whitespace breaks a clause too
        ("3月5日", CleanConfig(), ["3月5日"]),  # digits stay inside a clause
        ("手机ab", CleanConfig(), ["手机ab"]),  # hanzi share 2/4: kept at exactly 0.5
        ("手机abc", CleanConfig(), []),  # 2/5 < 0.5
        ("iPhone手机", CleanConfig(), []),
        ("iPhone手机", CleanConfig(min_hanzi_share=0.0), ["iPhone手机"]),
        ("我爱北京", CleanConfig(max_chars=3), []),
        ("我爱北京", CleanConfig(max_chars=4), ["我爱北京"]),
        ("", CleanConfig(), []),
    ],
)
def test_split_clauses(text, config, clauses):
    assert split_clauses(text, config) == clauses


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"min_hanzi": 0}, "min_hanzi must be >= 1, got 0"),
        ({"min_hanzi_share": 1.5}, r"min_hanzi_share must be in \[0, 1\], got 1.5"),
    ],
)
def test_clean_config_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CleanConfig(**kwargs)


# --- annotate --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "clause, toneless, tone3",
    [
        ("银行", "yin hang", "yin2 hang2"),  # polyphones resolved by the phrase dictionary
        ("行走", "xing zou", "xing2 zou3"),
        ("重要", "zhong yao", "zhong4 yao4"),
        ("重新", "chong xin", "chong2 xin1"),
        ("长大", "zhang da", "zhang3 da4"),
        ("长度", "chang du", "chang2 du4"),
        ("你好", "ni hao", "ni3 hao3"),
        ("绿色", "lv se", "lv4 se4"),  # ü as v
        ("3月abc", "- yue - - -", "- yue4 - - -"),  # not hanzi: None, in place
        ("我有2个iPhone手机", "wo you - ge - - - - - - shou ji",
         "wo3 you3 - ge4 - - - - - - shou3 ji1"),
        ("银行123行走", "yin hang - - - xing zou", "yin2 hang2 - - - xing2 zou3"),
        ("", "", ""),
    ],
)
def test_annotate(clause, toneless, tone3):
    def expected(spaced):
        return [None if s == "-" else s for s in spaced.split()]

    assert annotate(clause) == (expected(toneless), expected(tone3))
    assert all(s is None or s in SYLLABLES for s in annotate(clause)[0])


@pytest.mark.parametrize("clause", ["兙", "中兙国"])  # 兙: a hanzi pypinyin has no reading for
def test_annotate_unreadable_hanzi_is_none(clause):
    toneless, tone3 = annotate(clause)
    assert all(s is None or s in SYLLABLES for s in toneless)
    assert toneless[clause.index("兙")] is None and tone3[clause.index("兙")] is None


# --- decontaminate ---------------------------------------------------------------------------


@pytest.fixture
def benchmarks(tmp_path):
    path = tmp_path / "bench.tsv"
    path.write_text(
        "wo ceng qu guo fu jian sheng an xi xian\t我曾去过福建省安溪县\n"
        "\n"  # blank lines are skipped
        "ke yi sheng ji dao\t可以升级到\r\n",
        encoding="utf-8",
    )
    return Benchmarks.load([path])


def test_benchmarks_load(benchmarks):
    assert benchmarks.clauses == {"我曾去过福建省安溪县", "可以升级到"}
    assert benchmarks.lengths == (5, 10)


def test_benchmarks_load_names_a_bad_row(tmp_path):
    path = tmp_path / "bench.tsv"
    path.write_text("ke yi\t可以\nno tab here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"{path}:2: expected 'pinyin<TAB>hanzi'")):
        Benchmarks.load([path])


@pytest.mark.parametrize(
    "text, contains",
    [
        ("可以升级到", True),
        ("据说下个月可以升级到最新版本", True),  # planted inside a longer run
        ("他说我曾去过福建省安溪县城两次", True),
        ("新版可以升级到abc", True),  # Latin ends the run, not the clause
        ("可以升级", False),  # part of a benchmark clause is fine
        ("可以，升级到", False),  # a break in between
        ("可以升 级到", False),
        ("", False),
    ],
)
def test_contains_clause(benchmarks, text, contains):
    assert benchmarks.contains_clause(text) is contains
    assert Benchmarks().contains_clause(text) is False  # no benchmarks, nothing to cut


@pytest.mark.parametrize(
    "source, number, dropped",
    [
        ("pd98", 0, True),
        ("pd98", 50, True),
        ("pd98", 1000, True),
        ("pd98", 49, False),
        ("pd98", 51, False),
        ("pd98", 25, False),
        ("reviews/neg", 20, True),  # reviews: every 20th line of each file
        ("reviews/pos", 40, True),
        ("reviews/pos", 50, False),
        ("tang", 0, False),  # no benchmark was drawn from poetry
        ("user/my.txt", 100, False),
    ],
)
def test_is_source_line(benchmarks, source, number, dropped):
    line = Line("迈向充满希望的新世纪", source, f"{source}/0", number)
    assert benchmarks.is_source_line(line) is dropped
    assert Benchmarks().is_source_line(line) is False


# --- split -----------------------------------------------------------------------------------

DOCS = [f"pd98/{i}" for i in range(10_000)]


def test_split_is_deterministic():
    first = [assign_split(doc, seed=3) for doc in DOCS[:500]]
    assert [assign_split(doc, seed=3) for doc in DOCS[:500]] == first
    assert [assign_split(doc, seed=3) for doc in reversed(DOCS[:500])] == first[::-1]


@pytest.mark.parametrize("dev, test", [(0.1, 0.05), (0.02, 0.02), (0.0, 0.3)])
def test_split_fractions(dev, test):
    counts = Counter(assign_split(doc, 0, dev, test) for doc in DOCS)
    assert set(counts) <= set(SPLITS)
    n = len(DOCS)
    for split, fraction in (("dev", dev), ("test", test), ("train", 1 - dev - test)):
        sd = (n * fraction * (1 - fraction)) ** 0.5
        assert abs(counts[split] - n * fraction) <= 5 * sd + 1, (split, counts)


def test_split_seeds_differ():
    a = [assign_split(doc, 0, 0.1, 0.1) for doc in DOCS[:1000]]
    b = [assign_split(doc, 1, 0.1, 0.1) for doc in DOCS[:1000]]
    assert sum(x != y for x, y in zip(a, b)) > 200  # ~340 expected: independent draws


# --- dedup -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lines, kept",
    [
        (["今天天气很好", "今天天气很好"], [True, False]),  # exact repeat
        (["今天天气很好", "今天 天气\t很好 "], [True, False]),  # whitespace-only variant
        (["今天天气很好", "今天天气不错"], [True, True]),
        (["今天天气很好", "今天天气很好。"], [True, True]),  # punctuation is content
        (["你好", "", " ", "你好"], [True, True, False, False]),
        # near-duplicates: a long line again with other punctuation, a comment or a tag
        (["我们今天在北京参加了一个非常重要的会议", "我们今天在北京，参加了一个非常重要的会议！"],
         [True, False]),
        (["我们今天在北京参加了一个非常重要的会议", "转发微博：我们今天在北京参加了一个非常重要的会议"],
         [True, False]),
        (["我们今天在北京参加了一个非常重要的会议", "他们昨天在上海参观了一个特别有名的展览"],
         [True, True]),
        # short lines are compared whole: punctuation is content there
        (["今天天气很好", "今天天气，很好"], [True, True]),
    ],
)
def test_deduper(lines, kept):
    deduper = Deduper()
    assert [deduper.first_time(line) for line in lines] == kept


def test_line_key():
    assert len(line_key("你好")) == 12
    assert line_key("你 好") == line_key("你好") != line_key("您好")
    deduper = Deduper()
    assert deduper.first_time_key(line_key("你 好")) and not deduper.first_time("你好")


def test_window_keys_ignore_shift_and_punctuation():
    text = "党的十八大以来各地坚持生态优先绿色发展淘汰落后产能关改搬转各类化工企业长江水质持续改善"
    keys = set(window_keys(text))
    assert window_keys("你好世界") == ()  # too short to compare by windows
    assert set(window_keys("央视消息：" + text + "。")) >= keys  # same text, shifted
    assert len(keys) < len(text) - WINDOW + 1  # a long line keeps a sample


def test_deduper_counts_near_duplicates_across_a_long_line():
    base = "党的十八大以来各地坚持生态优先绿色发展淘汰落后产能关改搬转各类化工企业长江水质持续改善"
    deduper = Deduper()
    assert deduper.check(line_key(base), window_keys(base)) == "new"
    assert deduper.check(line_key(base), window_keys(base)) == "duplicate"
    repost = "转发：" + base + "，说得好，大家一起来看看吧"
    assert deduper.check(line_key(repost), window_keys(repost)) == "near-duplicate"


# --- sources ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tagged, text",
    [
        ("迈向/v  充满/v  希望/n  的/u  新/a  世纪/n  ——/w  一九九八年/t  新年/t  讲话/n  "
         "（/w  附/v  图片/n  １/m  张/q  ）/w",
         "迈向充满希望的新世纪——一九九八年新年讲话（附图片１张）"),
        ("１２月/t  ３１日/t  ，/w  [中国/ns  政府/n]nt  发表/v  讲话/n  。/w",
         "１２月３１日，中国政府发表讲话。"),  # bracketed compound
        ("（/w  新华社/nt  记者/n  兰/nr  红光/nr  摄/Vg  ）/w", "（新华社记者兰红光摄）"),
        ("[国务院/nt  新闻/n  办公室/n]nt", "国务院新闻办公室"),
        ("\n", ""),
    ],
)
def test_strip_pd_tags(tagged, text):
    assert strip_pd_tags(tagged) == text


@pytest.mark.parametrize(
    "name, data",
    [
        ("utf8.txt", "中文第一行\n第二行\n".encode("utf-8")),
        ("bom.txt", "中文第一行\n第二行\n".encode("utf-8-sig")),
        ("gbk.txt", "中文第一行\r\n第二行\r\n".encode("gb18030")),
    ],
)
def test_read_user_files_encodings(tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    lines = list(read_user_files([str(tmp_path / name)], traditional=False))
    assert lines == [
        Line("中文第一行", f"user/{name}", f"user/{name}/0", 0, False),
        Line("第二行", f"user/{name}", f"user/{name}/1", 1, False),
    ]


def test_read_user_files_rejects_invalid_bytes(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes("你好\n".encode("utf-8") + b"abc\xff")  # 0xff: neither UTF-8 nor GB18030
    with pytest.raises(SourceError) as info:
        list(read_user_files([str(path)]))
    assert str(info.value) == (f"{path}: not UTF-8 or GB18030 text (invalid byte at offset "
                               "10): save it as UTF-8")


def test_read_user_files_names_utf16(tmp_path):
    """Notepad's "Unicode" is UTF-16: the error said only "invalid byte at offset 0"."""
    path = tmp_path / "notepad.txt"
    path.write_bytes("你好\r\n".encode("utf-16"))
    with pytest.raises(SourceError, match=r"offset 0, a UTF-16 byte order mark\): save it as "
                                          r"UTF-8"):
        list(read_user_files([str(path)]))


def test_read_user_files_jsonl(tmp_path):
    path = tmp_path / "docs.jsonl"
    rows = [{"id": "a1", "text": "第一篇"}, {"text": "第二篇"}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n",
                    encoding="utf-8")
    lines = list(read_user_files([str(tmp_path / "*.jsonl")]))
    assert [(x.text, x.doc, x.number, x.traditional) for x in lines] == [
        ("第一篇", "user/docs.jsonl/a1", 0, True),
        ("第二篇", "user/docs.jsonl/1", 1, True),
    ]


# Line numbers count blank lines, so the error names the line an editor shows.
@pytest.mark.parametrize(
    "content, message",
    [
        ('{"text": "好"}\n\n{"text": "坏"\n', r"bad\.jsonl:3: expected a JSON object"),
        ('{"body": "好"}\n', r"bad\.jsonl:1: expected a JSON object with a \"text\""),
        ('["好"]\n', r"bad\.jsonl:1: expected a JSON object"),
        ('{"text": 5}\n', r"bad\.jsonl:1: \"text\" must be a string"),
    ],
)
def test_read_user_files_malformed_jsonl(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError, match=message) as info:
        list(read_user_files([str(path)]))
    assert str(info.value).startswith(str(path))


def test_read_user_files_jsonl_suffix_in_capitals(tmp_path):
    """DOCS.JSONL was read as plain text: its JSON syntax went into training."""
    path = tmp_path / "DOCS.JSONL"
    path.write_text(json.dumps({"text": "第一篇"}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert [x.text for x in read_user_files([str(path)])] == ["第一篇"]


def test_read_user_files_line_separator_inside_jsonl_text(tmp_path):
    path = tmp_path / "web.jsonl"
    path.write_text(json.dumps({"text": "第一段\u2028第二段"}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    assert [x.text for x in read_user_files([str(path)])] == ["第一段\u2028第二段"]


def test_read_user_files_missing(tmp_path):
    with pytest.raises(SourceError, match="nothing-here.txt: no such file"):
        list(read_user_files([str(tmp_path / "nothing-here.txt")]))


def test_read_user_files_a_glob_that_matches_nothing(tmp_path):
    with pytest.raises(SourceError, match=r"chat/\*\.txt: the glob matches no file"):
        list(read_user_files([str(tmp_path / "chat" / "*.txt")]))  # was "no such file"


def test_read_user_files_names_a_folder(tmp_path):
    """`--text my_corpus` (a folder) was read as no file at all: an empty data set, exit 0."""
    (tmp_path / "my_corpus").mkdir()
    (tmp_path / "my_corpus" / "a.txt").write_text("你好\n", encoding="utf-8")
    for given in ("my_corpus", "my_corpus/", "my_*"):
        with pytest.raises(SourceError, match=r"a folder, not a text file: name its files, "
                                              r"e\.g\. '.*my_corpus/\*\.txt'"):
            list(read_user_files([str(tmp_path / given)]))


def test_read_user_files_an_empty_file_has_no_lines(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")  # was read as one empty line
    assert list(read_user_files([str(tmp_path / "empty.txt")])) == []


# --- vocab -----------------------------------------------------------------------------------

# 罕 is seen once (below min_count=2); 行 is only ever seen as xing; 航 reads hang.
HANZI_COUNTS = Counter({"行": 6, "航": 3, "走": 3, "银": 2, "罕": 1})
PAIRS = Counter({("xing", "行"): 6, ("hang", "航"): 3, ("zou", "走"): 3, ("yin", "银"): 2,
                 ("han", "罕"): 1})


@pytest.fixture(scope="module")
def vocab():
    return Vocab.build(HANZI_COUNTS, PAIRS, min_count=2)


def test_vocab_build(vocab):
    assert vocab.hanzi == [UNK, "行", "航", "走", "银"]  # most frequent first
    assert vocab.syllables == sorted(SYLLABLES)
    assert vocab.label("罕") == UNK_HANZI == vocab.label("猫")
    assert vocab.hanzi_token("罕") == vocab.hanzi_offset + UNK_HANZI
    assert vocab.input_size == 3 + len(SYLLABLES) + 5


@pytest.mark.parametrize(
    "syllable, candidates",
    [
        ("xing", ["行"]),
        ("hang", ["航", "行"]),  # 行 is offered unseen, after the seen 航
        ("heng", ["行"]),  # 道行 daoheng: another pypinyin reading
        ("zou", ["走"]),
        ("han", []),  # 罕 is unknown, so it is no candidate
        ("ma", []),
    ],
)
def test_vocab_candidates(vocab, syllable, candidates):
    assert vocab.candidates[syllable] == candidates
    assert vocab.candidate_ids(syllable) == [vocab.hanzi_id[h] for h in candidates]


def test_vocab_round_trip(vocab, tmp_path):
    vocab.save(tmp_path / "vocab.json")
    loaded = Vocab.load(tmp_path / "vocab.json")
    assert loaded.to_json() == vocab.to_json()
    assert loaded.hanzi_id == vocab.hanzi_id and loaded.input_size == vocab.input_size
    assert [p.name for p in tmp_path.iterdir()] == ["vocab.json"]  # no temporary file left


VALID = {"format": "pinyin-hanzi-vocab/1", "syllables": ["hang"], "hanzi": [UNK, "行"],
         "candidates": {"hang": ["行"]}}


@pytest.mark.parametrize(
    "content, message",
    [
        (b"{", "not a valid vocabulary file"),
        (b"[]", "not a valid vocabulary file"),
        (b"\xff\xfe", "not a valid vocabulary file"),
        (json.dumps({"syllables": []}).encode(), "not a valid vocabulary file"),
        (json.dumps({**VALID, "hanzi": ["行"]}).encode(), "hanzi\\[0\\] must be '<unk>'"),
        (json.dumps({**VALID, "candidates": {"hang": ["航"]}}).encode(),
         "candidate table names hanzi not in the vocabulary"),
    ],
)
def test_vocab_load_corrupt(tmp_path, content, message):
    path = tmp_path / "vocab.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        Vocab.load(path)
    assert str(info.value).startswith(f"{path}: ")


@pytest.mark.parametrize("candidates", [[], {"hang": 5}])
def test_vocab_load_malformed_candidates(tmp_path, candidates):
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps({**VALID, "candidates": candidates}), encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"{path}: ")):
        Vocab.load(path)


def test_vocab_load_valid_and_missing(tmp_path):
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps(VALID), encoding="utf-8")
    assert Vocab.load(path).candidate_ids("hang") == [1]
    missing = tmp_path / "missing.json"
    with pytest.raises(FileNotFoundError, match=re.escape(f"{missing}: vocabulary file")):
        Vocab.load(tmp_path / "missing.json")


def test_lexicon_words_are_read_as_traditional_and_come_out_simplified():
    """jieba's word list holds traditional forms such as 一夥人: an input method must not
    offer them, so the lexicon source goes through t2s like the Tang poems."""
    from pinyin_hanzi.data.clean import normalize
    from pinyin_hanzi.data.sources import read_lexicon

    lines = {line.text: line for line in read_lexicon()}
    assert "一夥人" in lines
    assert normalize("一夥人", lines["一夥人"].traditional) == "一伙人"
    assert normalize("银行", lines["银行"].traditional) == "银行"
