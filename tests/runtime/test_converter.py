"""Tests for pinyin_hanzi.runtime.converter: the Converter on a tiny model trained once per
session, and the windows long inputs are scored in."""

import json
import math
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from pinyin_hanzi.checkpoint import NGRAM_FILE, ModelDirError
from pinyin_hanzi.decode.config import Candidate
from pinyin_hanzi.lm.corpus import training_clauses
from pinyin_hanzi.lm.ngram import CharNgram
from pinyin_hanzi.pinyin import PinyinError
from pinyin_hanzi.runtime.converter import (MAX_TOP_K, Converter, length_batches,
                                            owner_of_positions, windows)
from pinyin_hanzi.segment import MAX_INPUT_SYLLABLES
from pinyin_hanzi.spelling import InputOptions
from tiny_run import one_thread, shared_data, shared_run


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with one_thread():
        yield


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return shared_run(tmp_path_factory) / "model"


@pytest.fixture(scope="module")
def converter(model_dir):
    return Converter.load(model_dir)


# --- Converter -------------------------------------------------------------------------------

INPUTS = ["ni hao", "zhong guo", "cheng shi", "quan li", "hui yi", "yin hang", "xing zou",
          "zhong yao", "chong xin", "wo men jin tian xue xi"]


def assert_legal(converter, syllables: list[str], candidates: list[Candidate]):
    for c in candidates:
        assert len(c.text) == len(syllables)
        for char, syllable in zip(c.text, syllables):
            assert char in converter.vocab.candidates[syllable], (char, syllable)


@pytest.mark.parametrize("text", INPUTS)
def test_convert_gives_distinct_legal_candidates_best_first(converter, text):
    syllables = text.split()
    cands = converter.convert(text, top_k=3)
    assert all(isinstance(c, Candidate) for c in cands)
    # Every combination of candidates is a clause, so there are exactly min(3, their number).
    width = converter.config.width
    combinations = math.prod(min(width, len(converter.vocab.candidates[s])) for s in syllables)
    assert combinations >= 1  # a syllable without candidates would give [], and prove nothing
    assert len(cands) == min(3, combinations)
    assert len({c.text for c in cands}) == len(cands)
    assert [c.score for c in cands] == sorted((c.score for c in cands), reverse=True)
    assert all(c.score <= 0 for c in cands)  # log-probabilities
    assert_legal(converter, syllables, cands)


def test_convert_has_something_to_choose(converter):
    # The table above would pass on a model with one candidate per syllable; these do not.
    assert len(converter.convert("cheng shi", top_k=3)) == 3
    assert len(converter.convert("quan li", top_k=3)) == 3


@pytest.mark.parametrize(
    "text, position, message",
    [
        ("ni好", 2, "not pinyin at position 2: '好'"),
        ("xyz", 0, "at position 0: 'xy'"),
        ("nihaox", 5, "incomplete syllable at position 5: 'x'"),
        ("ni hao, zhong guo", 6, "not pinyin at position 6: ','"),
    ],
)
def test_convert_rejects_invalid_pinyin_with_its_position(converter, text, position, message):
    with pytest.raises(PinyinError) as error:
        converter.convert(text)
    assert isinstance(error.value, ValueError)
    assert error.value.position == position
    assert message in str(error.value)


def test_a_syllable_no_hanzi_reads_is_an_error_not_an_empty_answer(converter):
    unreadable = sorted(s for s, cands in converter.vocab.candidates.items() if not cands)
    assert unreadable, "the tiny vocabulary covers every syllable: pick another input"
    text = f"ni hao {unreadable[0]}"
    with pytest.raises(PinyinError) as error:
        converter.convert(text)
    assert error.value.position == 7
    assert repr(unreadable[0]) in str(error.value)


@pytest.mark.parametrize(
    "typed, spaced",
    [
        ("nihao", "ni hao"),
        ("zhongguo", "zhong guo"),
        ("yinhang", "yin hang"),
        ("NiHao", "ni hao"),
        ("nǐhǎo", "ni hao"),
        ("zhong1guo2", "zhong guo"),
        ("wo'men", "wo men"),
    ],
)
def test_typed_forms_convert_like_spaced_syllables(converter, typed, spaced):
    assert converter.convert(typed, top_k=5) == converter.convert(spaced, top_k=5)


def test_input_longer_than_the_window_is_not_truncated(converter):
    assert converter.max_len == 64
    syllables = ("wo men zhong guo cheng shi yin hang hui yi " * 15).split()
    assert len(syllables) == 150
    cands = converter.convert_syllables([syllables], top_k=2)[0]
    assert len(cands) == 2
    assert [len(c.text) for c in cands] == [150, 150]
    assert_legal(converter, syllables, cands)


def test_convert_many_equals_convert_one_by_one(converter):
    many = converter.convert_many(INPUTS, top_k=4, batch_size=3)
    one_by_one = [converter.convert(text, top_k=4) for text in INPUTS]
    assert [[c.text for c in cands] for cands in many] == [
        [c.text for c in cands] for cands in one_by_one]
    # Scores agree up to float rounding: a batch pads inputs to a common length.
    for a, b in zip(many, one_by_one):
        assert [c.score for c in a] == pytest.approx([c.score for c in b], abs=1e-5)


def test_concurrent_calls_give_the_sequential_results(converter):
    sequential = [converter.convert(text, top_k=3) for text in INPUTS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            assert list(pool.map(lambda t: converter.convert(t, top_k=3), INPUTS)) == sequential


@pytest.mark.parametrize("top_k", [0, MAX_TOP_K + 1, 10_000])
def test_top_k_must_be_within_the_cap(converter, top_k):
    with pytest.raises(ValueError, match=f"top_k must be 1 to {MAX_TOP_K}, got {top_k}"):
        converter.convert("ni hao", top_k=top_k)


@pytest.mark.parametrize("call, message", [
    (lambda c: c.convert(b"nihao"), "pinyin must be a string, got bytes"),
    (lambda c: c.convert(None), "pinyin must be a string, got NoneType"),
    (lambda c: c.convert_many("nihao"), "convert_many takes a list of texts"),
    (lambda c: c.convert("nihao", top_k=1.5), "top_k must be a whole number, got 1.5"),
    (lambda c: c.convert("nihao", top_k="3"), "top_k must be a whole number, got '3'"),
    (lambda c: c.convert("nihao", context=5), "context must be a string, got int"),
    (lambda c: c.convert("nihao", options={"fuzzy": ["z/zh"]}),
     "options must be a spelling.InputOptions, got dict"),
])
def test_arguments_of_the_wrong_type_are_named(converter, call, message):
    """bytes were an AttributeError from deep in the parser, a string given as the list was
    converted letter by letter ("not pinyin at position 0: 'i'"), top_k=1.5 was "slice
    indices must be integers"."""
    with pytest.raises(TypeError, match=message):
        call(converter)
    assert converter.convert("nihao", top_k=np.int64(2))  # numpy's whole numbers are whole


@pytest.mark.parametrize("inputs, message", [
    ([["ni", "hoa"]], "'hoa' is not a syllable this model knows"),
    (["ni hao"], r"an input is a list of one or more syllables.*got 'ni hao'"),
    ([[]], r"an input is a list of one or more syllables.*got \[\]"),
])
def test_candidate_scores_name_an_input_that_is_no_syllables(converter, inputs, message):
    """README's way to try a decoder of one's own: a typo was a bare KeyError, a string
    KeyError 'i', and an empty input an onnxruntime Reshape failure."""
    with pytest.raises(ValueError, match=message):
        converter.candidate_scores(inputs)


@pytest.mark.parametrize("threads", ["2", -1, 1.5])
def test_load_names_a_thread_count_that_is_no_count(threads):
    """"2" was onnxruntime's "incompatible function arguments", -1 was taken."""
    with pytest.raises(ValueError, match="threads must be a whole number >= 0"):
        Converter.load(threads=threads)


def test_convert_many_reads_any_iterable_once(converter):
    """A generator was "object of type 'generator' has no len()"."""
    assert converter.convert_many(t for t in ["ni hao", "zhong guo"]) == converter.convert_many(
        ["ni hao", "zhong guo"])


def test_top_k_at_the_cap_is_answered(converter):
    assert 1 <= len(converter.convert("ni hao", top_k=MAX_TOP_K)) <= MAX_TOP_K


@pytest.mark.parametrize("text", ["", "   ", "'", " ' "])
def test_input_without_letters_has_no_candidates(converter, text):
    assert converter.convert(text) == []
    assert converter.convert_many([text, "ni hao", text]) == [
        [], converter.convert("ni hao"), []]


@pytest.mark.parametrize("unit, per", [("nihao", 2), ("ni hao ", 2), ("zhong1 ", 1)])
def test_the_syllable_limit_holds_at_every_length(converter, unit, per):
    """At most MAX_INPUT_SYLLABLES, however many characters: 33 `nihao` were refused, 52
    (over 256 characters) accepted, and 10,000 took 12.8 GB."""
    assert len(converter.convert(unit * (MAX_INPUT_SYLLABLES // per), 1)[0].text) == 64
    for count in (MAX_INPUT_SYLLABLES // per + 1, 3 * MAX_INPUT_SYLLABLES // per, 1000):
        with pytest.raises(PinyinError, match="too long"):
            converter.convert(unit * count, 1)


def test_load_names_a_missing_model(tmp_path):
    with pytest.raises(ModelDirError, match="nothing-here"):
        Converter.load(tmp_path / "nothing-here")


def test_decode_json_fuses_the_ngram_model(model_dir, tmp_path_factory, tmp_path):
    fused = tmp_path / "model"
    shutil.copytree(model_dir, fused)
    lm = CharNgram.train(training_clauses(shared_data(tmp_path_factory), ()), order=2)
    lm.save(fused / NGRAM_FILE)
    (fused / "decode.json").write_text(json.dumps({"lm_weight": 0.5, "beam": 8, "width": 4}))
    conv = Converter.load(fused)
    assert conv.char_lm is not None and conv.config.width == 4
    plain = Converter.load(model_dir)
    for text in ("cheng shi", "hui yi", "quan li"):
        fused_cands, plain_cands = conv.convert(text, 3), plain.convert(text, 3)
        assert_legal(conv, text.split(), fused_cands)
        assert [c.score for c in fused_cands] != [c.score for c in plain_cands]

    (fused / "decode.json").write_text(json.dumps({"lm_wieght": 0.5}))
    with pytest.raises(ValueError, match="decode.json"):
        Converter.load(fused)


# --- batches of like lengths -------------------------------------------------------------------


def test_length_batches_group_like_lengths_shortest_first():
    # 1.5 x the shortest + 2: 4 takes up to 8, 10 up to 17.
    assert length_batches([10, 4, 8, 9, 17, 18, 5], 256) == [[1, 6, 2], [3, 0], [4, 5]]
    assert length_batches([3] * 5, 2) == [[0, 1], [2, 3], [4]]
    assert length_batches([], 8) == []


def test_batched_scores_are_the_scores_one_at_a_time(converter):
    """Whatever batches the inputs fall in (padding, order), each gets its own scores."""
    inputs = [["ni", "hao"], ["zhong", "guo", "ren", "min"], ["wo"],
              ["xue", "sheng", "men", "hao"], ["ni", "hao"]]
    together = converter.candidate_scores(inputs)
    for syllables, scores in zip(inputs, together):
        alone = converter.candidate_scores([syllables])[0]
        assert all(a.shape == b.shape and np.allclose(a, b, atol=1e-4)
                   for a, b in zip(scores, alone))


# --- windows ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, size, overlap, spans",
    [
        (10, 64, 16, [(0, 10)]),
        (64, 64, 16, [(0, 64)]),
        (65, 64, 16, [(0, 64), (48, 65)]),
        (100, 64, 16, [(0, 64), (48, 100)]),
        (150, 64, 16, [(0, 64), (48, 112), (96, 150)]),
        (3, 1, 0, [(0, 1), (1, 2), (2, 3)]),
    ],
)
def test_windows(n, size, overlap, spans):
    assert windows(n, size, overlap) == spans


@pytest.mark.parametrize("size, overlap", [(64, 16), (8, 0), (8, 7), (5, 2)])
def test_windows_cover_every_position(size, overlap):
    for n in range(1, 300):
        spans = windows(n, size, overlap)
        assert spans[0][0] == 0 and spans[-1][1] == n
        assert all(0 < b - a <= size for a, b in spans)
        assert all(b1 - a2 >= overlap for (_, b1), (a2, _) in zip(spans, spans[1:]))


@pytest.mark.parametrize("overlap", [-1, 64, 100])
def test_windows_reject_a_bad_overlap(overlap):
    with pytest.raises(ValueError, match="overlap"):
        windows(100, 64, overlap)


@pytest.mark.parametrize(
    "position, owner",
    [
        (0, (0, 0)),
        (47, (0, 47)),
        (55, (0, 55)),  # 8 from window 0's end, 7 from window 1's start
        (56, (1, 8)),
        (99, (1, 51)),
    ],
)
def test_owner_of_positions(position, owner):
    assert owner_of_positions(100, [(0, 64), (48, 100)])[position] == owner


def test_owner_is_the_window_where_the_position_is_furthest_from_an_edge():
    for n in (10, 100, 150, 299):
        spans = windows(n, 64, 16)
        for i, (w, offset) in enumerate(owner_of_positions(n, spans)):
            a, b = spans[w]
            assert a + offset == i and a <= i < b
            margin = min(i - a, b - 1 - i)
            assert all(min(i - a2, b2 - 1 - i) <= margin for a2, b2 in spans if a2 <= i < b2)


# Which backend reads which file of a model directory (the rest it never opens).
READ_BY = {"onnx": {"config.json", "vocab.json", "model.int8.onnx", "model.int8.head.npz",
                    "decode.json", "ngram.npz", "wordlm.npz"},
           "torch": {"config.json", "vocab.json", "model.safetensors", "decode.json",
                     "ngram.npz", "wordlm.npz"}}
BREAK = {"empty": lambda data: b"", "truncated": lambda data: data[:len(data) // 2],
         "garbage": lambda data: b"\x00not what it should be" * 64}


@pytest.fixture(scope="module")
def shipped_copy(tmp_path_factory):
    from pinyin_hanzi.runtime.converter import DEFAULT_MODEL

    path = tmp_path_factory.mktemp("shipped") / "model"
    shutil.copytree(DEFAULT_MODEL, path)
    assert {p.name for p in path.iterdir()} >= READ_BY["onnx"] | READ_BY["torch"]
    return path


@pytest.mark.parametrize("how", sorted(BREAK))
@pytest.mark.parametrize("backend, name", sorted((b, n) for b in READ_BY for n in READ_BY[b]))
def test_each_broken_file_of_a_model_is_one_error_naming_it(shipped_copy, backend, name, how):
    """Every file a backend reads, emptied, cut in half or overwritten: loading fails with a
    ValueError whose message names the file (the CLI prints it as one line), never another
    exception."""
    original = (shipped_copy / name).read_bytes()
    (shipped_copy / name).write_bytes(BREAK[how](original))
    try:
        with pytest.raises(ValueError) as error:
            Converter.load(shipped_copy, backend=backend).convert("nihao")
        assert name in str(error.value)
    finally:
        (shipped_copy / name).write_bytes(original)


# --- how typed input is read: on the shipped model (abbreviations need its word model) ------

@pytest.fixture(scope="module")
def shipped():
    return Converter.load(threads=1)


@pytest.mark.parametrize("typed, best", [("na r", "那儿"), ("nar", "那儿"), ("zhe r", "这儿"),
                                         ("yi dian r", "一点儿"), ("hua r", "花儿")])
@pytest.mark.parametrize("abbreviated", [True, False])
def test_a_bare_r_after_a_syllable_is_erhua(shipped, typed, best, abbreviated):
    """It was 纳入 or 那人 (r as the initial of 人), or an error with abbreviations off."""
    options = InputOptions(abbreviated=abbreviated)
    assert shipped.convert(typed, 3, options=options)[0].text == best


@pytest.mark.parametrize("typed, best", [("zhongguo r m", "中国人民"), ("zgrm", "中国人民"),
                                         ("zhongguo'r'min", "中国人民")])
def test_an_r_that_cuts_a_syllable_still_reads_as_one(shipped, typed, best):
    assert shipped.convert(typed, 1)[0].text == best


def test_abbreviations_are_not_read_as_interjections(shipped):
    """`nhm` gave 你噷 那噷 能噷: hm (噷) is a syllable, so n hm was whole pinyin."""
    texts = [c.text for c in shipped.convert("nhm", 5)]
    assert texts[0] == "你好吗" and not any("噷" in t for t in texts)
    assert shipped.convert("hm", 1)[0].text == "噷"  # alone, it is what was typed
    assert "噷" in shipped.convert("nhm", 1, options=InputOptions(abbreviated=False))[0].text


@pytest.mark.parametrize("typed, best", [("nh", "你好"), ("nhm", "你好吗"), ("xx", "谢谢")])
def test_common_words_lead_their_abbreviations(shipped, typed, best):
    """`nh` put 内核 first: the word model fit on 1998 news and software docs counted it 3
    times as often as 你好 (fixed by the language models of today's text, issue 31)."""
    assert shipped.convert(typed, 1)[0].text == best


@pytest.mark.parametrize("text", ["hello world", "good morning"])
def test_english_read_as_unlikely_cut_syllables_is_refused(shipped, text):
    """`hello world` answered 荷兰咯我热烈的 (he l lo wo r l d) as if nothing were wrong."""
    with pytest.raises(PinyinError, match="no likely reading as pinyin") as error:
        shipped.convert(text)
    assert (error.value.position, error.value.span) == (0, text)


@pytest.mark.parametrize("text, best", [("zgrm", "中国人民"), ("wsnhm", None),
                                        ("w s z g r", None), ("hello", None)])
def test_likely_or_short_cut_syllables_are_converted(shipped, text, best):
    cands = shipped.convert(text, 1)
    assert cands and (best is None or cands[0].text == best)


# --- what stays between inputs: the service's memory after a burst (issue 35) ---------------

def test_positions_that_allow_the_same_syllables_share_one_set(shipped):
    """A parse held a copy of each position's set (`z`*64: 64 sets of 36 syllables, 5 of the
    13 MB a burst of costly inputs left in the caches): one object per distinct set now."""
    conv = shipped.with_config(shipped.config)
    _, sets = conv.parse("zzzz", InputOptions())
    assert len(sets) == 4 and all(group is sets[0] for group in sets) and len(sets[0]) > 10
    _, again = conv.parse("zhongz", InputOptions())
    assert again[1] is sets[0]
    _, whole = conv.parse("nihaonihao", InputOptions())
    assert whole[0] is whole[2] and whole[0] == {"ni"}


def test_clearing_the_caches_forgets_the_word_models_spans(shipped):
    """Converter.clear_caches (the service, after a burst) empties the word model's spans
    (WordLM.span_words, which a Session asks: 1-2 MB after issue 35's burst) and the shared
    sets too."""
    conv = shipped.with_config(shipped.config)
    before = conv.convert("zgrmjhg", 5, options=InputOptions(complete_last=True))
    _, sets = conv.parse("zgrmjhg", InputOptions())
    assert conv.word_lm.span_words(sets[:2])
    assert conv.convert("renmin", 1, context="中国")  # asks the context's last word
    assert conv.word_lm.last_word.cache_info().currsize > 0
    conv.clear_caches()
    assert conv.word_lm.span_words.cache_info().currsize == 0
    assert conv.word_lm.last_word.cache_info().currsize == 0
    assert conv._with_hanzi.cache_info().currsize == 0
    assert conv.convert("zgrmjhg", 5, options=InputOptions(complete_last=True)) == before
