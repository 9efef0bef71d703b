"""Tests for pinyin_hanzi.api (the Converter, on a tiny model trained once per session), and for
the modules it stands on: decode (windows, beam search), evaluate (metrics) and ngram (the
character language model).
"""

import gzip
import heapq
import io
import itertools
import json
import math
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from pinyin_hanzi.api import Converter
from pinyin_hanzi.checkpoint import ModelDirError
from pinyin_hanzi.decode import (Candidate, beam_search, owner_of_positions, top_candidates,
                                 windows)
from pinyin_hanzi.evaluate import char_errors, evaluate, levenshtein, read_tsv
from pinyin_hanzi.ngram import EOS, NGRAM_FILE, CharNgram, training_clauses
from pinyin_hanzi.pinyin import PinyinError
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
    width = converter.decode.width
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
        ("", 0, "empty input"),
        ("   ", 0, "empty input"),
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
    cands = converter.convert(" ".join(syllables), top_k=2)
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


def test_top_k_must_be_positive(converter):
    with pytest.raises(ValueError, match="top_k must be >= 1"):
        converter.convert("ni hao", top_k=0)


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
    assert conv.lm is not None and conv.decode.width == 4
    plain = Converter.load(model_dir)
    for text in ("cheng shi", "hui yi", "quan li"):
        fused_cands, plain_cands = conv.convert(text, 3), plain.convert(text, 3)
        assert_legal(conv, text.split(), fused_cands)
        assert [c.score for c in fused_cands] != [c.score for c in plain_cands]

    (fused / "decode.json").write_text(json.dumps({"lm_wieght": 0.5}))
    with pytest.raises(ValueError, match="decode.json"):
        Converter.load(fused)


# --- decode ----------------------------------------------------------------------------------


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


@pytest.mark.parametrize(
    "logprobs, allowed, width, ids",
    [
        ([-3.0, -1.0, -2.0, -0.5], [True, True, True, False], 2, [1, 2]),
        ([-3.0, -1.0, -2.0, -0.5], [True, True, True, True], 8, [3, 1, 2, 0]),
        ([-3.0, -1.0, -2.0, -0.5], [True, False, False, False], 2, [0]),
        ([-3.0, -1.0, -2.0, -0.5], [False, False, False, False], 2, []),
        ([-1.0, -2.0, -1.0, -1.0], [True, True, True, True], 2, [0, 2]),  # ties: as given
    ],
)
def test_top_candidates(logprobs, allowed, width, ids):
    ids_allowed = np.flatnonzero(allowed)
    got_ids, got_logprobs = top_candidates(ids_allowed, np.array(logprobs)[ids_allowed], width)
    assert got_ids.tolist() == ids
    assert got_logprobs.tolist() == [logprobs[i] for i in ids]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [1, 5, 24, 50])
def test_beam_search_without_lm_is_the_exact_top_k(seed, k):
    rng = np.random.default_rng(seed)
    hanzi = list("你尼泥好号浩中种重国果过")
    positions = []
    for ids in ([0, 1, 2], [3, 4, 5, 6], [7, 8]):  # 3 * 4 * 2 = 24 clauses
        logps = np.log(rng.dirichlet(np.ones(len(ids))))
        order = np.argsort(-logps)
        positions.append((np.array(ids)[order], logps[order]))
    brute = sorted(((sum(lp for _, lp in combo), "".join(hanzi[i] for i, _ in combo))
                    for combo in itertools.product(*(list(zip(ids, lps))
                                                     for ids, lps in positions))),
                   reverse=True)[:k]
    found = beam_search(positions, hanzi, k)
    assert [c.text for c in found] == [text for _, text in brute]
    assert [c.score for c in found] == pytest.approx([score for score, _ in brute])


def reference_beam_search(positions, hanzi, k, beam=0, lm=None, lm_weight=0.0):
    """beam_search as first written, one string and one n-gram question at a time: the
    reference the batched version must match."""
    beam = max(beam, k)
    hyps = [(0.0, "")]
    for ids, logps in positions:
        extended = []
        for score, text in hyps:
            for h, lp in zip(ids.tolist(), logps.tolist()):
                s = score + lp
                if lm is not None and lm_weight:
                    s += lm_weight * lm.logprob(text, hanzi[h])
                extended.append((s, text + hanzi[h]))
        hyps = heapq.nlargest(beam, extended)
    if lm is not None and lm_weight:
        hyps = sorted(((s + lm_weight * lm.end_logprob(t), t) for s, t in hyps), reverse=True)
    return [Candidate(text, float(score)) for score, text in hyps[:k]]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("order", [1, 2, 3])
def test_beam_search_with_an_ngram_matches_the_reference(seed, order):
    """Same texts, same scores; log-probs drawn from a few values, so many scores tie."""
    rng = np.random.default_rng(seed)
    hanzi = list("我们你好银行走学习龘")
    lm = CharNgram.train(TOY, order)
    positions = []
    for _ in range(5):
        ids = rng.choice(len(hanzi), size=4, replace=False)
        logps = np.sort(rng.choice([-0.5, -1.0, -2.0], size=4))[::-1].astype(np.float32)
        positions.append((ids, logps))
    for k, beam in [(1, 3), (5, 4), (10, 16)]:
        assert (beam_search(positions, hanzi, k, beam, lm, 0.7)
                == reference_beam_search(positions, hanzi, k, beam, lm, 0.7))


# --- evaluate --------------------------------------------------------------------------------


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
    ],
)
def test_read_tsv_errors_name_the_line(tmp_path, content, message):
    path = tmp_path / "bench.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        read_tsv(path)


def test_read_tsv_rejects_other_encodings_and_missing_files(tmp_path):
    path = tmp_path / "gbk.tsv"
    path.write_bytes("ni hao\t你好\n".encode("gbk"))
    with pytest.raises(ValueError, match="gbk.tsv: not UTF-8"):
        read_tsv(path)
    with pytest.raises(FileNotFoundError, match="nothing.tsv"):
        read_tsv(tmp_path / "nothing.tsv")


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
    json.dumps(result)  # plain JSON data


# --- ngram -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "clauses, order, counts",
    [
        (["我好"], 1, {"我": 1, "好": 1, EOS: 1}),
        (["我好"], 2, {"我": 1, "好": 1, EOS: 1, "^我": 1, "我好": 1, "好$": 1}),
        (["好好", "好"], 2, {"好": 3, EOS: 2, "^好": 2, "好好": 1, "好$": 2}),
    ],
)
def test_ngram_counts(clauses, order, counts):
    assert CharNgram.train(clauses, order).to_counts() == counts


TOY = ["我们好", "你们好", "我好", "好好学习", "银行行走"]


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("text", ["", "我", "我们", "好好", "银行", "龘"])
def test_ngram_distributions_sum_to_one(order, text):
    """Over every seen character and the end marker, plus one bucket for any unseen character
    (the add-one unigram's extra mass, which Witten-Bell passes up through every order), the
    probabilities of the next character sum to exactly 1."""
    lm = CharNgram.train(TOY, order)
    seen = [g for g in lm.to_counts() if len(g) == 1]
    assert EOS in seen
    total_seen = sum(math.exp(lm.logprob(text, c)) for c in seen)
    unseen = math.exp(lm.logprob(text, "龘"))
    assert 0.9 < total_seen < 1
    assert total_seen + unseen == pytest.approx(1, abs=1e-12)
    assert math.exp(lm.end_logprob(text)) == pytest.approx(math.exp(lm.logprob(text, EOS)))


def test_ngram_prefers_what_it_saw():
    lm = CharNgram.train(TOY, 2)
    assert lm.logprob("银", "行") > lm.logprob("银", "走")
    assert lm.logprob("", "好") > lm.logprob("", "学")


def test_ngram_save_load_round_trip(tmp_path):
    lm = CharNgram.train(TOY, 3)
    lm.save(tmp_path / NGRAM_FILE)
    loaded = CharNgram.load(tmp_path / NGRAM_FILE)
    assert (loaded.order, loaded.to_counts()) == (lm.order, lm.to_counts())
    for text, char in [("", "我"), ("我们", "好"), ("银行", "行"), ("龘", EOS)]:
        assert loaded.logprob(text, char) == lm.logprob(text, char)
    with np.load(tmp_path / NGRAM_FILE, allow_pickle=False) as data:  # the tables' arrays
        assert data["table_3_next"].shape == (len(lm.grams(3)[0]),)


def old_ngram_file(lm: CharNgram) -> dict:
    """The arrays of format 2 (before the tables were saved as kept): k-grams as id rows."""
    arrays = {"format": utf8("pinyin-hanzi-ngram/2"), "order": np.array([lm.order]),
              "chars": utf8(lm.chars)}
    for k in range(1, lm.order + 1):
        ids, counts = lm.grams(k)
        arrays[f"grams_{k}"], arrays[f"counts_{k}"] = ids.astype(np.uint16), counts
    return arrays


def test_ngram_loads_the_older_array_format_as_the_same_model(tmp_path):
    lm = CharNgram.train(TOY, 3)
    (tmp_path / NGRAM_FILE).write_bytes(npz_bytes(**old_ngram_file(lm)))
    loaded = CharNgram.load(tmp_path / NGRAM_FILE)
    assert loaded.to_counts() == lm.to_counts()
    for mine, theirs in zip(loaded.tables, lm.tables):
        for name in ("rows", "next", "counts", "d"):
            assert np.array_equal(getattr(mine, name), getattr(theirs, name))


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def utf8(text: str) -> np.ndarray:
    return np.frombuffer(text.encode(), dtype=np.uint8)


def bigram_file(rows, nexts, counts) -> bytes:
    """A current-format (3) bigram model over "ab" with this 2-gram table."""
    return npz_bytes(format=utf8("pinyin-hanzi-ngram/3"), order=np.array([2]), chars=utf8("ab"),
                     unigram_ids=np.array([0, 1]), unigram_counts=np.array([1, 2]),
                     table_2_rows=np.array(rows), table_2_next=np.array(nexts),
                     table_2_counts=np.array(counts))


@pytest.mark.parametrize(
    "content, error, message",
    [
        (None, FileNotFoundError, "ngram.npz: n-gram model file is missing"),
        (b"not a zip file", ValueError, "ngram.npz: not a valid n-gram model file"),
        (npz_bytes(format=utf8("other")), ValueError, "expected 'pinyin-hanzi-ngram/3'"),
        (npz_bytes(format=utf8("pinyin-hanzi-ngram/2"), order=np.array([1])), ValueError,
         "ngram.npz: not a valid n-gram model file"),
        (npz_bytes(format=utf8("pinyin-hanzi-ngram/2"), order=np.array([0]),
                   chars=utf8("ab")), ValueError, "n-gram order must be >= 1"),
        (npz_bytes(format=utf8("pinyin-hanzi-ngram/2"), order=np.array([1]), chars=utf8("ab"),
                   grams_1=np.array([[1], [0]], dtype=np.uint16), counts_1=np.array([1, 2])),
         ValueError, "not distinct character ids in range, ascending"),
        (npz_bytes(format=utf8("pinyin-hanzi-ngram/2"), order=np.array([1]), chars=utf8("ab"),
                   grams_1=np.array([[0], [2]], dtype=np.uint16), counts_1=np.array([1, 2])),
         ValueError, "a 1-gram has a character id out of range"),
        (npz_bytes(format=utf8("pinyin-hanzi-ngram/2"), order=np.array([2]), chars=utf8("ab"),
                   grams_1=np.array([[0], [1]], dtype=np.uint16), counts_1=np.array([1, 2]),
                   grams_2=np.array([[1, 0], [0, 1]], dtype=np.uint16),
                   counts_2=np.array([1, 1])),
         ValueError, "n-grams are not sorted by"),
        # the current format: the tables as kept
        (bigram_file(rows=[0, 1, 2], nexts=[1, 0], counts=[1, 1]),
         ValueError, "needs rows by character id, one per character"),
        (bigram_file(rows=[0, 1, 3, 2], nexts=[1, 0], counts=[1, 1]),
         ValueError, "do not fit together"),
        (bigram_file(rows=[0, 2, 2, 2], nexts=[1, 0], counts=[1, 1]),
         ValueError, "not sorted by"),
        (bigram_file(rows=[0, 1, 2, 2], nexts=[1, 7], counts=[1, 1]),
         ValueError, "the 2-grams have a character id out of range"),
        (bigram_file(rows=[0, 1, 2, 2], nexts=[1, 0], counts=[1, 0]),
         ValueError, "counted 0"),
    ],
)
def test_ngram_load_errors(tmp_path, content, error, message):
    path = tmp_path / NGRAM_FILE
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error, match=message):
        CharNgram.load(path)


def test_ngram_load_points_to_the_conversion_of_an_older_file(tmp_path):
    (tmp_path / "ngram.json.gz").write_bytes(gzip.compress(b'{"order": 1, "counts": {}}'))
    with pytest.raises(FileNotFoundError, match="convert_lm_files.py"):
        CharNgram.load(tmp_path / NGRAM_FILE)
