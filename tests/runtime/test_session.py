"""Tests for the typing session (pinyin_hanzi.runtime.session) and the input forms the
Converter reads (abbreviated, unfinished, fuzzy), on the shipped default model: what it
answers for common words is what an input method's user sees."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from pinyin_hanzi.pinyin import PinyinError
from pinyin_hanzi.runtime.converter import Converter
from pinyin_hanzi.runtime.session import Session, SessionCandidate
from pinyin_hanzi.spelling import InputOptions
from tiny_run import one_thread


@pytest.fixture(scope="module")
def converter():
    with one_thread():
        yield Converter.load()


def texts(candidates):
    return [c.text for c in candidates]


@pytest.mark.parametrize(
    "text, expected, within",
    [
        ("zgrm", "中国人民", 1),
        ("zhongg", "中国", 1),
        ("zhong g ren m", "中国人民", 1),
        ("zhonguo", "中国", 1),
        ("bjdx", "北京大学", 1),
        ("nh", "你好", 5),
        ("nihaox", "你好像", 5),
        ("xian", "先", 5),  # whole pinyin stays as it was: one syllable
        ("xi'an", "西安", 1),
    ],
)
def test_abbreviated_and_cut_input(converter, text, expected, within):
    assert expected in texts(converter.convert(text, top_k=within))


def test_whole_pinyin_is_read_exactly_as_typed(converter):
    # Abbreviations are tried only when the input is not whole pinyin.
    assert converter.readings("zhongguo", InputOptions()) == [("zhong", "guo")]
    assert converter.convert("ni ha")[0].text != "你好"


def test_unfinished_last_syllable(converter):
    options = InputOptions(complete_last=True)
    assert converter.convert("ni ha", options=options)[0].text == "你好"


@pytest.mark.parametrize(
    "text, pairs, expected",
    [
        ("zongguo", {"z/zh"}, "中国"),
        ("lihao", {"n/l"}, "你好"),
        ("xiansheng", {"an/ang", "en/eng"}, "先生"),
        ("shenme", {"s/sh"}, "什么"),
        ("senme", {"s/sh"}, "什么"),
    ],
)
def test_fuzzy_pairs(converter, text, pairs, expected):
    assert expected in texts(converter.convert(text, options=InputOptions(fuzzy=pairs)))


def test_a_fuzzy_reading_costs_what_the_typed_one_does_not(converter):
    """Each whole syllable read as the other of a fuzzy pair costs FUZZY_SWAP_COST: with
    both readings likely, the one typed wins."""
    from pinyin_hanzi.runtime.converter import FUZZY_SWAP_COST

    fuzzy = InputOptions(fuzzy=frozenset({"z/zh", "n/l"}))
    assert converter.reading_costs("zhongguo", fuzzy, [("zhong", "guo"), ("zong", "guo")]) == [
        0.0, FUZZY_SWAP_COST]
    assert converter.reading_costs("zongluo", fuzzy, [("zhong", "nuo")]) == [
        2 * FUZZY_SWAP_COST]
    # Nothing is charged without fuzzy pairs, nor for completing what was cut short.
    assert converter.reading_costs("zhongguo", InputOptions(), [("zhong", "guo")]) == [0.0]
    assert converter.reading_costs("zhongg", fuzzy, [("zhong", "guo")]) == [0.0]
    # 知道 (zhi dao) typed right stays first with z/zh on, 字 readings do not push it out.
    assert converter.convert("zhidao", options=fuzzy)[0].text == "知道"


def test_a_whole_last_syllable_read_longer_costs_a_completion(converter):
    """While typing, a last syllable typed whole may still grow (xian -> xiang): that reading
    costs COMPLETION_COST, a fuzzy swap elsewhere FUZZY_SWAP_COST, and a syllable cut short
    nothing. So the syllable as typed leads unless its completion is far likelier."""
    from pinyin_hanzi.runtime.converter import COMPLETION_COST, FUZZY_SWAP_COST

    typing = InputOptions(complete_last=True)
    assert converter.reading_costs("wo xian", typing, [("wo", "xian"), ("wo", "xiang")]) == [
        0.0, COMPLETION_COST]
    assert converter.reading_costs("xian", InputOptions(), [("xiang",)]) == [0.0]
    assert converter.reading_costs("zhongg", typing, [("zhong", "guo")]) == [0.0]
    both = InputOptions(complete_last=True, fuzzy=frozenset({"z/zh"}))
    assert converter.reading_costs("zong xian", both, [("zhong", "xiang")]) == [
        FUZZY_SWAP_COST + COMPLETION_COST]
    first = [c.text for c in converter.convert("xian", 5, options=typing)]
    assert first[0] in {"先", "现", "线", "县", "鲜", "闲", "险", "显"}, first


def test_without_abbreviations_cut_input_is_an_error(converter):
    with pytest.raises(PinyinError, match="incomplete syllable"):
        converter.convert("zhongg", options=InputOptions(abbreviated=False))


def test_abbreviations_still_reject_what_is_no_pinyin(converter):
    with pytest.raises(PinyinError, match="not pinyin at position 2"):
        converter.convert("zgv")


# --- Session ---------------------------------------------------------------------------------

def test_select_part_leaves_the_rest_to_convert(converter):
    s = Session(converter)
    s.type("zhongguorenmin")
    cands = s.candidates()
    assert cands[0].text == "中国人民" and cands[0].length == len("zhongguorenmin")
    part = texts(cands).index("中国")
    assert cands[part].length == len("zhongguo")
    assert s.select(part) is None
    assert s.keys == "renmin" and s.preedit == "中国renmin"
    assert s.candidates()[0].text == "人民"
    assert s.select(0) == "中国人民"  # the input is used up: committed
    assert s.keys == "" and s.preedit == "" and s.context == "中国人民"


def test_the_rest_goes_on_from_what_is_selected_and_committed(converter):
    """After 中国 is picked, `renmin` is converted as going on from it (the language models'
    histories start there), and so is the next input after a commit that ends in hanzi;
    after a comma a new clause starts."""
    s = Session(converter)
    on_from = converter.convert("renmin", 5, s.options, context="中国")
    alone = converter.convert("renmin", 5, s.options)
    assert [c.score for c in on_from] != pytest.approx([c.score for c in alone])
    s.type("zhongguorenmin")
    s.select(texts(s.candidates()).index("中国"))
    assert s.before == "中国"
    assert s.candidates()[:5] == [SessionCandidate(c.text, c.score, len("renmin"))
                                  for c in on_from]
    s.reset()
    s.context = "他说中国"
    s.type("renmin")
    assert [c.score for c in s.candidates()[:5]] == pytest.approx([c.score for c in on_from])
    s.context = "他说中国，"
    assert [c.score for c in s.candidates()[:5]] == pytest.approx([c.score for c in alone])


def test_typing_backspace_and_commit(converter):
    s = Session(converter)
    assert s.candidates() == []
    for key in "nih":
        s.type(key)
    assert s.candidates()[0].text == "你好"  # h: the unfinished syllable
    s.type("ao")
    s.backspace()
    assert s.keys == "niha"
    assert s.commit() == s.context == "你好"
    assert s.keys == "" and s.commit() == ""


def test_backspace_with_no_keys_undoes_the_last_selection(converter):
    s = Session(converter)
    s.type("zhongguorenmin")
    s.select(texts(s.candidates()).index("中国"))
    for _ in "renmin":
        s.backspace()
    assert s.preedit == "中国"
    s.backspace()
    assert s.keys == "zhongguo" and s.preedit == "zhongguo"


def test_reset_and_bad_input(converter):
    s = Session(converter)
    s.type("ni3v")
    with pytest.raises(PinyinError):
        s.candidates()
    assert s.commit() == "ni3v"  # no pinyin: the keys as they are
    s.type("wo")
    s.reset()
    assert s.keys == "" and s.candidates() == []
    with pytest.raises(IndexError, match="candidate 0 out of range"):
        s.select(0)


def test_one_converter_many_sessions_many_threads(converter):
    words = ["zhongguo", "nihao", "beijing", "zgrm", "xiexie", "bjdx"]

    def run(word):
        s = Session(converter)
        s.type(word)
        return s.commit()

    alone = [run(w) for w in words]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(run, words * 4)) == alone * 4


def test_predictions_follow_what_was_committed(converter):
    session = Session(converter)
    session.type("jintiantianqi")
    assert session.select(0) == "今天天气"
    predicted = session.predictions()
    assert len(predicted) == 5 and "不错" in predicted
    session.type("zhongguorenmin")
    session.commit()
    assert session.predictions(3) != predicted[:3] and len(session.predictions(3)) == 3


@pytest.mark.parametrize("k", [-1, 2.5, "3"])
def test_predictions_refuse_a_count_that_is_no_count(converter, k):
    """-1 answered some forty words (a slice to the last but one, then the most frequent)."""
    session = Session(converter)
    session.type("zhongguo")
    session.commit()
    with pytest.raises(ValueError, match="k must be a whole number >= 0"):
        session.predictions(k)
    assert session.predictions(0) == []


def test_words_for_a_part_are_looked_up_only_from_the_first_syllable(converter, monkeypatch):
    """The part candidates start at the first syllable: no other span's words are looked up
    (every span was: 2.2 M words for `z`*64 typed a key at a time)."""
    keys = "zgrmzgrmzgrm"
    converter.convert(keys)  # the reading search's own lookups, done and kept
    _, sets = converter.parse(keys, InputOptions())
    asked = []
    real = converter.word_lm.span_words

    def span_words(span):
        asked.append(span)
        return real(span)

    monkeypatch.setattr(converter.word_lm, "span_words", span_words)
    found = Session(converter, keys=keys).candidates()
    assert "中国" in texts(found)
    assert asked and all(span == tuple(sets[:len(span)]) for span in asked)


def test_a_long_input_is_read_as_fewer_readings(converter):
    """Readings of at most READING_SYLLABLES syllables in all: three of `z`*64, six of a
    clause of up to 32 syllables."""
    from pinyin_hanzi.runtime.converter import READING_SYLLABLES

    assert len(converter.readings("z" * 64, InputOptions())) == READING_SYLLABLES // 64 == 3
    assert len(converter.readings("zgrm" * 8, InputOptions())) == 6


@pytest.mark.parametrize("text", ["woxihuanyinhang", "zhongguorenmin", "jintiantianqihenhao",
                                  "ni hao ma", "xi'an", "women qu beijing daxue"])
def test_the_reading_budget_changes_no_answer_on_whole_pinyin(converter, text):
    """Whole pinyin, read as typed, as while typing, or with fuzzy pairs: the same five
    candidates, same scores, as an unbounded reading search gives."""
    from pinyin_hanzi.decode.readings import ReadingSearch
    from pinyin_hanzi.runtime.converter import READING_WORD_BONUS

    unbounded = converter.with_config(converter.config)
    unbounded.reading_search = ReadingSearch(converter.word_lm, converter.vocab,
                                             word_bonus=READING_WORD_BONUS, arcs=10**9)
    for options in (InputOptions(), InputOptions(complete_last=True),
                    InputOptions(fuzzy=frozenset({"z/zh", "n/l", "an/ang", "in/ing"}))):
        assert (converter.convert(text, 5, options=options)
                == unbounded.convert(text, 5, options=options))


@pytest.mark.parametrize("text, options", [
    ("l" * 24, InputOptions(complete_last=True, fuzzy=frozenset(
        {"z/zh", "c/ch", "s/sh", "n/l", "f/h", "r/l", "an/ang", "en/eng", "in/ing"}))),
    ("z" * 24, InputOptions()), ("lnhlslyzlnnszhylnlhzsyln", InputOptions()),
    ("zgrmjhgwmdzy", InputOptions()), ("woxihuanyinh", InputOptions(complete_last=True))])
def test_the_compiled_reading_search_reads_as_the_numpy_one(converter, text, options):
    """The reading search's compiled loops (decode/_lattice.pyx) give the readings its numpy
    code gives, on the costliest kinds of input (issue 35) and on everyday ones."""
    from pinyin_hanzi.decode.readings import Lattice, ReadingSearch
    from pinyin_hanzi.runtime.converter import READING_WORD_BONUS

    if Lattice is None:
        pytest.skip("decode/_lattice.pyx not built")
    _, sets = converter.parse(text, options)
    compiled, numpy = (ReadingSearch(converter.word_lm, converter.vocab,
                                     word_bonus=READING_WORD_BONUS, compiled=c)
                       for c in (True, False))
    got, want = compiled.paths(list(sets)), numpy.paths(list(sets))
    assert [[s[1:] for s in states] for states in got] == [
        [s[1:] for s in states] for states in want]
    assert compiled.readings(list(sets), 6) == numpy.readings(list(sets), 6)


def test_clearing_the_caches_changes_no_answer(converter):
    """Converter.clear_caches (the service, after a burst) forgets parses, the reading
    search's paths and arcs and segment's chunks; the answers stay the same."""
    from pinyin_hanzi.segment import _parse_chunk

    options = InputOptions(complete_last=True)
    before = converter.convert("zgrmjhg", 5, options=options)
    converter.clear_caches()
    assert converter.parse.cache_info().currsize == 0 == _parse_chunk.cache_info().currsize
    assert not converter.reading_search._recent
    assert converter.reading_search._arcs.cache_info().currsize == 0
    assert converter.convert("zgrmjhg", 5, options=options) == before


# --- A long input: the first syllables fixed (issue 32) ---------------------------------------

LONG = "womenyiqiqubeijingdaxuekanyikanzhongguorenmindexinshenghuo"  # 24 syllables


@pytest.fixture
def asked(converter, monkeypatch):
    """The inputs the converter is asked to convert, in order."""
    texts = []
    real = converter.convert

    def convert(text, *args, **kwargs):
        texts.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(converter, "convert", convert)
    return texts


def typed(converter, keys, session=None):
    """`keys` typed a key at a time, each key's candidates asked for."""
    session = session or Session(converter)
    for key in keys:
        session.type(key)
        session.candidates()
    return session


def syllables(converter, text):
    return len(converter.parse(text, InputOptions(complete_last=True))[1])


def test_a_key_of_a_long_input_converts_no_more_than_a_short_one(converter, asked):
    """Late keys of a long input convert only the last WINDOW syllables (up to SLACK more
    while a word spans each place to stop fixing, and the one being typed); the whole-input
    candidates still cover every key."""
    from pinyin_hanzi.runtime.session import SLACK, WINDOW

    assert syllables(converter, LONG) > WINDOW + SLACK
    s = typed(converter, LONG)
    assert len(asked) == len(LONG)
    assert max(syllables(converter, text) for text in asked) <= WINDOW + SLACK + 1
    assert asked[-1] != LONG and LONG.endswith(asked[-1])
    best = s.candidates()[0]
    assert best.length == len(LONG) and len(best.text) == syllables(converter, LONG)
    assert best.text == converter.convert(LONG, options=s.options)[0].text  # as read whole


def test_no_word_is_split_where_the_input_is_fixed(converter):
    """Fixing 天 of 天津市 alone had the rest read as going on from 天: 天仅是把改金新温饱到."""
    keys = "tianjinshibagaijinxinwenbaodaoyugaijinlingdaojiguanzuofeng"
    s = Session(converter)
    for i, key in enumerate(keys):
        s.type(key)
        if i >= len("tianjinshibagaijinxinwenbaodaoyugai"):  # 13 syllables
            assert s.candidates()[0].text.startswith("天津市把"), s.keys
    assert s.candidates()[0].text == "天津市把改进新闻报道与改进领导机关作风"


def test_a_short_input_is_converted_whole_at_every_key(converter, asked):
    keys = "jintiantianqihenhao"
    typed(converter, keys)
    assert asked == [keys[:i] for i in range(1, len(keys) + 1)]


def test_deleting_keys_frees_the_last_fixed_syllables(converter, asked):
    """Keys deleted, the syllables fixed last are converted again, so that a key converts
    WINDOW or more, or the whole input; back to 9 syllables, it is converted whole again."""
    from pinyin_hanzi.runtime.session import SLACK, WINDOW

    s = typed(converter, LONG)
    keep = LONG[:LONG.index("kan")]  # women yiqi qu beijing daxue: 9 syllables
    del asked[:]
    while s.keys != keep:
        s.backspace()
        s.candidates()
        assert (asked[-1] == s.keys
                or WINDOW <= syllables(converter, asked[-1]) <= WINDOW + SLACK + 1)
    assert asked[-1] == keep
    assert s.candidates() == Session(converter, keys=keep).candidates()


def test_selecting_what_was_fixed_keeps_the_rest_fixed(converter, asked):
    from pinyin_hanzi.runtime.session import SLACK, WINDOW

    s = typed(converter, LONG)
    best = s.candidates()[0].text
    part = next(i for i, c in enumerate(s.candidates()) if 1 < len(c.text) < len(best)
                and best.startswith(c.text))
    word = s.candidates()[part].text
    assert s.select(part) is None and s.preedit == word + s.keys
    del asked[:]
    assert word + s.candidates()[0].text == best
    assert len(asked) == 1 and syllables(converter, asked[0]) <= WINDOW + SLACK + 1
    assert asked[0] != s.keys


def test_selecting_other_hanzi_frees_the_fixed_syllables(converter, asked):
    s = typed(converter, LONG)
    best = s.candidates()[0].text
    other = next(i for i, c in enumerate(s.candidates()) if len(c.text) == 1
                 and c.text != best[0])
    s.select(other)
    del asked[:]
    s.candidates()
    assert asked == [s.keys]  # the rest, whole: read as going on from the other hanzi


def test_a_long_input_typed_a_key_at_a_time_is_still_limited(converter):
    """The converter's limit of 64 syllables holds for the whole input, though it converts
    only its end."""
    s = typed(converter, "nihao" * 32)
    assert len(s.candidates()[0].text) == 64
    s.type("w")
    with pytest.raises(PinyinError, match="input too long at position 160: 65 syllables"):
        s.candidates()
    with pytest.raises(PinyinError, match="input too long at position 160: 65 syllables"):
        converter.convert(s.keys)
