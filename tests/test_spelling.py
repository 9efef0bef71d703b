"""Tests for pinyin_hanzi.spelling: what each typed syllable may stand for."""

import pytest

from pinyin_hanzi.pinyin import SYLLABLES
from pinyin_hanzi.segment import ParseOptions, segment
from pinyin_hanzi.spelling import FUZZY_PAIRS, InputOptions, is_erhua, syllable_sets

CUT = ParseOptions(abbreviated=True)


def sets(text, parse=ParseOptions(), **options):
    return [set(s) for s in syllable_sets(segment(text, options=parse), InputOptions(**options))]


@pytest.mark.parametrize(
    "text, parse, options, expected",
    [
        ("ni hao", ParseOptions(), {}, [{"ni"}, {"hao"}]),
        ("ni ha", ParseOptions(), {"complete_last": True},
         [{"ni"}, {"ha", "hai", "han", "hang", "hao"}]),
        ("zhon guo", CUT, {}, [{"zhong"}, {"guo"}]),
        ("nv", ParseOptions(), {"complete_last": True}, [{"nv", "nve"}]),
        ("nu", ParseOptions(), {"complete_last": True},
         [{"nu", "nuan", "nun", "nuo", "nve"}]),  # nue is typed for nve
        ("lue", ParseOptions(), {}, [{"lve"}]),  # an alias spelling
        ("zong", ParseOptions(), {"fuzzy": {"z/zh"}}, [{"zong", "zhong"}]),
        ("zong", ParseOptions(), {"fuzzy": {"z/zh", "en/eng"}}, [{"zong", "zhong"}]),
        ("xian", ParseOptions(), {"fuzzy": {"an/ang"}}, [{"xian"}]),  # ian is its own pair
        ("xian", ParseOptions(), {"fuzzy": {"ian/iang"}}, [{"xian", "xiang"}]),
        ("chuan", ParseOptions(), {"fuzzy": {"c/ch", "uan/uang"}},
         [{"chuan", "chuang", "cuan"}]),  # cuang is no syllable
        ("lan", ParseOptions(), {"fuzzy": {"n/l", "an/ang"}}, [{"lan", "lang", "nan", "nang"}]),
        ("ren", ParseOptions(), {"fuzzy": {"r/l"}}, [{"ren", "len"}]),
        ("fu", ParseOptions(), {"fuzzy": {"f/h"}}, [{"fu", "hu"}]),
        ("xin", ParseOptions(), {"fuzzy": {"in/ing"}}, [{"xin", "xing"}]),
        ("zhen", ParseOptions(), {"fuzzy": {"en/eng"}}, [{"zhen", "zheng"}]),
    ],
)
def test_syllable_sets(text, parse, options, expected):
    assert sets(text, parse, **options) == expected


def test_an_initial_stands_for_every_syllable_it_begins():
    g, = sets("g", CUT)
    assert g == {s for s in SYLLABLES if s.startswith("g")}
    z, = sets("z", CUT)
    assert {"zhong", "zi", "zuo"} <= z  # z begins zh syllables too, as in Rime
    assert not {"ce", "a"} & z


def test_consonant_syllables_widen_only_when_abbreviating():
    assert sets("m", ParseOptions(), abbreviated=False) == [{"m"}]
    assert {"m", "ma", "men"} <= sets("m", ParseOptions())[0]


def test_every_fuzzy_variant_is_a_syllable():
    for text in ("zhuang", "shang", "ceng", "lin", "nian", "huan", "ri"):
        for group in sets(text, fuzzy=set(FUZZY_PAIRS)):
            assert group <= SYLLABLES and text in group


def test_unknown_fuzzy_pair_is_named():
    with pytest.raises(ValueError, match="unknown fuzzy pair 'k/g'"):
        InputOptions(fuzzy={"k/g"})


def test_one_pair_as_a_string_is_no_set_of_pairs():
    """Its letters were taken for pairs: "unknown fuzzy pair '/'"."""
    with pytest.raises(TypeError, match="fuzzy is a set of pairs.*got the string 'z/zh'"):
        InputOptions(fuzzy="z/zh")
    assert InputOptions(fuzzy=["z/zh"]).fuzzy == {"z/zh"}


@pytest.mark.parametrize("text, pairs, expected", [
    ("ren", {"n/l", "r/l"}, [{"ren", "len"}]),  # r -> l, but not on to n
    ("nan", {"n/l", "r/l"}, [{"nan", "lan"}]),  # n -> l, but not on to r
    ("lan", {"n/l", "r/l", "an/ang"}, [{"lan", "nan", "ran", "lang", "nang", "rang"}]),
])
def test_fuzzy_pairs_swap_what_was_typed_and_do_not_chain(text, pairs, expected):
    assert sets(text, fuzzy=pairs) == expected


def test_fuzzy_sets_are_the_same_under_every_hash_seed():
    """Two processes (two `serve --processes` workers) read `nan'ren` alike: the pairs were
    applied in the frozenset's order, which the hash seed decides."""
    import os
    import subprocess
    import sys

    code = ("from pinyin_hanzi.segment import segment\n"
            "from pinyin_hanzi.spelling import InputOptions, FUZZY_PAIRS, syllable_sets\n"
            "options = InputOptions(fuzzy=frozenset(FUZZY_PAIRS))\n"
            "print([sorted(s) for s in syllable_sets(segment(\"nan'ren\"), options)])")
    seen = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout
            for seed in range(8)}
    assert len(seen) == 1, seen
    assert "'rang'" not in seen.pop()


@pytest.mark.parametrize("text, parse, options, erhua", [
    ("na r", ParseOptions(), {"abbreviated": False}, {"er"}),
    ("nar", ParseOptions(), {"abbreviated": False}, {"er"}),
    ("yi dian r", ParseOptions(), {"abbreviated": False}, {"er"}),
    ("na r", ParseOptions(), {}, {"er", "ren", "ru", "rang"}),  # or an initial, as in Rime
])
def test_a_bare_r_after_a_syllable_is_erhua(text, parse, options, erhua):
    """HSK and many textbooks write 哪儿 `na r`: the r was read only as an abbreviation of
    人/热/让, or with abbreviations off as the syllable r, which no hanzi reads."""
    found = sets(text, parse, **options)[-1]
    assert erhua <= found and "r" not in found
    assert ("er" in found) and (len(found) == 1) == (options == {"abbreviated": False})


@pytest.mark.parametrize("text", ["r", "zgr", "z g r"])
def test_an_r_not_after_a_whole_syllable_is_an_initial(text):
    found = sets(text, CUT)[-1]
    assert "er" not in found and {"ren", "ri"} <= found


def test_is_erhua_needs_a_whole_syllable_with_a_vowel_before():
    seg = segment("na r zg r", options=CUT)
    assert [is_erhua(seg, i) for i in range(len(seg.syllables))] == [
        False, True, False, False, False]
