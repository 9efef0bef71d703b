"""Tests for pinyin_hanzi.wordlm (word model and word-lattice decoding) and pinyin_hanzi.fusion
(fitting and tuning the decoding models, `pinyin-hanzi lm`)."""

import json
import math
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from pinyin_hanzi.api import Converter
from pinyin_hanzi.cli import app
from pinyin_hanzi.ngram import NGRAM_FILE
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
    h = lm.index[history]
    total = sum(math.exp(lm.logprob(h, w)) for w in range(len(lm.words)))
    assert total == pytest.approx(1, abs=1e-9)


def test_word_model_prefers_what_it_saw():
    lm = WordLM.train(TOY, LISTED)
    i = lm.index
    assert lm.logprob(i["我们"], i["喜欢"]) > lm.logprob(i["我们"], i["银行"])
    assert lm.logprob(BOUNDARY, i["我们"]) > lm.logprob(BOUNDARY, i["模拟"])
    # A listed-only word is in the lexicon with count 0: it lives on the add-alpha mass, the
    # floor that a lone hanzi the lexicon does not list also gets.
    assert lm.counts[i["模拟"]] == 0 and "长" not in i
    assert lm.logprob(BOUNDARY, i["模拟"]) == pytest.approx(lm.logprob(BOUNDARY, UNKNOWN))
    assert lm.by_reading["mo ni"] == [i["模拟"]] and lm.readings[i["取代"]] == ["qu dai"]


def test_save_load_round_trip(tmp_path):
    lm = WordLM.train(TOY, LISTED, prune=1)
    lm.save(tmp_path / WORDLM_FILE)
    loaded = WordLM.load(tmp_path / WORDLM_FILE)
    assert loaded.words == lm.words and loaded.readings == lm.readings
    assert loaded.bigrams == lm.bigrams and list(loaded.counts) == list(lm.counts)
    for h in range(len(lm.words)):
        for w in (BOUNDARY, 1, lm.index["模拟"], UNKNOWN):
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
         "expected 'pinyin-hanzi-wordlm/1'"),
        (npz_bytes(format=np.frombuffer(b"pinyin-hanzi-wordlm/1", dtype=np.uint8)), ValueError,
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
    lm = WordLM.train(TOY, LISTED)
    bad = WordLM.__new__(WordLM)
    bad.__dict__.update(lm.__dict__)
    bad.nxt = lm.nxt.copy()
    bad.nxt[0] = len(lm.words) + 5
    bad.save(tmp_path / WORDLM_FILE)
    with pytest.raises(ValueError, match="out of range"):
        WordLM.load(tmp_path / WORDLM_FILE)


HANZI = ["<unk>", "去", "取", "贷", "代", "了"]
HANZI_ID = {h: i for i, h in enumerate(HANZI)}


def toy_rows(logprobs_by_position: list[dict[str, float]]):
    rows, singles = [], []
    for scores in logprobs_by_position:
        row = np.full(len(HANZI), -np.inf, dtype=np.float32)
        for char, lp in scores.items():
            row[HANZI_ID[char]] = lp
        ids = np.array(sorted((HANZI_ID[c] for c in scores), key=lambda h: -row[h]))
        rows.append(row)
        singles.append((ids, row[ids]))
    return rows, singles


def test_lattice_prefers_a_lexicon_word_the_encoder_ranks_second():
    """The encoder alone says 去贷 (each hanzi its best); the lexicon knows 取代."""
    rows, singles = toy_rows([{"去": -0.5, "取": -1.0}, {"贷": -0.6, "代": -0.9}])
    lm = WordLM.train(TOY, LISTED)
    words = lattice_search(["qu", "dai"], rows, singles, HANZI, HANZI_ID, lm, k=4,
                           word_weight=1.0)
    assert words[0].text == "取代"
    alone = lattice_search(["qu", "dai"], rows, singles, HANZI, HANZI_ID, lm, k=4,
                           word_weight=0.0)
    assert alone[0].text == "去贷"
    # n-best: distinct clauses, best first, every pairing of the candidates present.
    assert sorted(c.text for c in alone) == sorted(["去贷", "去代", "取贷", "取代"])
    assert [c.score for c in alone] == sorted((c.score for c in alone), reverse=True)
    assert alone[0].score == pytest.approx(-1.1)


def test_lattice_skips_lexicon_words_the_encoder_forbids():
    """A word whose hanzi the candidate table does not allow (-inf) is never proposed."""
    rows, singles = toy_rows([{"去": -0.5}, {"贷": -0.6}])
    lm = WordLM.train(TOY, LISTED)
    out = lattice_search(["qu", "dai"], rows, singles, HANZI, HANZI_ID, lm, k=5,
                         word_weight=1.0)
    assert [c.text for c in out] == ["去贷"]


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


def test_lm_command_names_a_missing_model(tmp_path, tmp_path_factory):
    result = CliRunner().invoke(app, ["lm", "--model", str(tmp_path / "none"),
                                      "--data", str(shared_data(tmp_path_factory))])
    assert result.exit_code == 2
    assert "none" in result.output
