"""Tests for pinyin_hanzi.export: ONNX export, the onnxruntime backend and its parity with
PyTorch (on the tiny model always; on the shipped model over the public benchmarks in
bench/data)."""

import shutil
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from pinyin_hanzi.checkpoint import HEAD_FILE, INT8_FILE, ONNX_FILE, ModelDirError
from pinyin_hanzi.cli import app
from pinyin_hanzi.data.decontaminate import benchmark_dir
from pinyin_hanzi.evaluate import evaluate, read_tsv
from pinyin_hanzi.runtime.converter import DEFAULT_MODEL, Converter
from pinyin_hanzi.runtime.encoders import OutputHead, log_softmax_runs
from tiny_run import one_thread, shared_run

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

BENCH = benchmark_dir()
INPUTS = ["ni hao", "wo men jin tian xue xi", "yin hang", "cheng shi", "zhong guo"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("export") / "model"
    shutil.copytree(shared_run(tmp_path_factory) / "model", model_dir)
    with one_thread():
        result = CliRunner().invoke(app, ["export", "--model", str(model_dir)])
    assert result.exit_code == 0, result.output
    return model_dir


def test_export_writes_both_graphs_and_the_head(exported):
    assert (exported / ONNX_FILE).stat().st_size > 0
    assert 0 < (exported / INT8_FILE).stat().st_size < (exported / ONNX_FILE).stat().st_size
    assert (exported / HEAD_FILE).stat().st_size > 0


def test_onnx_backend_needs_the_head(exported, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(exported, model_dir)
    (model_dir / HEAD_FILE).unlink()
    assert Converter.load(model_dir).encoder.name == "torch"  # auto falls back
    with pytest.raises(ModelDirError, match=HEAD_FILE):
        Converter.load(model_dir, backend="onnx")
    from pinyin_hanzi.runtime.encoders import OnnxEncoder

    ids = np.ones((1, 2), dtype=np.int64)
    with pytest.raises(ValueError, match="no output head"):
        OnnxEncoder(model_dir / INT8_FILE, threads=1).log_probs(ids, ids, [[np.arange(3)] * 2])


def test_output_head_is_the_output_layer_over_candidates():
    """Per-row int8 keeps each row within half a step of its scale; log-probs are a
    log-softmax over each position's candidates only."""
    rng = np.random.default_rng(0)
    weight, bias = rng.normal(size=(12, 8)).astype(np.float32), rng.normal(size=12)
    head = OutputHead.quantize(weight, bias)
    assert np.all(np.abs(head.weight * head.scale[:, None] - weight)
                  <= head.scale[:, None] / 2 + 1e-7)
    hidden = rng.normal(size=(3, 8)).astype(np.float32)
    candidates = [np.array([0, 3, 7]), np.array([5]), np.array([1, 2, 11])]
    out = np.split(head.log_probs(hidden, candidates), [3, 4])
    dequantized = head.weight * head.scale[:, None]
    for t, ids in enumerate(candidates):
        logits = dequantized[ids] @ hidden[t] + bias[ids]
        expected = logits - np.log(np.exp(logits - logits.max()).sum()) - logits.max()
        assert out[t] == pytest.approx(expected, abs=1e-5)


def test_output_head_at_model_width_with_empty_positions():
    """The compiled head sums in its own order: within float32 rounding of numpy's, at the
    shipped width (256), a position without candidates included."""
    rng = np.random.default_rng(1)
    head = OutputHead.quantize(rng.normal(size=(300, 256)).astype(np.float32),
                               rng.normal(size=300))
    hidden = rng.normal(size=(4, 256)).astype(np.float32)
    candidates = [rng.choice(300, 60, replace=False), np.zeros(0, dtype=np.int64),
                  np.array([7]), rng.choice(300, 5, replace=False)]
    out = head.log_probs(hidden, candidates)
    assert out.dtype == np.float32 and len(out) == 66
    numpy_way = log_softmax_runs(np.concatenate(
        [(head.weight[ids] @ hidden[t]) * head.scale[ids] + head.bias[ids]
         for t, ids in enumerate(candidates)]), [len(ids) for ids in candidates])
    assert out == pytest.approx(numpy_way, rel=1e-6, abs=1e-5)
    assert out[60] == 0.0  # the one candidate of its position


@pytest.mark.parametrize("candidates, message", [
    ([np.array([0, 12])], "not a row of the head"),
    ([np.array([-1])], "not a row of the head"),
    ([np.array([0])] * 4, "hidden states of shape"),
])
def test_output_head_rejects_what_it_cannot_score(candidates, message):
    rng = np.random.default_rng(0)
    head = OutputHead.quantize(rng.normal(size=(12, 8)).astype(np.float32), np.zeros(12))
    with pytest.raises(ValueError, match=message):
        head.log_probs(rng.normal(size=(3, 8)).astype(np.float32), candidates)


def test_auto_backend_picks_onnxruntime_when_the_export_is_there(exported, tmp_path_factory):
    assert Converter.load(exported).encoder.name == "onnxruntime"
    assert Converter.load(exported, backend="torch").encoder.name == "torch"
    plain = shared_run(tmp_path_factory) / "model"
    assert Converter.load(plain).encoder.name == "torch"
    with pytest.raises(ModelDirError, match=INT8_FILE):
        Converter.load(plain, backend="onnx")
    with pytest.raises(ValueError, match="backend must be"):
        Converter.load(plain, backend="tensorrt")


def test_onnx_scores_match_torch(exported):
    """fp32 graph: the same hidden states; int8 graph + head: the same best candidates."""
    with one_thread():
        torch_conv = Converter.load(exported, backend="torch")
        onnx_conv = Converter.load(exported, backend="onnx", threads=1)
        syllables = [text.split() for text in INPUTS]
        ids = np.zeros((len(syllables), 6), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, s in enumerate(syllables):
            ids[row, :len(s)] = [torch_conv.vocab.syllable_token(x) for x in s]
            mask[row, :len(s)] = 1
        from pinyin_hanzi.runtime.encoders import OnnxEncoder

        import torch

        fp32 = OnnxEncoder(exported / ONNX_FILE, threads=1)(ids, mask)
        with torch.inference_mode():
            reference = torch_conv.encoder.model.hidden(torch.from_numpy(ids),
                                                        torch.from_numpy(mask)).numpy()
        real = mask.astype(bool)
        assert np.abs(fp32[real] - reference[real]).max() < 1e-3
        for text in INPUTS:
            assert ([c.text for c in onnx_conv.convert(text, 3)][:1]
                    == [c.text for c in torch_conv.convert(text, 3)][:1])


def test_log_softmax_runs_normalises_each_run():
    x = np.array([1.0, 2.0, 3.0, 9.0, 0.5, 0.5], dtype=np.float32)
    out = log_softmax_runs(x, [3, 0, 1, 2])
    assert out.dtype == np.float32
    assert [np.exp(out[a:b]).sum() for a, b in [(0, 3), (3, 4), (4, 6)]] == pytest.approx([1] * 3)
    assert out[2] - out[0] == pytest.approx(2.0)
    assert out[3] == 0 and out[4] == pytest.approx(np.log(0.5))


def test_onnx_backend_does_not_import_torch(exported):
    code = (f"from pinyin_hanzi.runtime.converter import Converter; c = Converter.load({str(exported)!r}); "
            "c.convert('ni hao'); import sys; assert 'torch' not in sys.modules, 'torch'; "
            "print(c.encoder.name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "onnxruntime"


@pytest.mark.skipif(not (DEFAULT_MODEL / INT8_FILE).is_file(), reason="no int8 export shipped")
@pytest.mark.skipif(not (BENCH / "pd98_test.tsv").is_file(), reason=f"no benchmarks in {BENCH}")
@pytest.mark.parametrize("name", ["pd98_test.tsv", "reviews_test.tsv"])
def test_shipped_int8_model_is_within_0_2_points_of_torch(name, tmp_path):
    """The auto backend may only be the int8 graph because it costs at most 0.2 points of
    character accuracy (checked on the first 200 clauses of each public benchmark)."""
    sample = tmp_path / name
    sample.write_text("".join(f"{p}\t{h}\n" for p, h in read_tsv(BENCH / name)[:200]),
                      encoding="utf-8")
    scores = {}
    for backend in ("torch", "onnx"):
        conv = Converter.load(backend=backend, threads=1)
        scores[backend] = evaluate(lambda xs: conv.convert_many(xs, 5), sample)["char_acc"]
    assert abs(scores["onnx"] - scores["torch"]) <= 0.002, scores
