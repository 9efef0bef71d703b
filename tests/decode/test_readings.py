"""Tests for pinyin_hanzi.decode.readings: the likeliest readings of a many-syllable input."""

import random

import numpy as np
import pytest

from pinyin_hanzi.decode import readings
from pinyin_hanzi.decode.readings import ReadingSearch
from pinyin_hanzi.lm.words import BOUNDARY, WordLM
from pinyin_hanzi.pinyin import SYLLABLES
from pinyin_hanzi.vocab import Vocab

TOY = [
    (["我们", "喜欢", "银行"], ["wo men", "xi huan", "yin hang"]),
    (["我们", "行走"], ["wo men", "xing zou"]),
    (["我们", "喜欢"], ["wo men", "xi huan"]),
    (["你", "好"], ["ni", "hao"]),
]
CANDIDATES = {"wo": ["我"], "men": ["们", "门"], "xi": ["喜", "西"], "huan": ["欢", "换"],
              "xing": ["行"], "zou": ["走"], "yin": ["银"], "hang": ["行"], "ni": ["你"],
              "hao": ["好"], "wa": ["挖"], "ma": ["吗"], "xiang": ["想"], "hu": ["湖"]}


def model():
    lm = WordLM.train(TOY, [])
    hanzi = ["<unk>"] + sorted({h for hs in CANDIDATES.values() for h in hs})
    return lm, Vocab(sorted(SYLLABLES), hanzi, CANDIDATES)


def likely_readings(lm, vocab, sets, limit=4, margin=float("inf")):
    return ReadingSearch(lm, vocab).readings(sets, limit, margin)


def test_abbreviated_input_reads_as_the_words_it_fits():
    lm, vocab = model()
    sets = [{"wo", "wa"}, {"men", "ma"}, {"xi", "xiang", "xing"}, {"huan", "hu", "hang"}]
    found = likely_readings(lm, vocab, [frozenset(s) for s in sets], limit=3)
    assert found[0] == ("wo", "men", "xi", "huan")
    assert len(found) == len(set(found)) == 3
    for reading in found:
        assert all(s in group for s, group in zip(reading, sets))


def test_readings_far_behind_the_best_are_left_out():
    lm, vocab = model()
    sets = [frozenset(s) for s in ({"wo", "wa"}, {"men", "ma"}, {"xi", "xiang", "xing"},
                                   {"huan", "hu", "hang"})]
    search = ReadingSearch(lm, vocab)
    paths = search.paths(sets)[-1]
    final = lm.logprobs(np.array([prev for _, prev, _ in paths]), BOUNDARY)
    scores = sorted((s + f for (s, _, _), f in zip(paths, final.tolist())), reverse=True)
    gap = scores[0] - scores[1]
    assert gap > 0
    assert search.readings(sets, 3, margin=gap / 2) == [("wo", "men", "xi", "huan")]
    assert len(search.readings(sets, 3, margin=gap * 1.01)) >= 2


def test_single_hanzi_fill_what_no_word_covers():
    lm, vocab = model()
    found = likely_readings(lm, vocab, [frozenset({"ni"}), frozenset({"hao", "hu"})], limit=5)
    assert set(found) == {("ni", "hao"), ("ni", "hu")} and found[0] == ("ni", "hao")


def test_no_reading_when_a_position_has_no_hanzi():
    lm, vocab = model()
    assert likely_readings(lm, vocab, [frozenset({"wo"}), frozenset({"zhuang"})]) == []


def reference_readings(word_lm, vocab, sets, beam, word_bonus=-4.0):
    """The search as first written, pushing paths forward position by position over
    WordLM.matching: every (score, reading) that reaches the end, unpruned when `beam` is
    larger than the number of paths."""
    n = len(sets)
    arcs = [[] for _ in range(n)]
    for start, reading, word in word_lm.matching(sets):
        arcs[start].append((reading, word))
    for p, options in enumerate(sets):
        for syllable in sorted(options):
            for hanzi in vocab.candidates.get(syllable, ())[:2]:
                arcs[p].append(((syllable,), word_lm.word_id(hanzi)))
    states = [[] for _ in range(n + 1)]
    states[0] = [(0.0, BOUNDARY, ())]
    for p in range(n):
        best = {}
        for state in states[p]:
            if (state[1], state[2]) not in best or state[0] > best[state[1], state[2]][0]:
                best[state[1], state[2]] = state
        for score, prev, reading in sorted(best.values(), key=lambda s: -s[0])[:beam]:
            for arc, word in arcs[p]:
                states[p + len(arc)].append(
                    (score + word_lm.logprob(prev, word) + word_bonus, word, reading + arc))
    best = {}
    for score, prev, reading in states[n]:  # the best path per (previous word, reading)
        best[prev, reading] = max(score, best.get((prev, reading), -np.inf))
    return {(reading, round(score + word_lm.logprob(prev, BOUNDARY), 9))
            for (prev, reading), score in best.items()}


@pytest.mark.parametrize("seed", range(5))
def test_the_search_kept_per_prefix_finds_what_the_forward_search_finds(seed):
    """Typed one position at a time into one ReadingSearch (the paths of its last inputs
    reused), every input gives the paths a fresh forward search gives, same scores; and so
    does an input that shares only part of a kept one."""
    lm, vocab = model()
    rng = random.Random(seed)
    choices = [{"wo", "wa"}, {"men", "ma"}, {"xi", "xiang", "xing"}, {"huan", "hu", "hang"},
               {"yin"}, {"hang", "hu"}, {"ni"}, {"hao", "hu"}, {"zou", "xing"}]
    search = ReadingSearch(lm, vocab, beam=10_000)
    typed = [frozenset(rng.choice(choices)) for _ in range(7)]
    for n in range(1, len(typed) + 1):
        sets = typed[:n]
        ends = search.paths(sets)[-1]
        final = lm.logprobs(np.array([prev for _, prev, _ in ends]), BOUNDARY).tolist()
        got = {(reading, round(score + f, 9)) for (score, _, reading), f in zip(ends, final)}
        assert got == reference_readings(lm, vocab, sets, beam=10_000)
        best = search.readings(sets, 3)
        assert best == ReadingSearch(lm, vocab, beam=10_000).readings(sets, 3)
    changed = typed[:3] + [frozenset({"ni"})] + typed[4:]
    ends = search.paths(changed)[-1]
    final = lm.logprobs(np.array([prev for _, prev, _ in ends]), BOUNDARY).tolist()
    assert ({(reading, round(score + f, 9)) for (score, _, reading), f in zip(ends, final)}
            == reference_readings(lm, vocab, changed, beam=10_000))


def test_a_long_input_is_searched_without_deep_recursion():
    lm, vocab = model()
    sets = [frozenset({"wo", "wa"}), frozenset({"men", "ma"})] * 2000
    assert ReadingSearch(lm, vocab).readings(sets, 1)[0][:2] == ("wo", "men")


def test_a_span_offers_only_its_most_frequent_arcs():
    """With a budget of one arc a span, hu (湖, never seen) gives way to hao (好)."""
    lm, vocab = model()
    sets = [frozenset({"ni"}), frozenset({"hao", "hu"})]
    assert ReadingSearch(lm, vocab, arcs=1).readings(sets, 5, float("inf")) == [("ni", "hao")]
    assert len(ReadingSearch(lm, vocab, arcs=2).readings(sets, 5, float("inf"))) == 2


def test_the_work_a_position_is_bounded_by_beam_and_arcs():
    """However many syllables each position allows, a position scores at most beam x arcs
    extensions per span it may end, and keeps at most beam states."""
    lm, vocab = model()
    scored = []
    real = lm.logprobs

    def counting(previous, words):
        out = real(previous, words)
        scored.append(np.size(out))
        return out

    lm.logprobs = counting
    everything = frozenset(CANDIDATES)
    search = ReadingSearch(lm, vocab, beam=3, arcs=2, compiled=False)  # (numpy asks lm)
    paths = search.paths([everything] * 12)
    assert max(scored) <= 3 * 2 * 7
    assert all(len(states) <= 3 for states in paths)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("arcs", [1, 2, 100])
def test_a_span_offers_the_words_span_words_lists_the_most_frequent_kept(arcs, compiled):
    """Over every span of two to four positions: the lexicon's words that fit, as
    WordLM.span_words lists them, the `arcs` most frequent kept in that order."""
    lm, vocab = model()
    search = ReadingSearch(lm, vocab, arcs=arcs, compiled=compiled)
    choices = [frozenset(s) for s in ({"wo", "wa"}, {"men", "ma"}, {"xi", "xiang", "xing"},
                                      {"huan", "hu", "hang", "zou"}, {"yin"}, {"ni"})]
    for n in (2, 3, 4):
        for start in range(len(choices) - n + 1):
            span = tuple(choices[start:start + n])
            listed = list(lm.span_words(span))
            ranked = sorted(range(len(listed)), key=lambda i: -int(lm.count(listed[i][1])))
            kept = [listed[i] for i in sorted(ranked[:arcs])]
            readings, words = search._arcs(span)
            assert list(zip(readings, words.tolist())) == kept


@pytest.mark.skipif(readings.Lattice is None, reason="decode/_lattice.pyx not built")
@pytest.mark.parametrize("beam, arcs", [(1, 1), (3, 2), (16, 32), (10_000, 10**9)])
def test_the_compiled_search_finds_what_the_numpy_search_finds(beam, arcs):
    """Same paths (word, reading, score within rounding) at every position, same readings,
    typed a position at a time and at once: the compiled loops (_lattice.pyx) and numpy."""
    lm, vocab = model()
    rng = random.Random(beam)
    choices = [{"wo", "wa"}, {"men", "ma"}, {"xi", "xiang", "xing"}, {"huan", "hu", "hang"},
               {"yin"}, {"hang", "hu"}, {"ni"}, {"hao", "hu"}, {"zou", "xing"}, set(CANDIDATES)]
    for _ in range(5):
        typed = [frozenset(rng.choice(choices)) for _ in range(9)]
        compiled, numpy = (ReadingSearch(lm, vocab, beam, -1.0, arcs, compiled=c)
                           for c in (True, False))
        for n in range(1, len(typed) + 1):
            got, want = compiled.paths(typed[:n]), numpy.paths(typed[:n])
            assert [[s[1:] for s in states] for states in got] == [
                [s[1:] for s in states] for states in want]
            assert np.allclose([s[0] for states in got for s in states],
                               [s[0] for states in want for s in states], rtol=0, atol=1e-9)
            assert compiled.readings(typed[:n], 5) == numpy.readings(typed[:n], 5)
