"""Tests for pinyin_hanzi.pinyin: the inventory, the notations and input normalisation."""

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinyin_hanzi.pinyin import (
    ALIASES,
    MAX_SYLLABLE_LEN,
    NORMAL,
    SPELLINGS,
    SYLLABLES,
    TONE,
    TONE2,
    TONE3,
    PinyinError,
    Style,
    convert_syllable,
    is_syllable,
    normalize_input,
    normalize_with_offsets,
    parse_syllable,
    to_toneless,
)

REPO = Path(__file__).resolve().parents[1]


def _syllables_from_pypinyin() -> frozenset[str]:
    """The recipe behind pinyin.SYLLABLES; print(sorted(...)) of this to regenerate it."""
    from pypinyin import pinyin_dict
    from pypinyin.contrib.tone_convert import to_normal

    readings = {
        to_normal(reading.lower(), v_to_u=False)
        for joined in pinyin_dict.pinyin_dict.values()
        for reading in joined.split(",")
    }
    return frozenset(readings - {"ê"} | {"r"})


# --- the inventory ---------------------------------------------------------------------------


def test_syllables_match_pypinyin():
    # Drift check: a pypinyin upgrade that adds or drops a reading must be copied into the
    # literal in pinyin.py, deliberately.
    expected = _syllables_from_pypinyin()
    assert SYLLABLES == expected, (
        f"missing {sorted(expected - SYLLABLES)}, extra {sorted(SYLLABLES - expected)}")


def test_inventory_shape():
    assert all(s.isascii() and s.isalpha() and s.islower() for s in SYLLABLES)
    assert MAX_SYLLABLE_LEN == max(map(len, SYLLABLES)) == 6
    # Aliases are not syllables, keep their target's length, and point into the inventory.
    for alias, target in ALIASES.items():
        assert alias not in SYLLABLES and target in SYLLABLES and len(alias) == len(target)
    assert set(SPELLINGS) == SYLLABLES | set(ALIASES)


@pytest.mark.parametrize(
    "spelling, in_syllables, accepted",
    [
        ("hao", True, True),  # 好
        ("zhuang", True, True),  # 壮, one of the longest
        ("lv", True, True),  # 绿: ü is written v
        ("nve", True, True),  # 虐
        ("lve", True, True),  # 略
        ("lue", False, True),  # 略, typed without the v convention
        ("nue", False, True),  # 虐
        ("xue", True, True),  # 学: after x the u is ü already
        ("r", True, True),  # 儿化: 花儿 hua r
        ("hm", True, True),  # 噷
        ("hng", True, True),  # 哼
        ("m", True, True),  # 呣
        ("n", True, True),  # 嗯
        ("ng", True, True),  # 嗯
        ("ê", False, False),  # 欸: dropped, folded to e by normalisation
        ("lü", False, False),  # the inventory only spells ü as v
        ("xv", False, False),  # not a fuzzy spelling we accept
        ("", False, False),
        ("Hao", False, False),  # the inventory is lower-case; normalise first
    ],
)
def test_membership(spelling, in_syllables, accepted):
    assert (spelling in SYLLABLES) is in_syllables
    assert is_syllable(spelling) is accepted


# --- notations -------------------------------------------------------------------------------


def test_style_values_match_pypinyin():
    from pypinyin import Style as PypinyinStyle

    for style in Style:
        assert style == PypinyinStyle[style.name]
    assert (NORMAL, TONE, TONE2, TONE3) == (Style.NORMAL, Style.TONE, Style.TONE2, Style.TONE3)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("hǎo", ("hao", 3)),  # 好
        ("hao3", ("hao", 3)),
        ("ha3o", ("hao", 3)),
        ("HǍO", ("hao", 3)),
        ("hao", ("hao", 5)),  # no tone given = neutral
        ("ma5", ("ma", 5)),  # 吗
        ("lǜ", ("lv", 4)),  # 绿
        ("lü4", ("lv", 4)),
        ("lu:4", ("lv", 4)),
        ("lv4", ("lv", 4)),
        ("Lǘ", ("lv", 2)),  # 驴
        ("lüè", ("lve", 4)),  # 略
        ("lue4", ("lve", 4)),  # alias
        ("nüè", ("nve", 4)),  # 虐
        ("xué", ("xue", 2)),  # 学
        ("ḿ", ("m", 2)),  # 呣
        ("ńg", ("ng", 2)),  # 嗯
        ("hng5", ("hng", 5)),  # 哼
        ("ér", ("er", 2)),  # 儿
        ("ế", ("e", 2)),  # 欸: ê folds to e
        ("ｈａｏ３", ("hao", 3)),  # full-width, as some IMEs emit
    ],
)
def test_parse_syllable(text, expected):
    assert parse_syllable(text) == expected
    assert to_toneless(text) == expected[0]


@pytest.mark.parametrize(
    "text",
    ["", "hao3 ma", "xi'an", "ha3o3", "hǎo3", "3hao", "hax", "hello", "好", "lü:"],
)
def test_parse_syllable_rejects(text):
    with pytest.raises(PinyinError):
        parse_syllable(text)


@pytest.mark.parametrize(
    "text, style, kwargs, expected",
    [
        ("hao3", TONE, {}, "hǎo"),  # 好
        ("hǎo", TONE2, {}, "ha3o"),
        ("ha3o", TONE3, {}, "hao3"),
        ("hǎo", NORMAL, {}, "hao"),
        ("zhuang4", TONE2, {}, "zhua4ng"),  # 壮
        ("you3", TONE2, {}, "yo3u"),  # 有: o of ou takes the mark
        ("liu2", TONE, {}, "liú"),  # 流: the last vowel of iu
        ("gui4", TONE, {}, "guì"),  # 贵: the last vowel of ui
        ("lv4", TONE, {}, "lǜ"),  # 绿: TONE always writes ü
        ("lv4", TONE3, {}, "lv4"),
        ("lv4", TONE3, {"v_to_u": True}, "lü4"),
        ("lu:e4", TONE2, {"v_to_u": True}, "lüe4"),  # 略
        ("nue4", NORMAL, {}, "nve"),  # alias -> canonical
        ("nv3", NORMAL, {"v_to_u": True}, "nü"),  # 女
        ("ma", TONE3, {}, "ma"),  # 吗: neutral
        ("ma", TONE3, {"neutral_tone_with_five": True}, "ma5"),
        ("ma5", TONE2, {"neutral_tone_with_five": True}, "ma5"),
        ("ma5", TONE, {}, "ma"),
        ("ng1", TONE, {}, "n\u0304g"),  # 嗯: n̄ has no precomposed form (pypinyin gives n1g)
        ("hm1", TONE, {}, "hm\u0304"),  # 噷
        ("hng2", TONE2, {}, "hn2g"),  # 哼
        ("er2", TONE2, {}, "e2r"),  # 儿
        ("hao3", 1, {}, "hǎo"),  # pypinyin's integer values work too
    ],
)
def test_convert_syllable(text, style, kwargs, expected):
    assert convert_syllable(text, style, **kwargs) == expected


def test_convert_matches_pypinyin_everywhere():
    # Every syllable x tone x notation, against pypinyin's own converter.
    from pypinyin.contrib.tone_convert import to_tone, to_tone2, to_tone3

    for syllable in sorted(SYLLABLES):
        for tone in "12345":
            tone3 = syllable + tone
            for v_to_u in (False, True):
                for five in (False, True):
                    kw = {"v_to_u": v_to_u, "neutral_tone_with_five": five}
                    assert convert_syllable(tone3, TONE3, **kw) == to_tone3(tone3, **kw), tone3
                    assert convert_syllable(tone3, TONE2, **kw) == to_tone2(tone3, **kw), tone3
            expected = to_tone(tone3)
            if not any(c.isdigit() for c in expected):  # pypinyin cannot mark n with a macron
                assert convert_syllable(tone3, TONE) == expected, tone3


@given(st.sampled_from(sorted(SYLLABLES)), st.integers(1, 5), st.sampled_from(list(Style)),
       st.booleans())
def test_convert_round_trips(syllable, tone, style, v_to_u):
    text = convert_syllable(f"{syllable}{tone}", style, v_to_u=v_to_u)
    expected_tone = 5 if style == NORMAL else tone
    assert parse_syllable(text) == (syllable, expected_tone)
    assert parse_syllable(text.upper()) == (syllable, expected_tone)


# --- input normalisation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("nihao", "nihao"),  # 你好
        ("Ni Hao", "ni'hao"),
        ("NI'HAO", "ni'hao"),
        ("  ni   hao  ", "ni'hao"),  # leading/trailing separators vanish, runs collapse
        ("ni' 'hao", "ni'hao"),
        ("ni\u2019hao", "ni'hao"),  # typographic apostrophe from a word processor
        ("ni\thao\n", "ni'hao"),
        ("nǐ hǎo", "ni'hao"),  # tone marks
        ("ni3hao3", "nihao"),  # tone digits are dropped, not boundaries
        ("ha3o", "hao"),  # TONE2 digit inside the syllable
        ("ma5", "ma"),
        ("lǜsè", "lvse"),  # 绿色
        ("lüse", "lvse"),
        ("lu:se", "lvse"),
        ("LÜSE", "lvse"),
        ("LU:SE", "lvse"),
        ("lvse", "lvse"),
        ("lue", "lue"),  # 略: aliases are left for segment (could be lu'e)
        ("ｎｉｈａｏ", "nihao"),  # full-width letters (NFKC)
        ("ni\u3000hao", "ni'hao"),  # ideographic space
        ("ɡuó", "guo"),  # 国 with textbook-font script g
        ("ê", "e"),  # 欸: ê folds to e
        ("n\u0304g", "ng"),  # combining macron on a consonant
    ],
)
def test_normalize_input(text, expected):
    assert normalize_input(text) == expected


@pytest.mark.parametrize(
    "text, position, span, message",
    [
        ("ni中国hao", 2, "中国", "not pinyin at position 2: '中国'"),  # the whole foreign run
        ("nǐ hǎo,", 6, ",", "not pinyin at position 6: ','"),
        ("ni-hao", 2, "-", "not pinyin at position 2: '-'"),
        ("你好", 0, "你好", "not pinyin at position 0: '你好'"),
        ("3ni", 0, "3", "misplaced tone digit at position 0: '3'"),
        ("ni 3", 3, "3", "misplaced tone digit at position 3: '3'"),
        ("hao33", 4, "3", "misplaced tone digit at position 4: '3'"),
        ("hao6", 3, "6", "not pinyin at position 3: '6'"),
        ("a:", 1, ":", "not pinyin at position 1: ':'"),  # only u: means ü
        ("", 0, "", "empty input"),
        ("  ' ", 0, "  ' ", "empty input"),
    ],
)
def test_normalize_input_errors(text, position, span, message):
    with pytest.raises(PinyinError) as info:
        normalize_input(text)
    assert (info.value.position, info.value.span) == (position, span)
    assert str(info.value).startswith(message)


def test_offsets_point_into_the_original():
    text = "Nǐ  hao3 LU:e"
    normalized, offsets = normalize_with_offsets(text)
    assert normalized == "ni'hao'lve"
    assert len(offsets) == len(normalized) + 1 and offsets[-1] == len(text)
    assert offsets[normalized.index("'")] == 2  # the first space of the run
    assert text[offsets[4]:offsets[7]] == "ao3 "  # a digit stays with the letters before it
    assert text[offsets[7]] == "L"


def test_pinyin_error_is_a_value_error_and_pickles():
    error = PinyinError("not pinyin at position 3: '中'", 3, "中")
    assert isinstance(error, ValueError)
    assert str(error) == "not pinyin at position 3: '中'"
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.position, copy.span) == (str(error), 3, "中")


@given(st.text())
def test_normalize_raises_only_pinyin_error(text):
    try:
        normalized = normalize_input(text)
    except PinyinError as error:
        assert 0 <= error.position <= len(text)
        assert error.span == text[error.position:error.position + len(error.span)]
    else:
        assert normalized and set(normalized) <= set("abcdefghijklmnopqrstuvwxyz'")
        assert not normalized.startswith("'") and not normalized.endswith("'")
        assert "''" not in normalized


def test_import_does_not_load_pypinyin():
    # Inference latency: the inventory is a literal, so pypinyin stays out of the server.
    code = ("import sys, pinyin_hanzi.pinyin, pinyin_hanzi.segment; "
            "sys.exit('pypinyin' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get(
        "PYTHONPATH", "")])}
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0
