"""Tests for pinyin_hanzi.wordlm (word model and word-lattice decoding) and pinyin_hanzi.fusion
(fitting and tuning the decoding models, `pinyin-hanzi lm`)."""

import heapq
import json
import math
import shutil
from collections import defaultdict

import numpy as np
import pytest
from typer.testing import CliRunner

from pinyin_hanzi.api import Converter
from pinyin_hanzi.cli import app
from pinyin_hanzi.decode import Candidate, top_candidates
from pinyin_hanzi.ngram import NGRAM_FILE, CharNgram, training_clauses
from pinyin_hanzi.wordlm import (BOUNDARY, UNKNOWN, WORDLM_FILE, WordLM, lattice_search,
                                 training_words)
from tiny_run import one_thread, shared_data, shared_run

TOY = [
    (["我们", "喜欢", "银行"], ["wo men", "xi huan", "yin hang"]),
    (["我们", "行走"], ["wo men", "xing zou"]),
    (["取代", "了", "银行"], ["qu dai", "le", "yin hang"]),
    (["我们", "喜欢"], ["wo men", "xi huan"]),
]
LISTED = [("模拟", "mo ni"), ("取代", "qu dai"), ("长", "chang")]  # one-hanzi entries are skipped
LONG = ("长长久久的日子里", "chang chang jiu jiu de ri zi li")  # beyond a reading key


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with one_thread():
        yield


@pytest.mark.parametrize("prune", [1, 2])
@pytest.mark.parametrize("history", ["", "我们", "喜欢", "模拟", "了"])
def test_next_word_distributions_sum_to_one(prune, history):
    """Over every listed word and the clause end, the next-word probabilities sum to 1, with
    or without pruned bigrams, after a seen, a listed-only and the start history."""
    lm = WordLM.train(TOY, LISTED, prune=prune)
    h = lm.word_id(history)
    total = sum(math.exp(lm.logprob(h, w)) for w in range(len(lm)))
    assert total == pytest.approx(1, abs=1e-9)
    assert np.exp(lm.logprobs(h, np.arange(len(lm)))).sum() == pytest.approx(1, abs=1e-9)


def test_word_model_prefers_what_it_saw():
    lm = WordLM.train(TOY, LISTED)
    i = {lm.word(w): w for w in range(len(lm))}
    assert all(lm.word_id(word) == w for word, w in i.items())
    assert lm.logprob(i["我们"], i["喜欢"]) > lm.logprob(i["我们"], i["银行"])
    assert lm.logprob(BOUNDARY, i["我们"]) > lm.logprob(BOUNDARY, i["模拟"])
    # A listed-only word is in the lexicon with count 0: it lives on the add-alpha mass, the
    # floor that a lone hanzi the lexicon does not list also gets.
    assert lm.count(i["模拟"]) == 0 and lm.word_id("长") == UNKNOWN
    assert lm.logprob(BOUNDARY, i["模拟"]) == pytest.approx(lm.logprob(BOUNDARY, UNKNOWN))
    # After a hanzi the lexicon does not list, words get their unigram probabilities.
    assert lm.logprob(UNKNOWN, i["模拟"]) == pytest.approx(math.log(lm.floor))
    assert lm.logprob(UNKNOWN, i["我们"]) == pytest.approx(
        math.log((lm.count(i["我们"]) + lm.alpha) / lm.denominator))


def test_a_frequency_prior_raises_listed_words_and_adds_missing_ones():
    """prior_weight 1: the prior counts as much as the corpus (10 words in TOY)."""
    prior = {"模拟": 0.3, "鼠标": 0.2, "我们": 0.6, "长长久久的日子里啊": 0.1}
    plain = WordLM.train(TOY, LISTED)
    lm = WordLM.train(TOY, LISTED, prior=prior, prior_weight=1.0)
    assert lm.count(lm.word_id("模拟")) == 3 and plain.count(plain.word_id("模拟")) == 0
    assert lm.count(lm.word_id("我们")) == plain.count(plain.word_id("我们")) + 6
    # A word only the prior knows joins the lexicon, read by pypinyin; one too long does not.
    assert plain.word_id("鼠标") == UNKNOWN
    assert [lm.word(w) for _, _, w in lm.lexicon(["shu", "biao"])] == ["鼠标"]
    assert lm.word_id("长长久久的日子里啊") == UNKNOWN
    assert lm.logprob(BOUNDARY, lm.word_id("模拟")) > plain.logprob(BOUNDARY,
                                                                   plain.word_id("模拟"))
    # Weight 0 is no prior at all.
    same = WordLM.train(TOY, LISTED, prior=prior, prior_weight=0.0)
    assert np.array_equal(same.count(slice(None)), plain.count(slice(None))) and len(same) == len(plain)


@pytest.mark.parametrize(
    "syllables, found",
    [
        ("mo ni", [(0, 2, "模拟")]),
        ("qu dai le yin hang", [(0, 2, "取代"), (3, 2, "银行")]),
        ("wo men xi huan", [(0, 2, "我们"), (2, 2, "喜欢")]),
        ("xi huan wo men", [(0, 2, "喜欢"), (2, 2, "我们")]),
        ("wo", []),  # one syllable: single hanzi come from the encoder, not the lexicon
        ("men xi", []),
        ("mo zzz ni", []),  # a syllable the lexicon has never seen
    ],
)
def test_lexicon_finds_words_by_reading(syllables, found):
    lm = WordLM.train(TOY, LISTED)
    assert [(i, n, lm.word(w)) for i, n, w in lm.lexicon(syllables.split())] == found


def test_save_load_round_trip(tmp_path):
    lm = WordLM.train(TOY, LISTED, prune=1)
    lm.save(tmp_path / WORDLM_FILE)
    loaded = WordLM.load(tmp_path / WORDLM_FILE)
    assert [loaded.word(i) for i in range(len(loaded))] == [lm.word(i) for i in range(len(lm))]
    assert list(loaded.reading_keys) == list(lm.reading_keys)
    assert list(loaded.reading_words) == list(lm.reading_words)
    assert loaded._long_readings == lm._long_readings
    for mine, theirs in zip(loaded.bigrams.pairs(), lm.bigrams.pairs()):
        assert list(mine) == list(theirs)
    assert list(loaded.count(slice(None))) == list(lm.count(slice(None)))
    for h in range(len(lm)):
        for w in (BOUNDARY, 1, lm.word_id("模拟"), UNKNOWN):
            assert loaded.logprob(h, w) == lm.logprob(h, w)


def npz_bytes(**arrays) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content, error, message",
    [
        (None, FileNotFoundError, "word model file is missing"),
        (b"not a zip file", ValueError, "not a valid word model file"),
        (npz_bytes(format=np.frombuffer(b"other", dtype=np.uint8)), ValueError,
         "expected 'pinyin-hanzi-wordlm/3'"),
        (npz_bytes(format=np.frombuffer(b"pinyin-hanzi-wordlm/1", dtype=np.uint8)), ValueError,
         "convert it with scripts/convert_lm_files.py"),
        (npz_bytes(format=np.frombuffer(b"pinyin-hanzi-wordlm/2", dtype=np.uint8)), ValueError,
         "not a valid word model file"),
        (npz_bytes(format=np.frombuffer(b"pinyin-hanzi-wordlm/3", dtype=np.uint8)), ValueError,
         "not a valid word model file"),
    ],
)
def test_load_errors_name_the_file(tmp_path, content, error, message):
    path = tmp_path / WORDLM_FILE
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error, match=message) as info:
        WordLM.load(path)
    assert WORDLM_FILE in str(info.value)


def test_load_rejects_bigrams_that_point_outside_the_lexicon(tmp_path):
    WordLM.train(TOY, LISTED).save(tmp_path / WORDLM_FILE)
    with np.load(tmp_path / WORDLM_FILE) as data:
        arrays = dict(data)
    arrays["bigram_next"][-1] = len(arrays["counts"]) + 5  # (the last row stays ascending)
    (tmp_path / WORDLM_FILE).write_bytes(npz_bytes(**arrays))
    with pytest.raises(ValueError, match="out of range"):
        WordLM.load(tmp_path / WORDLM_FILE)


@pytest.mark.parametrize("change, message", [
    (lambda a: a.update(reading_keys=a["reading_keys"][::-1].copy()), "not sorted"),
    (lambda a: a.update(reading_words=a["reading_words"][:-1]), "do not fit together"),
    (lambda a: a["long_words"].__setitem__(0, 999), "word index out of range"),
    (lambda a: a["long_readings"].__setitem__((0, 0), 999), "syllable out of range"),
])
def test_load_rejects_a_broken_reading_index(tmp_path, change, message):
    WordLM.train(TOY, LISTED + [LONG]).save(tmp_path / WORDLM_FILE)
    with np.load(tmp_path / WORDLM_FILE) as data:
        arrays = dict(data)
    change(arrays)
    (tmp_path / WORDLM_FILE).write_bytes(npz_bytes(**arrays))
    with pytest.raises(ValueError, match=message):
        WordLM.load(tmp_path / WORDLM_FILE)


def old_wordlm_file(lm: WordLM) -> dict:
    """The arrays of format 2: bigrams as (prev, next, count), readings as digit rows."""
    def digits(key):
        out = []
        while key:
            key, digit = divmod(key, 512)
            out.append(digit)
        return out[::-1]

    readings = [digits(int(key)) for key in lm.reading_keys] + [
        list(d) for d, ws in sorted(lm._long_readings.items()) for _ in ws]
    rows = np.zeros((len(readings), 8), dtype=np.uint16)
    for row, d in zip(rows, readings):
        row[:len(d)] = d
    prev, nxt, pair_counts = lm.bigrams.pairs()
    return {"format": np.frombuffer(b"pinyin-hanzi-wordlm/2", dtype=np.uint8),
            "alpha": np.array([lm.alpha]), "words": lm._text, "counts": lm.count(slice(None)),
            "prev": prev, "next": nxt, "pair_counts": pair_counts,
            "syllables": np.frombuffer("\n".join(lm.syllables).encode(), dtype=np.uint8),
            "readings": rows,
            "reading_words": np.r_[lm.reading_words, [w for _, ws in sorted(
                lm._long_readings.items()) for w in ws]].astype(np.int32)}


def test_the_older_array_format_loads_as_the_same_model(tmp_path):
    lm = WordLM.train(TOY, LISTED + [LONG])
    assert lm._long_readings
    (tmp_path / WORDLM_FILE).write_bytes(npz_bytes(**old_wordlm_file(lm)))
    loaded = WordLM.load(tmp_path / WORDLM_FILE)
    assert list(loaded.reading_keys) == list(lm.reading_keys)
    assert list(loaded.reading_words) == list(lm.reading_words)
    assert loaded._long_readings == lm._long_readings
    for h in range(len(lm)):
        assert list(loaded.logprobs(h, np.arange(-1, len(lm)))) == list(
            lm.logprobs(h, np.arange(-1, len(lm))))


def test_older_files_convert_to_the_same_models(tmp_path):
    """scripts/convert_lm_files.py: ngram.json.gz and a format-1 wordlm.npz become the array
    formats, with the same probabilities."""
    import gzip
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from convert_lm_files import convert_ngram, convert_wordlm

    char_lm = CharNgram.train(["我们喜欢银行", "取代了", "行走"], 3)
    (tmp_path / "ngram.json.gz").write_bytes(gzip.compress(json.dumps(
        {"format": "pinyin-hanzi-ngram/1", "order": 3, "counts": char_lm.to_counts()},
        ensure_ascii=False).encode()))
    words = ["", "了", "取代", "我们", "模拟", "长长久久的日子里"]
    readings = [[], ["le"], ["qu dai"], ["wo men"], ["mo ni"], ["chang chang jiu jiu de ri zi li"]]
    bigrams = ([0, 3, 2, 1, 3], [3, 2, 1, 0, 0], [2, 1, 1, 1, 1])
    np.savez_compressed(tmp_path / WORDLM_FILE, format=np.frombuffer(b"pinyin-hanzi-wordlm/1",
                                                                      dtype=np.uint8),
                        alpha=np.array([0.5]), words=np.frombuffer("\n".join(words).encode(),
                                                                    dtype=np.uint8),
                        readings=np.frombuffer("\n".join("|".join(r) for r in readings).encode(),
                                               dtype=np.uint8),
                        counts=np.array([2, 1, 1, 2, 0, 0]), prev=np.array(bigrams[0]),
                        next=np.array(bigrams[1]), pair_counts=np.array(bigrams[2]))
    assert convert_ngram(tmp_path) and convert_wordlm(tmp_path)
    assert not (tmp_path / "ngram.json.gz").exists()
    assert not convert_ngram(tmp_path) and not convert_wordlm(tmp_path)  # done once
    loaded = CharNgram.load(tmp_path / NGRAM_FILE)
    for text, char in [("", "我"), ("我们", "喜"), ("取代", "了"), ("龘", "$")]:
        assert loaded.logprob(text, char) == char_lm.logprob(text, char)
    word_lm = WordLM.load(tmp_path / WORDLM_FILE)
    expected = WordLM.from_lists(words, [2, 1, 1, 2, 0, 0], readings, *bigrams)
    assert [word_lm.word(i) for i in range(len(word_lm))] == words
    for h in range(len(words)):
        assert list(word_lm.logprobs(h, np.arange(-1, len(words)))) == list(
            expected.logprobs(h, np.arange(-1, len(words))))
    syllables = "qu dai mo ni chang chang jiu jiu de ri zi li".split()
    assert word_lm.lexicon(syllables) == expected.lexicon(syllables) == [
        (0, 2, 2), (2, 2, 4), (4, 8, 5)]


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
                      word_weight=1.0, word_bonus=0.0, char_lm=None, char_weight=0.0):
    """lattice_search as first written, one extension at a time, with a dict of texts per
    position: the reference that the batched search must match, ties included."""
    n = len(syllables)
    beam = max(beam, k)
    words_at = defaultdict(list)
    for i, length, w in lm.lexicon(syllables):
        words_at[i].append((length, w))
    hyps = [dict() for _ in range(n + 1)]
    hyps[0][""] = (0.0, BOUNDARY)
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
                    s += char_weight * sum(char_lm.logprob(new[:len(text) + j], c)
                                           for j, c in enumerate(word))
                known = hyps[end].get(new)
                if known is None or s > known[0]:
                    hyps[end][new] = (s, word_id)
    final = [(s + word_weight * lm.logprob(last, BOUNDARY)
              + (char_weight * char_lm.end_logprob(text) if char_weight else 0.0), text)
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
        positions = [(conv.candidates_of(s), x) for s, x in zip(syllables, scores)]
        rows = np.full((len(syllables), len(vocab.hanzi)), -np.inf, dtype=np.float32)
        for row, (ids, x) in zip(rows, positions):
            row[ids] = x
        singles = [top_candidates(ids, x, 8) for ids, x in positions]
        for weights in [(0.7, -2.0, 0.4), (1.0, 0.0, 0.0)]:
            args = (vocab.hanzi, vocab.hanzi_id, lm, 5, 16, *weights[:2], char_lm, weights[2])
            assert_same_candidates(lattice_search(syllables, positions, 8, *args),
                                   reference_lattice(syllables, rows, singles, *args))


def test_training_words_follow_the_annotated_readings(tmp_path_factory):
    pairs = list(training_words(shared_data(tmp_path_factory), ()))
    assert pairs
    for words, readings in pairs[:200]:
        assert len(words) == len(readings)
        for word, reading in zip(words, readings):
            assert len(reading.split()) == len(word)


def test_converter_decodes_over_the_word_lattice(tmp_path_factory, tmp_path):
    model_dir = shared_run(tmp_path_factory) / "model"
    fused = tmp_path / "model"
    shutil.copytree(model_dir, fused)
    WordLM.train(training_words(shared_data(tmp_path_factory), ())).save(fused / WORDLM_FILE)
    (fused / "decode.json").write_text(json.dumps({"word_weight": 0.7, "word_bonus": -1}))
    conv = Converter.load(fused)
    assert conv.wordlm is not None and conv.lm is None
    for text in ("cheng shi", "yin hang", "wo men jin tian xue xi"):
        cands = conv.convert(text, 5)
        assert cands and len({c.text for c in cands}) == len(cands)
        for c in cands:
            for char, syllable in zip(c.text, text.split()):
                assert char in conv.vocab.candidates[syllable]
    (fused / WORDLM_FILE).unlink()
    with pytest.raises(FileNotFoundError, match=WORDLM_FILE):
        Converter.load(fused)


def test_lm_command_fits_tunes_and_installs(tmp_path_factory, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(shared_run(tmp_path_factory) / "model", model_dir)
    data = shared_data(tmp_path_factory)
    result = CliRunner().invoke(app, ["lm", "--model", str(model_dir), "--data", str(data),
                                      "--sources", "", "--dev-clauses", "40"])
    assert result.exit_code == 0, result.output
    decode = json.loads((model_dir / "decode.json").read_text())
    assert decode["lm_weight"] > 0
    assert (model_dir / NGRAM_FILE).is_file()
    assert (model_dir / WORDLM_FILE).is_file() == (decode["word_weight"] > 0)
    assert "best on dev" in result.output
    Converter.load(model_dir).convert("wo men", 3)

    # --tune-only keeps the fitted files and chooses the same weights again.
    (model_dir / "decode.json").write_text(json.dumps({"lm_weight": 2.0}))
    fitted = {name: (model_dir / name).read_bytes() for name in (NGRAM_FILE, WORDLM_FILE)
              if (model_dir / name).is_file()}
    again = CliRunner().invoke(app, ["lm", "--model", str(model_dir), "--data", str(data),
                                     "--sources", "", "--dev-clauses", "40", "--tune-only"])
    if WORDLM_FILE not in fitted:
        assert again.exit_code == 2 and WORDLM_FILE in again.output
    else:
        assert again.exit_code == 0, again.output
        assert json.loads((model_dir / "decode.json").read_text()) == decode
        assert {n: (model_dir / n).read_bytes() for n in fitted} == fitted


def test_lm_command_names_a_missing_model(tmp_path, tmp_path_factory):
    result = CliRunner().invoke(app, ["lm", "--model", str(tmp_path / "none"),
                                      "--data", str(shared_data(tmp_path_factory))])
    assert result.exit_code == 2
    assert "none" in result.output


def test_a_lattice_is_reused_only_for_the_models_it_was_built_for():
    """The converter builds the compiled search once; handing it to lattice_search with other
    language models is an error, not a silent decode with the wrong ones."""
    from pinyin_hanzi._lattice import Lattice

    hanzi = ["<unk>", *"去取贷代"]
    hanzi_id = {h: i for i, h in enumerate(hanzi)}
    positions = [(np.arange(1, len(hanzi)), np.log(np.full(4, 0.25, dtype=np.float32)))] * 2
    lm, other = WordLM.train(TOY, LISTED), WordLM.train(TOY[:2], LISTED)
    lattice = Lattice(lm, None, hanzi, hanzi_id)
    args = (["qu", "dai"], positions, 4, hanzi, hanzi_id)
    assert_same_candidates(lattice_search(*args, lm, 3, lattice=lattice),
                           lattice_search(*args, lm, 3))
    with pytest.raises(ValueError, match="other language models"):
        lattice_search(*args, other, 3, lattice=lattice)
    char_lm = CharNgram.train(["取代"], 2)
    with pytest.raises(ValueError, match="other language models"):
        lattice_search(*args, lm, 3, char_lm=char_lm, char_weight=0.5, lattice=lattice)


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
    (2, 0, "width must be >= 1")])
def test_lattice_needs_candidates_for_every_syllable(n_positions, width, message):
    rows = toy_rows([{"去": -0.5, "取": -1.0}, {"贷": -0.6, "代": -0.9}])
    positions = [allowed(r) for r in rows] * 2
    with pytest.raises(ValueError, match=message):
        lattice_search(["qu", "dai"], positions[:n_positions], width, HANZI, HANZI_ID,
                       WordLM.train(TOY, LISTED), k=3)


def test_format_2_files_upgrade_to_the_same_models(tmp_path):
    """scripts/convert_lm_files.py rewrites format-2 files in the current format (which loads
    without rebuilding the tables), with the same probabilities; then there is nothing to do."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from convert_lm_files import upgrade

    from pinyin_hanzi import ngram, wordlm

    word_lm = WordLM.train(TOY, LISTED + [LONG])
    char_lm = CharNgram.train(["我们喜欢银行", "取代了", "行走"], 3)
    (tmp_path / WORDLM_FILE).write_bytes(npz_bytes(**old_wordlm_file(word_lm)))
    grams = {f"grams_{k}": char_lm.grams(k)[0].astype(np.uint16) for k in (1, 2, 3)}
    (tmp_path / NGRAM_FILE).write_bytes(npz_bytes(
        format=np.frombuffer(b"pinyin-hanzi-ngram/2", dtype=np.uint8), order=np.array([3]),
        chars=np.frombuffer(char_lm.chars.encode(), dtype=np.uint8), **grams,
        **{f"counts_{k}": char_lm.grams(k)[1] for k in (1, 2, 3)}))
    assert upgrade(tmp_path / WORDLM_FILE, WordLM, wordlm.OLD_FORMAT)
    assert upgrade(tmp_path / NGRAM_FILE, CharNgram, ngram.OLD_FORMAT)
    assert not upgrade(tmp_path / WORDLM_FILE, WordLM, wordlm.OLD_FORMAT)
    for name, current in ((WORDLM_FILE, wordlm.FORMAT), (NGRAM_FILE, ngram.FORMAT)):
        with np.load(tmp_path / name) as data:
            assert bytes(data["format"]).decode() == current
    loaded = WordLM.load(tmp_path / WORDLM_FILE)
    assert loaded._long_readings == word_lm._long_readings
    for h in range(len(word_lm)):
        assert list(loaded.logprobs(h, np.arange(-1, len(word_lm)))) == list(
            word_lm.logprobs(h, np.arange(-1, len(word_lm))))
    loaded_chars = CharNgram.load(tmp_path / NGRAM_FILE)
    for text, char in [("", "我"), ("我们", "喜"), ("取代", "了"), ("龘", "$")]:
        assert loaded_chars.logprob(text, char) == char_lm.logprob(text, char)


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
