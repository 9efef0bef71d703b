"""Tests for pinyin_hanzi.segment: best split, lattice, all splits, errors and limits."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pinyin_hanzi.pinyin import SYLLABLES, PinyinError
from pinyin_hanzi.segment import (ABBREVIATED, FULL, MAX_INPUT_CHARS, MAX_INPUT_SYLLABLES,
                                  PARTIAL, ParseOptions, interjection_by_chance, pieces,
                                  segment)

SORTED_SYLLABLES = sorted(SYLLABLES)


@pytest.mark.parametrize(
    "text, best",
    [
        ("xian", "xian"),  # 先: fewest syllables wins over xi an
        ("xi'an", "xi an"),  # 西安: the apostrophe is a hard boundary
        ("xi an", "xi an"),
        ("xianzai", "xian zai"),  # 现在
        ("nihaoshijie", "ni hao shi jie"),  # 你好世界
        ("fangan", "fan gan"),  # 反感: no vowel-initial syllable after n/g
        ("mingan", "min gan"),  # 敏感
        ("xinan", "xi nan"),  # 西南 rather than 新安
        ("fang'an", "fang an"),  # 方案, when the user says so
        ("zhonge", "zhong e"),  # 中俄: the only two-syllable split
        ("tiananmen", "tian an men"),  # 天安门: the only three-syllable split
        ("lvse", "lv se"),  # 绿色
        ("nve", "nve"),  # 虐
        ("lue", "lve"),  # 略: alias resolved to the canonical spelling
        ("nue", "nve"),
        ("lu'e", "lu e"),
        ("LVSE", "lv se"),
        ("Ni Hao", "ni hao"),
        ("ni'hao", "ni hao"),
        ("  ni '' hao ", "ni hao"),
        ("nǐ hǎo", "ni hao"),  # tone marks
        ("ni3hao3", "ni hao"),  # tone digits
        ("xi1an1", "xian"),  # digits are not boundaries: type xi'an for 西安
        ("lǜsè", "lv se"),
        ("dier", "di er"),  # 第二: vowel-less r is dispreferred to er
        ("huar", "hua r"),  # 花儿
        ("erou", "e rou"),  # vowel after r is dispreferred too
        ("ng", "ng"),  # 嗯
        ("hng", "hng"),  # 哼
        ("zhuangzhuang", "zhuang zhuang"),
        ("a", "a"),  # 啊
    ],
)
def test_best_split(text, best):
    assert segment(text).syllables == tuple(best.split())


@pytest.mark.parametrize(
    "text, split",
    [
        ("xian", "xi an"),  # 西安 is still on offer to the decoder
        ("xian", "xia n"),
        ("fangan", "fang an"),  # 方案
        ("fangan", "fan gan"),
        ("tiananmen", "ti an an men"),
        ("lue", "lu e"),
        ("xianzai", "xi an zai"),
    ],
)
def test_all_splits_include(text, split):
    assert tuple(split.split()) in set(segment(text).all_splits())


@pytest.mark.parametrize(
    "text, splits",
    [
        ("xian", {"xian", "xia n", "xi an", "xi a n"}),
        ("xi'an", {"xi an", "xi a n"}),
        ("ni'hao", {"ni hao", "ni ha o"}),
        ("lvse", {"lv se"}),
        ("zhonge", {"zhong e"}),
    ],
)
def test_all_splits_exactly(text, splits):
    result = list(segment(text).all_splits())
    assert len(result) == len(set(result))
    assert result[0] == segment(text).syllables  # the best split comes first
    assert set(result) == {tuple(s.split()) for s in splits}


def test_lattice():
    seg = segment("xi'an")
    assert seg.normalized == "xi'an"
    # Offset 1 (the i) and 2 (the apostrophe) start nothing; "xia" is not on any full split.
    assert seg.lattice == (("xi",), (), (), ("an", "a"), ("n",))
    assert segment("xian").lattice == (("xian", "xia", "xi"), (), ("an", "a"), ("n",))
    assert segment("lue").lattice == (("lve", "lu"), (), ("e",))


def test_spans_point_into_the_original():
    text = "Ni3 HAO  lu:e"
    seg = segment(text)
    assert seg.syllables == ("ni", "hao", "lve")
    assert [text[a:b] for a, b in seg.spans] == ["Ni3", "HAO", "lu:e"]


def test_all_splits_is_bounded_and_lazy():
    seg = segment("xian" * 64)  # 4**64 splits: must not be materialised
    assert len(seg.syllables) == 64
    first = list(seg.all_splits(limit=50))
    assert len(first) == 50 == len(set(first))
    assert all("".join(split) == seg.normalized for split in first)
    assert list(seg.all_splits(limit=0)) == []
    assert next(seg.all_splits(limit=None)) == seg.syllables


@pytest.mark.parametrize(
    "text, position, span, message",
    [
        ("nihaox", 5, "x", "incomplete syllable at position 5: 'x'"),
        ("abcxyz", 1, "bc", "not pinyin at position 1: 'bc'"),  # a parses, b cannot go on
        ("zhonxguo", 0, "zhonx", "not pinyin at position 0: 'zhonx'"),
        ("ni hao x", 7, "x", "incomplete syllable at position 7: 'x'"),
        ("ni'ix'hao", 3, "i", "not pinyin at position 3: 'i'"),  # no syllable starts with i
        ("Nǐ hǎoq", 6, "q", "incomplete syllable at position 6: 'q'"),  # original offsets
        ("ni好", 2, "好", "not pinyin at position 2: '好'"),
        ("ni好ma", 2, "好", "not pinyin at position 2: '好'"),
        ("中文", 0, "中文", "not pinyin at position 0: '中文'"),
    ],
)
def test_errors(text, position, span, message):
    with pytest.raises(PinyinError) as info:
        segment(text)
    assert (info.value.position, info.value.span) == (position, span)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("text", ["", "  ", "'", " ' '\t"])
def test_input_without_letters_has_no_syllables(text):
    """One rule for empty input in the API, the CLI and the service: nothing to convert."""
    seg = segment(text)
    assert (seg.syllables, seg.spans, seg.kinds) == ((), (), ())
    assert list(seg.all_splits()) == [()]


def test_too_many_characters():
    with pytest.raises(PinyinError, match=f"too long at position {MAX_INPUT_CHARS}") as info:
        segment("a" + " " * MAX_INPUT_CHARS)
    assert info.value.position == MAX_INPUT_CHARS


def test_the_longest_syllables_with_tones_and_spaces_fit_the_character_cap():
    """The character cap never refuses what the syllable cap allows (it did at 256 characters:
    64 spaced syllables of 6 letters are 447)."""
    text = " ".join(["zhuang4"] * MAX_INPUT_SYLLABLES)
    assert len(segment(text).syllables) == MAX_INPUT_SYLLABLES


@pytest.mark.parametrize("unit", ["nihao", "ni hao ", "zgrm"])
def test_the_syllable_cap_holds_however_long_the_text(unit):
    """65 syllables and more are refused at any length."""
    options = ParseOptions(abbreviated=True)
    per = len(segment(unit, options=options).syllables)
    segment(unit * (MAX_INPUT_SYLLABLES // per), options=options)
    for count in (MAX_INPUT_SYLLABLES // per + 1, 52, 200):
        with pytest.raises(PinyinError, match="too long"):
            segment(unit * count, options=options)


@pytest.mark.parametrize("text, limit, parts", [
    ("nihao", 4, ["nihao"]),
    ("nihao" * 3, 4, ["nihaonihao", "nihao"]),
    ("ni hao ma", 2, ["ni hao ", "ma"]),
    ("xi'an" * 2, 3, ["xi'anxi'", "an"]),
])
def test_pieces_cut_between_syllables(text, limit, parts):
    assert pieces(text, limit) == parts


def test_pieces_of_ten_thousand_syllables_keep_every_letter():
    parts = pieces("nihao" * 5000)
    assert len(parts) == 10_000 // MAX_INPUT_SYLLABLES + 1
    assert "".join(parts) == "nihao" * 5000
    assert all(len(segment(p).syllables) <= MAX_INPUT_SYLLABLES for p in parts)


def test_pieces_name_what_is_not_pinyin_at_its_place_in_the_whole_text():
    with pytest.raises(PinyinError, match="position 500"):
        pieces("nihao" * 100 + "好")


def test_too_many_syllables():
    segment("'".join(["a"] * MAX_INPUT_SYLLABLES))
    with pytest.raises(PinyinError, match="65 syllables, at most 64") as info:
        segment("'".join(["a"] * (MAX_INPUT_SYLLABLES + 1)))
    assert info.value.position == 2 * MAX_INPUT_SYLLABLES  # where the 65th syllable starts
    with pytest.raises(PinyinError, match="3 syllables, at most 2"):
        segment("ni hao ma", max_len=2)
    assert len(segment("a" * 100, max_len=100).syllables) == 100


@pytest.mark.parametrize(
    "text, best, partial",
    [
        ("nih", "ni h", True),  # 你h…: the user is still typing
        ("zh", "zh", True),
        ("nihaozh", "ni hao zh", True),
        ("zhuanj", "zhuan j", True),
        ("xian", "xian", False),  # complete input stays complete
        ("nihaon", "ni hao n", False),  # n is a syllable (嗯)
    ],
)
def test_allow_partial(text, best, partial):
    seg = segment(text, options=ParseOptions(partial=True))
    assert seg.syllables == tuple(best.split()) and seg.partial is partial


def test_partial_only_at_the_end():
    with pytest.raises(PinyinError, match="incomplete syllable at position 0: 'zh'"):
        segment("zh'ni", options=ParseOptions(partial=True))
    with pytest.raises(PinyinError, match="incomplete syllable"):
        segment("nih")


ABBREVIATIONS = ParseOptions(partial=True, abbreviated=True)


@pytest.mark.parametrize(
    "text, best, kinds",
    [
        ("zgrm", "z g r m", "AAFF"),  # r and m are syllables too (spelling.py widens them)
        ("nh", "n h", "FP"),
        ("zhongg", "zhong g", "FP"),
        ("zhonguo", "zhon guo", "AF"),  # zhong uo is no split
        ("zhong g ren m", "zhong g ren m", "FAFF"),
        ("zh'g", "zh g", "AP"),
        ("xian", "xian", "F"),  # whole pinyin parses as it would without the option
        ("xianzai", "xian zai", "FF"),
        ("fangan", "fan gan", "FF"),
    ],
)
def test_abbreviated(text, best, kinds):
    seg = segment(text, options=ABBREVIATIONS)
    letter = {"F": FULL, "P": PARTIAL, "A": ABBREVIATED}
    assert seg.syllables == tuple(best.split())
    assert seg.kinds == tuple(letter[k] for k in kinds)


def test_abbreviated_may_end_cut_too():
    # Without `partial`, a cut last syllable is an abbreviation like the others.
    assert segment("zgzh", options=ParseOptions(abbreviated=True)).kinds == (ABBREVIATED,) * 3


def test_abbreviated_still_rejects_what_is_no_pinyin():
    with pytest.raises(PinyinError, match="not pinyin at position 2: 'v'"):
        segment("zgv", options=ABBREVIATIONS)


# --- properties ------------------------------------------------------------------------------

pinyinish = st.text(alphabet="aeginouvxzhr' AEGNZH", max_size=40)


@given(st.one_of(st.text(), pinyinish), st.booleans(), st.booleans())
def test_raises_only_pinyin_error(text, partial, abbreviated):
    try:
        seg = segment(text, options=ParseOptions(partial, abbreviated))
    except PinyinError as error:
        assert 0 <= error.position <= len(text)
        assert error.span == text[error.position:error.position + len(error.span)]
        return
    assert len(seg.syllables) <= MAX_INPUT_SYLLABLES
    assert bool(seg.syllables) == bool(seg.normalized)  # none only when there are no letters
    # Every letter is covered once (aliases such as lue -> lve keep their length).
    assert len("".join(seg.syllables)) == len(seg.normalized.replace("'", ""))
    for split in seg.all_splits(limit=20):
        assert len(split) >= len(seg.syllables)  # nothing beats the best on count


@given(st.lists(st.sampled_from(SORTED_SYLLABLES), min_size=1, max_size=20),
       st.sampled_from(["'", " ", "' ", "  "]))
def test_separated_syllables_round_trip(syllables, separator):
    assert segment(separator.join(syllables)).syllables == tuple(syllables)


@given(pinyinish)
def test_case_insensitive(text):
    def outcome(t):
        try:
            seg = segment(t)
            return seg.syllables, seg.lattice
        except PinyinError as error:
            return str(error).lower(), error.position

    assert outcome(text.upper()) == outcome(text) == outcome(text.lower())


@given(st.lists(st.sampled_from(SORTED_SYLLABLES), min_size=1, max_size=20))
def test_unseparated_syllables_stay_in_the_lattice(syllables):
    # Without apostrophes the best split may differ (xi an -> xian), but the typed split is
    # always a path through the lattice, and the best has no more syllables than it.
    seg = segment("".join(syllables))
    assert len(seg.syllables) <= len(syllables)
    offset = 0
    for syllable in syllables:
        assert syllable in seg.lattice[offset]
        offset += len(syllable)


@pytest.mark.parametrize("text, split", [("nhm", ("n", "h", "m")), ("nhng", ("n", "h", "n", "g")),
                                         ("wsngh", ("w", "s", "n", "g", "h"))])
def test_abbreviations_never_use_interjections(text, split):
    """`nhm` was n hm (你噷: hm is a syllable, and one fewer won); cut, it is n h m (你好吗)."""
    assert segment(text, options=ParseOptions(abbreviated=True)).syllables == split


@pytest.mark.parametrize("text, by_chance", [("nhm", True), ("ni hm", True), ("hm", False),
                                             ("ng", False), ("hng", False), ("nihao", False)])
def test_interjection_by_chance(text, by_chance):
    assert interjection_by_chance(segment(text)) == by_chance


def test_few_long_chunks_are_remembered():
    """Syllables and short chunks repeat and are remembered (512); chunks of more than
    LONG_CHUNK letters, typed unspaced, hardly ever do, and held ~30 KB each at 64 letters:
    only the last LONG_CHUNKS are kept (issue 35: 390 of them were 11.5 MB of a burst)."""
    from pinyin_hanzi.segment import (LONG_CHUNK, LONG_CHUNKS, _parse_chunk, _parse_long_chunk,
                                      clear_segment_cache)

    clear_segment_cache()
    cut = ParseOptions(abbreviated=True)
    for k in range(LONG_CHUNKS + 8):
        long = "zh" * 20 + "lnsy"[k % 4] * (k + 1)
        assert len(long) > LONG_CHUNK
        assert segment(long, options=cut).syllables == segment(long, options=cut).syllables
    segment("ni hao'zhong guo", options=cut)
    assert _parse_chunk.cache_info().currsize == 4  # ni, hao, zhong, guo
    assert _parse_long_chunk.cache_info().currsize == LONG_CHUNKS
    assert _parse_long_chunk.cache_info().hits == LONG_CHUNKS + 8  # each asked for twice
    clear_segment_cache()
    assert _parse_chunk.cache_info().currsize == 0 == _parse_long_chunk.cache_info().currsize
