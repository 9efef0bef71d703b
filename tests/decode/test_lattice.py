"""Tests for pinyin_hanzi.decode.lattice: the compiled word-lattice search against a reference
written one extension at a time, ties included."""

import heapq
from collections import defaultdict
from types import SimpleNamespace

import numpy as np
import pytest

from pinyin_hanzi.decode.beam import top_candidates
from pinyin_hanzi.decode.config import Candidate, DecodeConfig
from pinyin_hanzi.decode.lattice import LatticeDecoder
from pinyin_hanzi.lm.corpus import training_clauses, training_words
from pinyin_hanzi.lm.ngram import CharNgram
from pinyin_hanzi.lm.words import BOUNDARY, WordLM
from pinyin_hanzi.runtime.converter import Converter
from tiny_run import one_thread, shared_data, shared_run

TOY = [
    (["我们", "喜欢", "银行"], ["wo men", "xi huan", "yin hang"]),
    (["我们", "行走"], ["wo men", "xing zou"]),
    (["取代", "了", "银行"], ["qu dai", "le", "yin hang"]),
    (["我们", "喜欢"], ["wo men", "xi huan"]),
]
LISTED = [("模拟", "mo ni"), ("取代", "qu dai"), ("长", "chang")]


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with one_thread():
        yield


def lattice_search(syllables, positions, width, hanzi, hanzi_id, lm, k, beam=16,
                   word_weight=1.0, word_bonus=0.0, char_lm=None, char_weight=0.0, context=""):
    """One clause through a LatticeDecoder built for these models and weights; positions[i]
    = (candidate ids, encoder log-probs) as the tests draw them, over `hanzi`."""
    config = DecodeConfig(lm_weight=char_weight if char_lm is not None else 0.0,
                          word_weight=word_weight, word_bonus=word_bonus, beam=beam,
                          width=width)
    vocab = SimpleNamespace(hanzi=hanzi, hanzi_id=hanzi_id)
    return LatticeDecoder(vocab, lm, char_lm, config).search(syllables, positions, k, context)


HANZI = ["<unk>", "去", "取", "贷", "代", "了"]
HANZI_ID = {h: i for i, h in enumerate(HANZI)}


def allowed(row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A full row of log-probs (-inf: not a candidate) -> (candidate ids, their log-probs)."""
    ids = np.flatnonzero(np.isfinite(row))
    return ids, row[ids]


def toy_rows(logprobs_by_position: list[dict[str, float]]) -> list[np.ndarray]:
    rows = []
    for scores in logprobs_by_position:
        row = np.full(len(HANZI), -np.inf, dtype=np.float32)
        for char, lp in scores.items():
            row[HANZI_ID[char]] = lp
        rows.append(row)
    return rows


def test_lattice_prefers_a_lexicon_word_the_encoder_ranks_second():
    """The encoder alone says 去贷 (each hanzi its best); the lexicon knows 取代."""
    rows = toy_rows([{"去": -0.5, "取": -1.0}, {"贷": -0.6, "代": -0.9}])
    lm = WordLM.train(TOY, LISTED)
    positions = [allowed(r) for r in rows]
    words = lattice_search(["qu", "dai"], positions, 2, HANZI, HANZI_ID, lm, k=4,
                           word_weight=1.0)
    assert words[0].text == "取代"
    alone = lattice_search(["qu", "dai"], positions, 2, HANZI, HANZI_ID, lm, k=4,
                           word_weight=0.0)
    assert alone[0].text == "去贷"
    # n-best: distinct clauses, best first, every pairing of the candidates present.
    assert sorted(c.text for c in alone) == sorted(["去贷", "去代", "取贷", "取代"])
    assert [c.score for c in alone] == sorted((c.score for c in alone), reverse=True)
    assert alone[0].score == pytest.approx(-1.1)


def test_lattice_skips_lexicon_words_the_encoder_forbids():
    """A word whose hanzi are not among its syllables' candidates is never proposed."""
    rows = toy_rows([{"去": -0.5}, {"贷": -0.6}])
    lm = WordLM.train(TOY, LISTED)
    out = lattice_search(["qu", "dai"], [allowed(r) for r in rows], 1, HANZI,
                         HANZI_ID, lm, k=5, word_weight=1.0)
    assert [c.text for c in out] == ["去贷"]


def reference_lattice(syllables, rows, singles, hanzi, hanzi_id, lm, k, beam=16,
                      word_weight=1.0, word_bonus=0.0, char_lm=None, char_weight=0.0,
                      context=""):
    """lattice_search as first written, one extension at a time, with a dict of texts per
    position: the reference that the batched search must match, ties included. `context`
    here is the clause's text before the input (a run of hanzi or nothing)."""
    n = len(syllables)
    beam = max(beam, k)
    words_at = defaultdict(list)
    for i, length, w in lm.lexicon(syllables):
        words_at[i].append((length, w))
    hyps = [dict() for _ in range(n + 1)]
    hyps[0][""] = (0.0, lm.last_word(context))
    for i in range(n):
        if not hyps[i]:
            continue
        ids, logps = singles[i]
        arcs = [(i + 1, hanzi[h], lm.word_id(hanzi[h]), lp)
                for h, lp in zip(ids.tolist(), logps.tolist())]
        for length, w in words_at[i]:
            word = lm.word(w)
            if all(c in hanzi_id for c in word):
                enc = 0.0
                for offset, c in enumerate(word):
                    enc += float(rows[i + offset][hanzi_id[c]])
                if enc > -1e9:
                    arcs.append((i + length, word, w, enc))
        for text, (score, last) in heapq.nlargest(beam, hyps[i].items(),
                                                  key=lambda kv: kv[1][0]):
            for end, word, word_id, enc in arcs:
                s = score + enc + word_bonus + word_weight * lm.logprob(last, word_id)
                new = text + word
                if char_weight:
                    s += char_weight * sum(char_lm.logprob(context + new[:len(text) + j], c)
                                           for j, c in enumerate(word))
                known = hyps[end].get(new)
                if known is None or s > known[0]:
                    hyps[end][new] = (s, word_id)
    final = [(s + word_weight * lm.logprob(last, BOUNDARY)
              + (char_weight * char_lm.end_logprob(context + text) if char_weight else 0.0),
              text)
             for text, (s, last) in hyps[n].items()]
    return [Candidate(text, float(score)) for score, text in heapq.nlargest(k, final)]


def assert_same_candidates(got, expected):
    assert [c.text for c in got] == [c.text for c in expected]
    assert [c.score for c in got] == pytest.approx([c.score for c in expected], abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("order", [0, 2, 3])
def test_lattice_matches_the_reference_when_scores_tie(seed, order):
    """Log-probs from a few values and hanzi neither model knows: many paths score exactly
    the same, so the order in which ties are broken is tested too."""
    rng = np.random.default_rng(seed)
    hanzi = ["<unk>", *"我们喜欢银行取代了行走模拟去贷代龘䶮"]
    hanzi_id = {h: i for i, h in enumerate(hanzi)}
    syllables = "wo men xi huan qu dai le yin hang mo ni".split()[:rng.integers(3, 12)]
    rows = rng.choice([-0.5, -1.0, -2.0], size=(len(syllables), len(hanzi)))
    rows = rows.astype(np.float32)
    rows[:, rng.choice(len(hanzi), 3, replace=False)] = -np.inf  # forbidden hanzi
    singles = [top_candidates(*allowed(r), 5) for r in rows]
    lm = WordLM.train(TOY, LISTED)
    char_lm = CharNgram.train(["我们喜欢银行", "取代了", "行走"], order) if order else None
    for k, beam in [(1, 2), (5, 4), (20, 16)]:
        args = (hanzi, hanzi_id, lm, k, beam, 0.7, -1.0, char_lm, 0.4 if order else 0.0)
        assert_same_candidates(lattice_search(syllables, [allowed(r) for r in rows], 5, *args),
                               reference_lattice(syllables, rows, singles, *args))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("context", ["我们", "银", "龘", "模拟行走"])
def test_lattice_goes_on_from_the_context_as_the_reference_does(seed, context):
    """With the clause's start already typed (a lexicon word, a hanzi only the n-gram
    knows, one neither knows), the models' histories start from it."""
    rng = np.random.default_rng(seed)
    hanzi = ["<unk>", *"我们喜欢银行取代了行走模拟去贷代"]
    hanzi_id = {h: i for i, h in enumerate(hanzi)}
    syllables = "xi huan yin hang qu dai le".split()[:rng.integers(2, 7)]
    rows = rng.normal(-2, 1, size=(len(syllables), len(hanzi))).astype(np.float32)
    singles = [top_candidates(*allowed(r), 5) for r in rows]
    lm = WordLM.train(TOY, LISTED)
    char_lm = CharNgram.train(["我们喜欢银行", "取代了", "行走", "模拟"], 3)
    args = (hanzi, hanzi_id, lm, 5, 8, 0.7, -1.0, char_lm, 0.4)
    got = lattice_search(syllables, [allowed(r) for r in rows], 5, *args, context=context)
    assert_same_candidates(got, reference_lattice(syllables, rows, singles, *args,
                                                  context=context))
    # Text that ends the clause (a comma) leaves nothing to go on from.
    plain = lattice_search(syllables, [allowed(r) for r in rows], 5, *args)
    assert_same_candidates(lattice_search(syllables, [allowed(r) for r in rows], 5, *args,
                                          context=context + "，"), plain)
    assert [c.score for c in got] != pytest.approx([c.score for c in plain])


def test_the_context_picks_the_word_that_goes_on_from_it():
    """喜欢 follows 我们 in the toy text, 行走 does not follow 取代: after 我们 the lattice
    prefers 喜欢 where the encoder alone is undecided."""
    hanzi = ["<unk>", *"我们喜欢银行取代了行走稀缓"]
    hanzi_id = {h: i for i, h in enumerate(hanzi)}
    rows = np.full((2, len(hanzi)), -np.inf, dtype=np.float32)
    rows[0, [hanzi_id["喜"], hanzi_id["稀"]]] = -0.7
    rows[1, [hanzi_id["欢"], hanzi_id["缓"]]] = -0.7
    lm = WordLM.train(TOY + [(["稀缓"], ["xi huan"])] * 3, LISTED)
    args = (hanzi, hanzi_id, lm, 2, 8, 1.0, 0.0)
    positions = [allowed(r) for r in rows]
    assert lattice_search(["xi", "huan"], positions, 2, *args)[0].text == "稀缓"
    assert lattice_search(["xi", "huan"], positions, 2, *args,
                          context="我们")[0].text == "喜欢"


def test_lattice_matches_the_reference_on_the_tiny_model(tmp_path_factory):
    data = shared_data(tmp_path_factory)
    conv = Converter.load(shared_run(tmp_path_factory) / "model")
    lm = WordLM.train(training_words(data, ()))
    char_lm = CharNgram.train(training_clauses(data, ()), order=3)
    inputs = ["wo men jin tian xue xi", "yin hang", "cheng shi hen hao", "zhong guo",
              "ta men xi huan kan shu xue xi", "quan li hui yi you xi shi yan"]
    vocab = conv.vocab
    assert all(vocab.candidates.get(s) for x in inputs for s in x.split())
    for syllables, scores in zip([x.split() for x in inputs],
                                 conv.candidate_scores([x.split() for x in inputs])):
        positions = [(vocab.candidate_array(s), x) for s, x in zip(syllables, scores)]
        rows = np.full((len(syllables), len(vocab.hanzi)), -np.inf, dtype=np.float32)
        for row, (ids, x) in zip(rows, positions):
            row[ids] = x
        singles = [top_candidates(ids, x, 8) for ids, x in positions]
        for weights in [(0.7, -2.0, 0.4), (1.0, 0.0, 0.0)]:
            args = (vocab.hanzi, vocab.hanzi_id, lm, 5, 16, *weights[:2], char_lm, weights[2])
            assert_same_candidates(lattice_search(syllables, positions, 8, *args),
                                   reference_lattice(syllables, rows, singles, *args))


def test_words_longer_than_a_reading_key_are_found():
    """Readings of 8 syllables do not fit an int64 key and live in a dict: the lattice still
    proposes them, as the reference does."""
    word = "全国人民代表大会"
    syllables = "quan guo ren min dai biao da hui".split()
    lm = WordLM.train(TOY, [*LISTED, (word, " ".join(syllables)), ("人民", "ren min")])
    hanzi = ["<unk>", *word, *"权果仁敏带表打会"]
    hanzi_id = {h: i for i, h in enumerate(hanzi)}
    rng = np.random.default_rng(0)
    rows = np.log(rng.dirichlet(np.ones(len(hanzi)), size=len(syllables))).astype(np.float32)
    rows[:, 0] = -np.inf  # <unk> is no candidate
    singles = [top_candidates(*allowed(r), 3) for r in rows]
    positions = [allowed(r) for r in rows]
    args = (hanzi, hanzi_id, lm, 5, 16, 1.0, -3.0)
    got = lattice_search(syllables, positions, 3, *args)
    assert got[0].text == word
    assert_same_candidates(got, reference_lattice(syllables, rows, singles, *args))
    without = WordLM.train(TOY, [*LISTED, ("人民", "ren min")])
    assert got[0].score > lattice_search(syllables, positions, 3, *args[:2], without,
                                         *args[3:])[0].score + 1


@pytest.mark.parametrize("n_positions, width, message", [
    (1, 2, "per syllable"), (0, 2, "per syllable"), (3, 2, "per syllable"),
    (2, 0, "width must be an integer >= 1")])
def test_lattice_needs_candidates_for_every_syllable(n_positions, width, message):
    rows = toy_rows([{"去": -0.5, "取": -1.0}, {"贷": -0.6, "代": -0.9}])
    positions = [allowed(r) for r in rows] * 2
    with pytest.raises(ValueError, match=message):
        lattice_search(["qu", "dai"], positions[:n_positions], width, HANZI, HANZI_ID,
                       WordLM.train(TOY, LISTED), k=3)


def test_lattice_matches_the_reference_on_a_large_lexicon():
    """Over 65,536 words (next-word ids in 3 bytes) and over 256 distinct counts (8-bit
    codes), as on a large corpus: the compiled search reads those arrays as the numpy
    reference does."""
    rng = np.random.default_rng(1)
    real = ["我们", "喜欢", "银行", "行走", "取代", "了"]
    readings = [["wo men"], ["xi huan"], ["yin hang"], ["xing zou"], ["qu dai"], ["le"]]
    fillers = [f"词{i}" for i in range(70_000)]  # no readings: never in a lattice
    words = ["", *fillers, *real]
    n = len(words)
    counts = np.r_[1000, rng.integers(0, 5000, len(fillers)), [9000, 700, 4000, 300, 150, 80]]
    prev = np.r_[rng.integers(0, n, 4000), [0, n - 6, n - 5, n - 6, n - 2, n - 1]]
    nxt = np.r_[rng.integers(0, n, 4000), [n - 6, n - 5, n - 4, n - 3, n - 1, n - 4]]
    pairs = sorted(set(zip(prev.tolist(), nxt.tolist())))
    lm = WordLM.from_lists(words, counts, [[]] * (1 + len(fillers)) + readings,
                           [p for p, _ in pairs], [x for _, x in pairs],
                           rng.integers(1, 3000, len(pairs)))
    assert lm.bigrams.next.shape[1:] == (3,) and lm.bigrams.count_values is not None
    assert lm.count_values is not None and len(np.unique(counts)) > 256
    hanzi = ["<unk>", *"我们喜欢银行取代了走"]
    hanzi_id = {h: i for i, h in enumerate(hanzi)}
    syllables = "wo men xi huan qu dai le yin hang".split()
    rows = rng.choice([-0.5, -1.0, -2.0], size=(len(syllables), len(hanzi))).astype(np.float32)
    singles = [top_candidates(*allowed(r), 5) for r in rows]
    args = (hanzi, hanzi_id, lm, 5, 8, 0.7, -1.0, None, 0.0)
    assert_same_candidates(lattice_search(syllables, [allowed(r) for r in rows], 5, *args),
                           reference_lattice(syllables, rows, singles, *args))


def test_a_lattice_decoder_needs_the_models_its_config_weights():
    """Built once from its models: a config that weights a model it was not given is an
    error at construction, not a silent decode without it."""
    lm = WordLM.train(TOY, LISTED)
    vocab = SimpleNamespace(hanzi=HANZI, hanzi_id=HANZI_ID)
    with pytest.raises(ValueError, match="needs a word model"):
        LatticeDecoder(vocab, None, None, DecodeConfig(word_weight=1.0))
    with pytest.raises(ValueError, match="weights a character n-gram"):
        LatticeDecoder(vocab, lm, None, DecodeConfig(word_weight=1.0, lm_weight=0.5))
