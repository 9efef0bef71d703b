"""ONNX export of a saved model directory, and the two encoder backends the Converter runs.

    pinyin-hanzi export --model DIR [--no-int8]

writes DIR/model.onnx (fp32) and DIR/model.int8.onnx (onnxruntime dynamic int8 quantization of
the weights). Export always starts from the saved directory, never from a live training object
(a model still holding bf16 casts from training would export graphs onnxruntime rejects).

The graph maps (input_ids, attention_mask) to raw hanzi logits; masking to the candidate table
and the log-softmax happen in numpy (`masked_log_softmax`), so the 3.4 M-entry candidate mask
is not stored in the graph and both backends share one code path. `OnnxEncoder` needs only
onnxruntime and numpy: a service that runs it never imports torch.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

ONNX_FILE, INT8_FILE = "model.onnx", "model.int8.onnx"
# One clause at a time is IME work: more threads than this buy nothing and, on a shared
# machine, oversubscription costs far more than it gives.
DEFAULT_THREADS = min(2, os.cpu_count() or 1)


def export_onnx(model_dir: Path, int8: bool = True) -> list[Path]:
    """Write model.onnx (and model.int8.onnx) into `model_dir`; returns the files written."""
    import torch

    from .checkpoint import load_model

    model_dir = Path(model_dir)
    model, _ = load_model(model_dir)
    wrapper = _raw_logits_module(model).eval()
    ids = torch.ones((2, 8), dtype=torch.long) * model.hanzi_offset - 1  # any syllable token
    mask = torch.ones_like(ids)
    batch = torch.export.Dim("batch")
    seq = torch.export.Dim("seq", max=model.config.max_len)
    out = model_dir / ONNX_FILE
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    torch.onnx.export(wrapper, (ids, mask), tmp, dynamo=True, external_data=False,
                      input_names=["input_ids", "attention_mask"], output_names=["logits"],
                      dynamic_shapes={"input_ids": {0: batch, 1: seq},
                                      "attention_mask": {0: batch, 1: seq}})
    os.replace(tmp, out)
    written = [out]
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantized = model_dir / INT8_FILE
        tmp = quantized.with_name(f".{quantized.name}.tmp-{os.getpid()}")
        quantize_dynamic(out, tmp, weight_type=QuantType.QInt8)
        os.replace(tmp, quantized)
        written.append(quantized)
    return written


def _raw_logits_module(model):
    import copy

    import torch
    import torch.nn.functional as F

    class RawLogits(torch.nn.Module):
        """(input_ids, attention_mask) -> unmasked hanzi logits. Conversion inputs are
        syllables only, so the graph embeds just the rows before the hanzi (8 % of the table)
        and holds the hanzi rows once, as the output matrix: a constant the int8 quantizer
        can pack."""

        def __init__(self):
            super().__init__()
            weight = model.tok_emb.weight.detach()
            self.model = copy.deepcopy(model)
            self.model.tok_emb = torch.nn.Embedding.from_pretrained(
                weight[:model.hanzi_offset].clone())
            self.out_weight = torch.nn.Parameter(weight[model.hanzi_offset:].clone())

        def forward(self, input_ids, attention_mask):
            h = self.model.hidden(input_ids, attention_mask)
            return F.linear(h, self.out_weight, self.model.head_bias)

    return RawLogits()


def masked_log_softmax(logits: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Log-softmax over the allowed entries only; -inf elsewhere. Shapes (..., n_hanzi)."""
    x = np.where(allowed, logits.astype(np.float32, copy=False), -np.inf)
    top = x.max(axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return x - top - np.log(np.exp(x - top).sum(axis=-1, keepdims=True))


def candidate_log_softmax(logits: np.ndarray, candidates: list[np.ndarray]) -> np.ndarray:
    """`masked_log_softmax` with each row's allowed hanzi given as ids (ascending, non-empty):
    the same float32 numbers, but exp and log run over the candidates only."""
    if not all(len(ids) for ids in candidates):
        allowed = np.zeros(logits.shape, dtype=bool)
        for row, ids in enumerate(candidates):
            allowed[row, ids] = True
        return masked_log_softmax(logits, allowed)
    counts = [len(ids) for ids in candidates]
    rows = np.repeat(np.arange(len(candidates)), counts)
    cols = np.concatenate(candidates)
    x = logits[rows, cols].astype(np.float32, copy=False)
    starts = np.r_[0, np.cumsum(counts[:-1])]
    shifted = x - np.maximum.reduceat(x, starts)[rows]
    # The sum runs over whole rows, zeros included, so it adds in the order the masked
    # version does and rounds the same.
    exp = np.zeros(logits.shape, dtype=np.float32)
    exp[rows, cols] = np.exp(shifted)
    out = np.full(logits.shape, -np.inf, dtype=np.float32)
    out[rows, cols] = shifted - np.log(exp.sum(axis=-1))[rows]
    return out


class TorchEncoder:
    name = "torch"

    def __init__(self, model, threads: int | None = None):
        import torch

        self.model, self._torch = model, torch
        self.device = next(model.parameters()).device
        if threads:
            torch.set_num_threads(threads)  # process-wide: torch has no per-model setting

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            out = self.model(torch.from_numpy(ids).to(self.device),
                             torch.from_numpy(mask).to(self.device))["logits"]
        return out.float().cpu().numpy()


class OnnxEncoder:
    name = "onnxruntime"

    def __init__(self, path: Path, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or DEFAULT_THREADS
        options.inter_op_num_threads = 1
        self.path = Path(path)
        self.session = ort.InferenceSession(str(path), options,
                                            providers=["CPUExecutionProvider"])

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
