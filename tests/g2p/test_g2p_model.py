"""The G2P model end to end on the tiny corpus: train from the tiny P2C model, save, load,
export, and read polyphones in context through Transcriber (both backends), the CLI and the
model directory's error contract."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from tiny_run import shared_g2p_run, shared_run
from typer.testing import CliRunner

from pinyin_hanzi.checkpoint import ModelDirError
from pinyin_hanzi.cli import app
from pinyin_hanzi.g2p.model import G2PModel, load_g2p
from pinyin_hanzi.g2p.readings import ReadingTable
from pinyin_hanzi.pinyin import PinyinError
from pinyin_hanzi.runtime.transcriber import EDGE, Transcriber
from pinyin_hanzi.vocab import IGNORE

@pytest.fixture(scope="module")
def g2p_run(tmp_path_factory):
    return shared_g2p_run(tmp_path_factory)


def test_training_learns_readings_from_context(g2p_run):
    run, metrics = g2p_run
    losses = [r["loss"] for r in map(json.loads, (run / "metrics.jsonl").open())
              if "loss" in r]
    assert np.mean(losses[-3:]) < 0.5 * np.mean(losses[:3])
    assert metrics["eval_corpus_char_acc"] > metrics["before_corpus_char_acc"]
    assert metrics["eval_corpus_char_acc"] > 0.9
    assert metrics["eval_dev_char_acc"] > 0.8  # the gold dev sentences


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_transcriber_reads_polyphones_in_context(g2p_run, backend):
    g2p = Transcriber.load(g2p_run[0] / "model", backend=backend, threads=1)
    assert g2p.pinyin("银行") == ["yin2", "hang2"]
    assert g2p.pinyin("行走") == ["xing2", "zou3"]
    assert g2p.pinyin("长大，长度") == ["zhang3", "da4", "，", "chang2", "du4"]
    assert g2p.pinyin("重要", style="tone") == ["zhòng", "yào"]
    assert g2p.pinyin("重新", style="normal") == ["chong", "xin"]


def test_transcriber_text_policies(g2p_run):
    g2p = Transcriber.load(g2p_run[0] / "model", threads=1)
    assert g2p.pinyin("我们ABC你们") == ["wo3", "men5", "ABC", "ni3", "men5"]
    assert g2p.pinyin("我们ABC你们", errors="ignore") == ["wo3", "men5", "ni3", "men5"]
    assert g2p.pinyin("我 们") == ["wo3", " ", "men5"]  # as pypinyin keeps it
    assert g2p.pinyin("我 们", errors="strict") == ["wo3", "men5"]
    assert g2p.pinyin("我a", errors="replace") == ["wo3", "61"]
    with pytest.raises(PinyinError) as e:
        g2p.pinyin("我们ABC", errors="strict")
    assert e.value.position == 2 and e.value.span == "ABC"
    assert g2p.pinyin("一个不对") == ["yi1", "ge4", "bu4", "dui4"]
    assert g2p.pinyin("一个不对", sandhi=True) == ["yi2", "ge4", "bu2", "dui4"]
    assert g2p.pinyin("") == [] and g2p.pinyin("，。") == ["，。"]
    with pytest.raises(ValueError, match="style"):
        g2p.pinyin("我", style="tone4")
    with pytest.raises(ValueError, match="errors"):
        g2p.pinyin("我", errors="skip")
    with pytest.raises(TypeError, match="string"):
        g2p.pinyin(None)


def test_long_runs_are_read_in_windows_with_one_reading_per_hanzi(g2p_run):
    g2p = Transcriber.load(g2p_run[0] / "model", threads=1)
    text = "银行行走重要重新长大长度" * 30  # 360 hanzi: several windows of max_len
    readings = g2p.pinyin(text)
    assert len(readings) == len(text)
    # A hanzi takes its reading from a window it is not near the edge of: the first and the
    # last window read as those stretches alone do, but for the hanzi near their inner edge.
    L, edge = g2p.max_len, EDGE
    assert readings[:L - edge] == g2p.pinyin(text[:L])[:L - edge]
    assert readings[-(L - edge):] == g2p.pinyin(text[-L:])[edge:]


def test_hanzi_outside_the_vocabulary_get_pypinyin_readings(g2p_run):
    g2p = Transcriber.load(g2p_run[0] / "model", threads=1)
    assert g2p.pinyin("鑫") == ["xin1"]  # not in the tiny corpus


def test_batched_and_single_readings_agree(g2p_run):
    g2p = Transcriber.load(g2p_run[0] / "model", threads=1)
    texts = ["银行工作", "行走", "很重要，重新开始", "长度"]
    assert g2p.pinyin_many(texts) == [g2p.pinyin(t) for t in texts]


def test_cli_g2p(g2p_run):
    model = str(g2p_run[0] / "model")
    out = CliRunner().invoke(app, ["g2p", "--model", model, "银行"])
    assert out.exit_code == 0 and out.output.strip() == "yin2 hang2"
    out = CliRunner().invoke(app, ["g2p", "--model", model, "--json", "--style", "tone"],
                             input="银行\n行走\n")
    assert [json.loads(x) for x in out.output.splitlines()] == [["yín", "háng"], ["xíng", "zǒu"]]
    out = CliRunner().invoke(app, ["g2p", "--model", model, "--errors", "strict", "ab"])
    assert out.exit_code == 2 and "not hanzi" in out.output and "Traceback" not in out.output
    out = CliRunner().invoke(app, ["g2p", "--model", model, "--style", "x", "我"])
    assert out.exit_code == 2 and "style" in out.output


@pytest.mark.parametrize("json_out", [False, True])
def test_cli_g2p_names_a_stdin_line_that_is_not_utf8(g2p_run, json_out):
    """As `convert` does: the line's error on stderr, an empty answer in its place, exit 2.
    It echoed the raw bytes, and --json wrote them as output that was not UTF-8."""
    args = ["g2p", "--model", str(g2p_run[0] / "model")] + (["--json"] if json_out else [])
    stdin = "银行\n".encode() + b"\xff\xfe\n" + "行走\n".encode()
    result = CliRunner().invoke(app, args, input=stdin)
    assert result.exit_code == 2
    (error,) = result.stderr.splitlines()
    assert error.startswith("error: line 2 ") and "not UTF-8: byte 0xff at offset 0" in error
    out = result.stdout_bytes.decode("utf-8").splitlines()  # raises if it is not UTF-8
    expected = [["yin2", "hang2"], [], ["xing2", "zou3"]]
    assert out == ([json.dumps(r) for r in expected] if json_out
                   else [" ".join(r) for r in expected])


def test_g2p_reads_the_shipped_model_without_torch_or_pypinyin():
    """The exported model needs only onnxruntime: importing torch made each `g2p` call
    1.5-1.8 s and 400 MB (issue 33), and pypinyin's import (its phrase dictionary) costs
    0.7 s more, needed only for a hanzi outside the vocabulary."""
    code = "\n".join([
        "import sys",
        "from typer.testing import CliRunner",
        "from pinyin_hanzi.cli import app",
        "from pinyin_hanzi.runtime.transcriber import Transcriber",
        "print(Transcriber.load().pinyin('银行行长'))",
        "print(CliRunner().invoke(app, ['g2p', '--json', '银行行长']).output.strip())",
        "print(CliRunner().invoke(app, ['g2p', '--style', 'tone', '绿色']).output.strip())",
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'pypinyin', "
        "'opencc'}))"])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out == [str(["yin2", "hang2", "hang2", "zhang3"]),
                   json.dumps(["yin2", "hang2", "hang2", "zhang3"]), "lǜ sè", "[]"]


@pytest.mark.parametrize("traditional, simplified, readings", [
    ("銀行行長", "银行行长", ["yin2", "hang2", "hang2", "zhang3"]),  # was yin2 xing2 xing2
    ("長度", "长度", ["chang2", "du4"]),  # 長 was pypinyin's, out of context: zhang3
    ("樂隊", "乐队", ["yue4", "dui4"]),  # 樂, rare in the model's text: liao2
])
def test_traditional_text_reads_as_simplified(traditional, simplified, readings):
    """The shipped model learnt from simplified text; traditional forms are read through
    their simplified hanzi (Transcriber._stand_ins)."""
    g2p = Transcriber.load()
    assert g2p.pinyin(traditional) == g2p.pinyin(simplified) == readings


def test_a_traditional_form_with_other_readings_keeps_its_own():
    """OpenCC writes 閤 as 合 (he2, ge3), but 閤 in 藏閤 is ge2, as pypinyin reads it."""
    assert Transcriber.load().pinyin("藏閤") == ["cang2", "ge2"]


def test_pinyin_many_reads_any_iterable_once():
    """A generator was read up by the argument checks: [] for any number of texts."""
    g2p = Transcriber.load()
    assert g2p.pinyin_many(t for t in ["银行", "长大"]) == [["yin2", "hang2"], ["zhang3", "da4"]]


@pytest.mark.parametrize("name", ["readings.json", "g2p.head.npz", "model.int8.onnx",
                                  "config.json", "vocab.json"])
@pytest.mark.parametrize("damage", ["missing", "empty", "garbage"])
def test_every_file_of_a_g2p_directory_broken_is_one_error_naming_it(g2p_run, tmp_path,
                                                                      name, damage):
    model = tmp_path / "model"
    shutil.copytree(g2p_run[0] / "model", model)
    if damage == "missing":
        (model / name).unlink()
    else:
        (model / name).write_bytes(b"" if damage == "empty" else b"\x00garbage" * 50)
    with pytest.raises(ModelDirError, match=name.split(".")[0]):
        Transcriber.load(model, backend="onnx")


def test_a_p2c_directory_is_not_a_g2p_one(g2p_run, tmp_path_factory):
    with pytest.raises(ModelDirError, match="format"):
        load_g2p(shared_run(tmp_path_factory) / "model")


def test_model_logits_cover_only_a_hanzi_s_own_readings(g2p_run):
    model, vocab, table = load_g2p(g2p_run[0] / "model")
    ids = torch.tensor([[vocab.hanzi_token(c) for c in "银行长大"]])
    logits = model(ids)["logits"][0]
    for i, char in enumerate("银行长大"):
        n = len(table.choices.get(char, ()))
        if n > 1:
            assert torch.isfinite(logits[i, :n]).all() and torch.isinf(logits[i, n:]).all()
        else:
            assert (logits[i] == 0).all()  # nothing to decide: not computed


def test_model_loss_ignores_unlabelled_positions():
    from pinyin_hanzi.model import ModelConfig, PinyinHanziModel
    from pinyin_hanzi.vocab import Vocab

    vocab = Vocab(syllables=["hang", "xing"], hanzi=["<unk>", "行", "银"], candidates={})
    encoder = PinyinHanziModel(ModelConfig(n_layer=1, n_head=1, d_model=8, d_ff=8,
                                           input_size=vocab.input_size, n_hanzi=3), vocab)
    model = G2PModel(encoder, vocab, ReadingTable.build(vocab.hanzi))
    ids = torch.tensor([[vocab.hanzi_token("银"), vocab.hanzi_token("行")]])
    labels = torch.tensor([[IGNORE, 0]])
    loss = model(ids, labels=labels)["loss"]
    assert torch.isfinite(loss) and loss > 0
    assert model(ids, labels=torch.full_like(labels, IGNORE))["loss"] == 0


def test_prepare_can_annotate_with_the_g2p_model(g2p_run, tmp_path):
    from pinyin_hanzi.data.prepare import PrepareConfig, prepare
    from pinyin_hanzi.data.records import iter_records
    from pinyin_hanzi.runtime.transcriber import G2PAnnotator

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("银行工作，行走。\n重要的长度！\n" * 20, encoding="utf-8")
    bench = tmp_path / "bench.tsv"
    bench.write_text("zhe shi ce shi\t这是测试\n", encoding="utf-8")
    annotator = G2PAnnotator(g2p_run[0] / "model")
    prepare(PrepareConfig(out_dir=tmp_path / "data", sources=(), user_files=(str(corpus),),
                          bench_files=(bench,), workers=1, dev_fraction=0, test_fraction=0,
                          min_hanzi_count=1, annotator=annotator), progress=False)
    g2p = Transcriber.load(g2p_run[0] / "model")
    records = list(iter_records(tmp_path / "data", "train"))
    assert records
    for record in records:
        assert record["tone3"] == g2p.pinyin(record["text"], errors="ignore")
        assert record["pinyin"] == g2p.pinyin(record["text"], style="normal", errors="ignore")
    manifest = json.loads((tmp_path / "data" / "manifest.json").read_text())
    assert manifest["config"]["annotator"] == f"G2P model {g2p_run[0] / 'model'}"


def test_training_goes_on_from_a_g2p_model_keeping_its_table(g2p_run, tmp_path_factory,
                                                            tmp_path):
    from tiny_run import one_thread, shared_data

    from pinyin_hanzi.train import TrainConfig, train

    start = g2p_run[0] / "model"
    with one_thread():
        metrics = train(TrainConfig(
            objective="g2p", init=start, data_dir=shared_data(tmp_path_factory),
            out_dir=tmp_path / "more", sources=(), train_examples=50, max_steps=10,
            batch_size=8, eval_steps=10, lr=1e-4, warmup_steps=1, patience=0,
            precision="fp32", progress=False))
    assert (tmp_path / "more" / "model" / "readings.json").read_text() == (
        start / "readings.json").read_text()
    # It starts where the first run ended: its dev score before is the first run's after.
    assert metrics["before_char_acc"] == pytest.approx(g2p_run[1]["eval_corpus_char_acc"])
