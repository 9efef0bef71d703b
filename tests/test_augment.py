"""Tests for pinyin_hanzi.data.augment: abbreviations, fuzzy pinyin, separators, determinism."""

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinyin_hanzi.data.augment import (
    FUZZY_PAIRS,
    FUZZY_VARIANTS,
    abbreviate,
    fuzzy,
    initial,
    separators,
)
from pinyin_hanzi.pinyin import SYLLABLES
from pinyin_hanzi.segment import segment

SORTED_SYLLABLES = sorted(SYLLABLES)
# 中华人民共和国: long enough that a mixed rate shows both outcomes for any seed we use.
PRC = "zhong hua ren min gong he guo".split()

syllable_lists = st.lists(st.sampled_from(SORTED_SYLLABLES), min_size=1, max_size=20)
probabilities = st.floats(min_value=0.0, max_value=1.0)
seeds = st.integers(min_value=0, max_value=2**32)


# --- abbreviate ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "syllables, abbreviated",
    [
        ("zhong guo ren min", "zh g r m"),  # 中国人民: zh is one initial
        ("chang cheng", "ch ch"),  # 长城
        ("shang hai", "sh h"),  # 上海
        ("zi ci si", "z c s"),  # 自此四: plain z c s stay one letter
        ("wo men", "w m"),  # 我们: IMEs take y and w as initials
        ("yi yang", "y y"),  # 一样
        ("lv se", "l s"),  # 绿色
        ("a e ou er", "a e ou er"),  # 啊饿欧二: no consonant initial, kept whole
        ("ai ang en", "ai ang en"),  # 爱昂恩
        ("ng hm m r", "n h m r"),  # 嗯哼呣儿: vowel-less syllables
        ("", ""),
    ],
)
def test_abbreviate_all(syllables, abbreviated):
    assert abbreviate(syllables.split(), 0) == abbreviated.split()
    assert [initial(s) for s in syllables.split()] == abbreviated.split()


@pytest.mark.parametrize(
    "seed, mixed",
    [
        (0, "zhong hua r m gong h guo"),
        (1, "zh hua ren m g h guo"),
    ],
)
def test_abbreviate_mixed(seed, mixed):
    assert abbreviate(PRC, seed, p=0.5) == mixed.split()


def test_abbreviate_never():
    assert abbreviate(PRC, 0, p=0.0) == PRC


@given(syllable_lists, seeds, probabilities)
def test_abbreviate_keeps_or_abbreviates_each_syllable(syllables, seed, p):
    out = abbreviate(syllables, seed, p)
    assert len(out) == len(syllables)
    assert all(o in (s, initial(s)) for o, s in zip(out, syllables))


INITIALS = set("b p m f d t n l g k h j q x r z c s y w zh ch sh".split())


def test_initial_of_every_syllable():
    for s in SORTED_SYLLABLES:
        if s[0] in "aeo":
            assert initial(s) == s
        else:
            assert initial(s) in INITIALS and s.startswith(initial(s))
            assert initial(s) == s[:2] or s[:2] not in ("zh", "ch", "sh")


def test_abbreviate_rate():
    out = abbreviate(["zhong"] * 2000, 0, p=0.3)
    assert 500 <= out.count("zh") <= 700  # 600 expected, sd 20


# --- fuzzy -----------------------------------------------------------------------------------

def test_fuzzy_pairs_are_the_southern_confusions():
    assert set(FUZZY_PAIRS) == {
        ("initial", "z", "zh"), ("initial", "c", "ch"), ("initial", "s", "sh"),
        ("initial", "n", "l"), ("initial", "f", "h"),
        ("final", "an", "ang"), ("final", "en", "eng"), ("final", "in", "ing"),
    }


@pytest.mark.parametrize(
    "syllable, variants",
    [
        ("zhi", "zi"),  # 知 -> 资, never the illegal zhing
        ("zi", "zhi"),
        ("lan", "nan lang nang"),  # 蓝 -> 南 狼 囊: initial, final, or both
        ("nv", "lv"),  # 女 -> 绿
        ("shen", "sen sheng seng"),  # 深 -> 森 生 僧
        ("zhang", "zan zang zhan"),  # 张
        ("chuang", "chuan cuan"),  # 窗: cuang is not a syllable
        ("fei", "hei"),  # 飞 -> 黑
        ("hu", "fu"),  # 湖 -> 服
        ("xin", "xing"),  # 新 -> 星
        ("xian", "xiang"),  # 先 -> 香: the ending of ian counts
        ("an", "ang"),  # 安 -> 昂: no initial needed
        ("ba", ""),  # 八: nothing to confuse
        ("song", ""),  # 送: shong and sang are not on offer
        ("n", ""),  # 嗯: l alone is not a syllable
    ],
)
def test_fuzzy_variants(syllable, variants):
    assert FUZZY_VARIANTS[syllable] == tuple(sorted(variants.split()))


@pytest.mark.parametrize(
    "a, b",
    [
        ("zai", "zhai"), ("cai", "chai"), ("si", "shi"), ("nan", "lan"), ("fu", "hu"),
        ("ban", "bang"), ("chen", "cheng"), ("jin", "jing"),
    ],
)
def test_every_pair_works_both_ways(a, b):
    assert b in FUZZY_VARIANTS[a] and a in FUZZY_VARIANTS[b]


def test_fuzzy_variants_are_legal_and_symmetric():
    assert set(FUZZY_VARIANTS) == SYLLABLES
    for syllable, variants in FUZZY_VARIANTS.items():
        assert syllable not in variants and set(variants) <= SYLLABLES
        assert all(syllable in FUZZY_VARIANTS[v] for v in variants)


@pytest.mark.parametrize(
    "syllable, p, produced",
    [
        ("zhi", 0.5, {"zi", "zhi"}),
        ("zhi", 1.0, {"zi"}),
        ("lan", 1.0, {"nan", "lang", "nang"}),
        ("lan", 0.0, {"lan"}),
        ("ba", 1.0, {"ba"}),
    ],
)
def test_fuzzy_produces(syllable, p, produced):
    assert set(fuzzy([syllable] * 300, 0, p)) == produced


@pytest.mark.parametrize(
    "syllables, seed, p, out",
    [
        ("wo men shi zhong guo ren", 7, 0.5, "wo meng si zong guo reng"),  # 我们是中国人
        ("lan zhi fei xin", 3, 1.0, "nang zi hei xing"),  # 蓝纸飞信
    ],
)
def test_fuzzy_seeded(syllables, seed, p, out):
    assert fuzzy(syllables.split(), seed, p) == out.split()


def test_fuzzy_passes_unknown_syllables_through():
    assert fuzzy(["zh", "xyz"], 0, 1.0) == ["zh", "xyz"]


@given(syllable_lists, seeds, probabilities)
def test_fuzzy_only_makes_legal_syllables(syllables, seed, p):
    out = fuzzy(syllables, seed, p)
    assert len(out) == len(syllables)
    assert all(o in SYLLABLES for o in out)
    assert all(o == s or o in FUZZY_VARIANTS[s] for o, s in zip(out, syllables))


@given(syllable_lists, seeds)
def test_fuzzy_always(syllables, seed):
    out = fuzzy(syllables, seed, 1.0)
    assert all((o == s) == (not FUZZY_VARIANTS[s]) for o, s in zip(out, syllables))


# --- separators ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "syllables, seed, p_missing, p_extra, text",
    [
        ("xi an", 0, 0.5, 0.0, "xi'an"),  # 西安
        ("xi an", 1, 0.5, 0.0, "xian"),  # now it reads 先 first, but xi an is still a split
        ("xi an", 2, 0.5, 0.0, "xi an"),
        ("xi an zai ma", 0, 0.5, 0.5, "xi''anzai'ma"),  # 西安在吗
        ("wo men qu xi an", 2, 0.5, 0.5, "wo 'men' qu xi'an"),  # 我们去西安
        ("xian zai", 0, 1.0, 1.0, "xianzai"),  # 现在: nothing missing has nothing to double
        ("ni", 0, 0.0, 1.0, "ni"),  # 你: no boundary, no separator
        ("", 0, 0.0, 1.0, ""),
    ],
)
def test_separators_seeded(syllables, seed, p_missing, p_extra, text):
    assert separators(syllables.split(), seed, p_missing, p_extra) == text


@pytest.mark.parametrize(
    "p_extra, boundary",
    [
        (0.0, r"[ ']"),  # exactly one separator per boundary
        (1.0, r"[ ']{2}"),  # exactly two
    ],
)
def test_separators_all_present(p_extra, boundary):
    text = separators(PRC, 0, 0.0, p_extra)
    assert re.fullmatch(rf"[a-z]+(?:{boundary}[a-z]+)*", text)
    assert re.split(r"[ ']+", text) == PRC
    assert " " in text and "'" in text  # both kinds are used


@given(st.lists(st.sampled_from(SORTED_SYLLABLES), min_size=1, max_size=8), seeds,
       probabilities, probabilities)
def test_separators_keep_the_syllables_a_split(syllables, seed, p_missing, p_extra):
    text = separators(syllables, seed, p_missing, p_extra)
    assert re.sub(r"[ ']", "", text) == "".join(syllables)
    assert not re.search(r"^[ ']|[ ']$|[ ']{3}", text)
    # Missing separators may change the best split (xi an -> xian), never lose the typed one.
    target = tuple(syllables)
    assert any(split == target for split in segment(text).all_splits(limit=None))


@given(syllable_lists, seeds, probabilities)
def test_separators_present_segment_exactly(syllables, seed, p_extra):
    text = separators(syllables, seed, 0.0, p_extra)
    assert segment(text).syllables == tuple(syllables)


# --- determinism and arguments ---------------------------------------------------------------

AUGMENTS = [
    lambda s, rng: abbreviate(s, rng, 0.5),
    lambda s, rng: fuzzy(s, rng, 0.5),
    lambda s, rng: separators(s, rng, 0.5, 0.5),
]
LONG = "wo men shi zhong guo ren zhang san lan hua xin nian".split() * 4


@pytest.mark.parametrize("augment", AUGMENTS, ids=["abbreviate", "fuzzy", "separators"])
def test_seed_fixes_the_output(augment):
    assert augment(LONG, 5) == augment(LONG, 5) == augment(LONG, random.Random(5))
    assert augment(LONG, 5) != augment(LONG, 6)
    rng = random.Random(5)
    assert augment(LONG, rng) != augment(LONG, rng)  # a shared rng draws fresh noise


@pytest.mark.parametrize("augment", AUGMENTS, ids=["abbreviate", "fuzzy", "separators"])
def test_global_random_untouched(augment):
    random.seed(123)
    state = random.getstate()
    augment(LONG, 0)
    assert random.getstate() == state


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: abbreviate(PRC, 0, p=1.5), ValueError, r"p must be in \[0, 1\], got 1.5"),
        (lambda: fuzzy(PRC, 0, p=-0.1), ValueError, r"p must be in \[0, 1\]"),
        (lambda: separators(PRC, 0, 2.0, 0.0), ValueError, r"p_missing must be in \[0, 1\]"),
        (lambda: separators(PRC, 0, 0.0, -1.0), ValueError, r"p_extra must be in \[0, 1\]"),
        (lambda: abbreviate(PRC, None), TypeError, "rng must be a random.Random or an int"),
        (lambda: fuzzy(PRC, random, 0.5), TypeError, "rng must be"),  # the module: global state
    ],
)
def test_bad_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
