"""Tests for pinyin_hanzi.runtime.fit_lms (`pinyin-hanzi lm`: fitting and tuning the decoding
models) and the Converter decoding with what it installs."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from pinyin_hanzi.checkpoint import NGRAM_FILE, WORDLM_FILE
from pinyin_hanzi.cli import app
from pinyin_hanzi.lm.corpus import training_words
from pinyin_hanzi.lm.ngram import CharNgram
from pinyin_hanzi.lm.words import WordLM
from pinyin_hanzi.runtime.converter import Converter
from tiny_run import one_thread, shared_data, shared_run


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with one_thread():
        yield


def test_converter_decodes_over_the_word_lattice(tmp_path_factory, tmp_path):
    model_dir = shared_run(tmp_path_factory) / "model"
    fused = tmp_path / "model"
    shutil.copytree(model_dir, fused)
    WordLM.train(training_words(shared_data(tmp_path_factory), ())).save(fused / WORDLM_FILE)
    (fused / "decode.json").write_text(json.dumps({"word_weight": 0.7, "word_bonus": -1}))
    conv = Converter.load(fused)
    assert conv.word_lm is not None and conv.char_lm is None
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


def test_budgets_keep_that_many_ngrams_and_word_pairs(tmp_path_factory, tmp_path):
    """fit(word_pairs=, ngram_top=) (`lm --word-pairs 60 --ngram-top 2=300,3=200`) installs
    models of that size, which still decode."""
    from pinyin_hanzi.decode.config import DecodeConfig
    from pinyin_hanzi.runtime.fit_lms import fit

    model_dir = tmp_path / "model"
    shutil.copytree(shared_run(tmp_path_factory) / "model", model_dir)
    grid = (DecodeConfig(lm_weight=0.5, word_weight=1.0, word_bonus=-2.0),)
    fit(model_dir, shared_data(tmp_path_factory), (), dev_clauses=20, grid=grid,
        log=lambda _: None, word_pairs=60, ngram_top={2: 300, 3: 200})
    char_lm = CharNgram.load(model_dir / NGRAM_FILE)
    assert [len(table) for table in char_lm.tables] == [300, 200]
    assert len(WordLM.load(model_dir / WORDLM_FILE).bigrams) == 60
    assert Converter.load(model_dir).convert("wo men", 3)


def test_a_failed_write_leaves_the_installed_models_and_weights_together(
        tmp_path_factory, tmp_path, monkeypatch):
    """The character model, the word model and decode.json were written one after another:
    a failure (a full disk, a kill) at the word model left a new character model beside the
    old word model and old weights."""
    from pinyin_hanzi.decode.config import DecodeConfig
    from pinyin_hanzi.runtime.fit_lms import fit

    model_dir = tmp_path / "model"
    shutil.copytree(shared_run(tmp_path_factory) / "model", model_dir)
    grid = (DecodeConfig(lm_weight=0.5, word_weight=1.0, word_bonus=-2.0),)
    fit(model_dir, shared_data(tmp_path_factory), (), dev_clauses=20, grid=grid,
        log=lambda _: None, ngram_top={2: 300})
    names = (NGRAM_FILE, WORDLM_FILE, "decode.json")
    installed = {name: (model_dir / name).read_bytes() for name in names}

    def disk_full(self, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(WordLM, "save", disk_full)
    with pytest.raises(OSError, match="No space"):
        fit(model_dir, shared_data(tmp_path_factory), (), dev_clauses=20,
            grid=(DecodeConfig(lm_weight=0.7, word_weight=1.5, word_bonus=-4.0),),
            log=lambda _: None, ngram_top={2: 200})
    assert {name: (model_dir / name).read_bytes() for name in names} == installed


def test_lm_command_names_a_missing_model(tmp_path, tmp_path_factory):
    result = CliRunner().invoke(app, ["lm", "--model", str(tmp_path / "none"),
                                      "--data", str(shared_data(tmp_path_factory))])
    assert result.exit_code == 2
    assert "none" in result.output


def test_the_lexicon_lists_the_splits_asked_for(tmp_path):
    """`lm --lexicon-splits`: a dictionary is no evaluation text, so its dev and test words
    may be listed too; by default only its training words are."""
    from pinyin_hanzi.lm.corpus import listed_words

    for split, words in (("train", ["银行", "中国"]), ("dev", ["副总统"]), ("test", ["吉他"])):
        (tmp_path / split).mkdir()
        records = [{"text": w, "pinyin": ["x"] * len(w), "tone3": [None] * len(w),
                    "source": "lexicon/jieba", "doc": w} for w in words]
        records.append({"text": "不是词典", "pinyin": ["bu", "shi", "ci", "dian"],
                        "tone3": [None] * 4, "source": "pd98", "doc": "d"})
        (tmp_path / split / "part-00000.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
            encoding="utf-8")
    assert [w for w, _ in listed_words(tmp_path)] == ["银行", "中国"]
    assert [w for w, _ in listed_words(tmp_path, ("train", "dev", "test"))] == [
        "银行", "中国", "副总统", "吉他"]


def test_lm_refuses_a_split_that_is_not_one(tmp_path):
    result = CliRunner().invoke(app, ["lm", "--model", str(tmp_path), "--lexicon-splits",
                                      "train,later"])
    assert result.exit_code == 2 and "--lexicon-splits" in result.stderr


def _write_train(root, records):
    (root / "train").mkdir(parents=True)
    (root / "train" / "part-00000.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def test_source_weights_count_a_source_that_many_times(tmp_path):
    """`lm --source-weights hk=3`: each clause of hk (and of sources named under it) is
    counted three times by both models; the others once; jieba's cut is the same."""
    from pinyin_hanzi.lm.corpus import source_weight, training_clauses

    def record(text, pinyin, source):
        return {"text": text, "pinyin": pinyin, "tone3": [None] * len(text),
                "source": source, "doc": text}

    _write_train(tmp_path, [record("银行工作，很好", ["yin", "hang", "gong", "zuo", None,
                                                     "hen", "hao"], "hk/laws"),
                            record("我们", ["wo", "men"], "pd98")])
    weights = {"hk": 3}
    assert source_weight("hk/laws", weights) == 3 and source_weight("pd98", weights) == 1
    assert source_weight("hk/laws", {"hk": 3, "hk/laws": 2}) == 2  # the longest name wins
    assert list(training_clauses(tmp_path, (), weights)) == ["银行工作", "很好"] * 3 + ["我们"]
    once = list(training_words(tmp_path, ()))
    thrice = list(training_words(tmp_path, (), weights))
    assert thrice == once[:-1] * 3 + once[-1:]
    char_counts = CharNgram.train(training_clauses(tmp_path, (), weights), 2).to_counts()
    assert char_counts["银行"] == 3 and char_counts["我们"] == 1


@pytest.mark.parametrize("weights, message", [
    ("hk=two", "SOURCE=TIMES"), ("=2", "SOURCE=TIMES"), ("hk=0", "whole number"),
    ("ted=2", "not among the sources"),
])
def test_lm_refuses_bad_source_weights(tmp_path, weights, message):
    result = CliRunner().invoke(app, ["lm", "--model", str(tmp_path), "--sources", "hk,pd98",
                                      "--source-weights", weights])
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_tune_only_without_fitted_models_says_how_to_get_them(tmp_path_factory, tmp_path):
    """After a new encoder (its directory saved anew) `lm --tune-only` said only "ngram.npz:
    n-gram model file is missing"."""
    model = tmp_path / "model"
    shutil.copytree(shared_run(tmp_path_factory) / "model", model)
    for name in (NGRAM_FILE, WORDLM_FILE):
        (model / name).unlink(missing_ok=True)
    result = CliRunner().invoke(app, ["lm", "--model", str(model), "--tune-only", "--sources",
                                      "", "--data", str(shared_data(tmp_path_factory))])
    assert result.exit_code == 2, result.output
    assert f"no {NGRAM_FILE} or {WORDLM_FILE} to re-tune: fit them with `lm`" in result.stderr


def test_lm_refuses_sources_the_data_lacks(tmp_path_factory, tmp_path):
    """lm's default --sources (pd98,reviews) on the user's data, or a misspelt name beside a
    right one (left out, silently)."""
    result = CliRunner().invoke(app, ["lm", "--model", str(shared_run(tmp_path_factory) /
                                                           "model"),
                                      "--sources", "user/corpus,revews",
                                      "--data", str(shared_data(tmp_path_factory))])
    assert result.exit_code == 2, result.output
    assert "--sources: 'revews' not in" in result.stderr


def test_lm_refuses_weights_for_a_source_the_data_lacks(tmp_path_factory, tmp_path):
    """With --sources "" (every source of the data), `--source-weights revews=3` counted
    nothing three times, silently."""
    result = CliRunner().invoke(app, ["lm", "--model", str(tmp_path), "--sources", "",
                                      "--data", str(shared_data(tmp_path_factory)),
                                      "--source-weights", "revews=3"])
    assert result.exit_code == 2, result.output
    assert "'revews', which is not among the sources (user/corpus.txt)" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--word-pairs", "-5"], "--word-pairs"), (["--ngram-top", "4=100"], "--ngram-top"),
    (["--ngram-top", "3=many"], "--ngram-top"), (["--ngram-top", "1=100"], "--ngram-top"),
])
def test_lm_refuses_bad_budgets(tmp_path, args, message):
    result = CliRunner().invoke(app, ["lm", "--model", str(tmp_path), *args])
    assert result.exit_code == 2 and message in result.stderr, result.output
