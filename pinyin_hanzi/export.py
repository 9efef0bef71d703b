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
    import torch

    from .checkpoint import load_model

    model_dir = Path(model_dir)
    model, _ = load_model(model_dir)
    wrapper = _hidden_module(model).eval()
    ids = torch.ones((2, 8), dtype=torch.long) * model.hanzi_offset - 1  # any syllable token
    mask = torch.ones_like(ids)
    batch = torch.export.Dim("batch")
    seq = torch.export.Dim("seq", max=model.config.max_len)
    out = model_dir / ONNX_FILE
    with atomic_file(out) as tmp:
        torch.onnx.export(wrapper, (ids, mask), tmp, dynamo=True, external_data=False,
                          input_names=["input_ids", "attention_mask"], output_names=["hidden"],
                          dynamic_shapes={"input_ids": {0: batch, 1: seq},
                                          "attention_mask": {0: batch, 1: seq}})
    written = [out]
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        from .runtime.encoders import OutputHead

        quantized = model_dir / INT8_FILE
        with atomic_file(quantized) as tmp:
            quantize_dynamic(out, tmp, weight_type=QuantType.QInt8)
        head = model.tok_emb.weight.detach()[model.hanzi_offset:].float().numpy()
        OutputHead.quantize(head, model.head_bias.detach().float().numpy()).save(
            model_dir / HEAD_FILE)
        written += [quantized, model_dir / HEAD_FILE]
    return written


def _hidden_module(model):
    import copy

    import torch

    class Hidden(torch.nn.Module):
        """(input_ids, attention_mask) -> last hidden states. Conversion inputs are syllables
        only, so the graph embeds just the rows before the hanzi (8 % of the table)."""

        def __init__(self):
            super().__init__()
            self.model = copy.deepcopy(model)
            self.model.tok_emb = torch.nn.Embedding.from_pretrained(
                model.tok_emb.weight.detach()[:model.hanzi_offset].clone())

        def forward(self, input_ids, attention_mask):
            return self.model.hidden(input_ids, attention_mask)

    return Hidden()
