"""ONNX export of a saved model directory.

    pinyin-hanzi export --model DIR [--no-int8]

writes DIR/model.onnx (fp32) and DIR/model.int8.onnx (onnxruntime dynamic int8 quantization of
the weights) with the output layer beside it in DIR/model.int8.head.npz (int8 rows, one scale
per row). Export always starts from the saved directory, never from a live training object (a
model still holding bf16 casts from training would export graphs onnxruntime rejects).

The graph maps (input_ids, attention_mask) to the encoder's last hidden states; the output
layer is saved apart (runtime/encoders.OutputHead) and runs over each syllable's candidates
only: a syllable has ~50 of the 8,000 hanzi, and the full output layer was ~40 % of the graph's
work and most of its output.
"""

from __future__ import annotations

from pathlib import Path

from .checkpoint import HEAD_FILE, INT8_FILE, ONNX_FILE
from .files import atomic_file


def export_onnx(model_dir: Path, int8: bool = True) -> list[Path]:
    """Write model.onnx (and model.int8.onnx) into `model_dir`; returns the files written."""
    from .checkpoint import load_model

    model_dir = Path(model_dir)
    model, _ = load_model(model_dir)
    # Conversion inputs are syllables only: the graph embeds just the rows before the hanzi.
    written = _export_hidden(model, slice(0, model.hanzi_offset), model_dir, int8)
    if int8:
        from .runtime.encoders import OutputHead

        head = model.tok_emb.weight.detach()[model.hanzi_offset:].float().numpy()
        OutputHead.quantize(head, model.head_bias.detach().float().numpy()).save(
            model_dir / HEAD_FILE)
        written.append(model_dir / HEAD_FILE)
    return written


def export_g2p(model_dir: Path, int8: bool = True) -> list[Path]:
    """The same for a G2P model directory (g2p/model.py): the graph reads hanzi indices
    (vocab.hanzi_id), and the reading head is saved beside it (runtime/transcriber.py)."""
    from .g2p.model import load_g2p
    from .runtime.transcriber import READING_HEAD_FILE, ReadingHead

    model_dir = Path(model_dir)
    model, _, _ = load_g2p(model_dir)
    encoder = model.encoder
    written = _export_hidden(encoder, slice(encoder.hanzi_offset, None), model_dir, int8)
    ReadingHead(model.head.weight.detach().float().numpy(),
                model.head.bias.detach().float().numpy()).save(model_dir / READING_HEAD_FILE)
    return written + [model_dir / READING_HEAD_FILE]


def _export_hidden(model, rows: slice, model_dir: Path, int8: bool) -> list[Path]:
    """The encoder (input ids index `rows` of its token table) -> model.onnx, and its
    weights quantized to int8 -> model.int8.onnx."""
    import torch

    wrapper = _hidden_module(model, rows).eval()
    ids = torch.zeros((2, 8), dtype=torch.long)
    mask = torch.ones_like(ids)
    batch = torch.export.Dim("batch")
    seq = torch.export.Dim("seq", max=model.config.max_len)
    out = model_dir / ONNX_FILE
    with atomic_file(out) as tmp:
        torch.onnx.export(wrapper, (ids, mask), tmp, dynamo=True, external_data=False,
                          input_names=["input_ids", "attention_mask"], output_names=["hidden"],
                          dynamic_shapes={"input_ids": {0: batch, 1: seq},
                                          "attention_mask": {0: batch, 1: seq}})
    if not int8:
        return [out]
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantized = model_dir / INT8_FILE
    with atomic_file(quantized) as tmp:
        quantize_dynamic(out, tmp, weight_type=QuantType.QInt8)
    return [out, quantized]


def _hidden_module(model, rows: slice):
    import copy

    import torch

    class Hidden(torch.nn.Module):
        """(input_ids, attention_mask) -> last hidden states, embedding only `rows` of the
        token table (input id i is token rows.start + i)."""

        def __init__(self):
            super().__init__()
            self.model = copy.deepcopy(model)
            self.model.tok_emb = torch.nn.Embedding.from_pretrained(
                model.tok_emb.weight.detach()[rows].clone())

        def forward(self, input_ids, attention_mask):
            return self.model.hidden(input_ids, attention_mask)

    return Hidden()
