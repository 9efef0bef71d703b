"""Deepen a trained encoder without changing what it computes, to keep training it larger:

    python dev/grow_model.py MODEL_DIR AFTER[,AFTER...] OUT_DIR

A new block is inserted after each listed block (0-based indices of the old blocks) as a copy
of that block with its two residual output layers (attention `proj`, MLP `mlp.2`) zeroed. In a
pre-LN encoder such a block adds nothing to the residual stream, so the grown model gives the
same outputs as MODEL_DIR (checked here) and training starts from its accuracy instead of from
scratch; the copied inner weights give the new block useful features from its first step.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import torch

from pinyin_hanzi.checkpoint import load_model, save_model
from pinyin_hanzi.model import ModelConfig, PinyinHanziModel


def grow(model: PinyinHanziModel, vocab, after: list[int]) -> PinyinHanziModel:
    n = model.config.n_layer
    if not after or any(not 0 <= i < n for i in after) or len(set(after)) != len(after):
        raise ValueError(f"AFTER must be distinct block indices in 0..{n - 1}, got {after}")
    config = ModelConfig.from_dict({**model.config.to_dict(), "n_layer": n + len(after)})
    grown = PinyinHanziModel(config, vocab)
    blocks = []
    for i, block in enumerate(model.blocks):
        blocks.append(copy.deepcopy(block))
        if i in after:
            new = copy.deepcopy(block)
            for layer in (new.proj, new.mlp[2]):
                torch.nn.init.zeros_(layer.weight)
                torch.nn.init.zeros_(layer.bias)
            blocks.append(new)
    grown.blocks = torch.nn.ModuleList(blocks)
    for name in ("tok_emb", "pos_emb", "ln_f"):
        setattr(grown, name, copy.deepcopy(getattr(model, name)))
    grown.head_bias = torch.nn.Parameter(model.head_bias.detach().clone())
    return grown.eval()


def main(src: Path, after: list[int], out: Path):
    model, vocab = load_model(src)
    grown = grow(model, vocab, after)
    ids = torch.randint(vocab.syllable_offset, vocab.syllable_offset + len(vocab.syllables),
                        (4, 12), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a, b = model(ids)["logits"], grown(ids)["logits"]
    finite = torch.isfinite(a)
    if not torch.equal(finite, torch.isfinite(b)) or not torch.allclose(a[finite], b[finite],
                                                                         atol=1e-5):
        raise SystemExit("the grown model does not compute what the original does")
    save_model(grown, vocab, out, training={"grown": {"from": str(src), "after": after}})
    print(f"{out}: {model.config.n_layer} -> {grown.config.n_layer} blocks, "
          f"{grown.num_parameters():,} parameters, same outputs as {src}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), [int(i) for i in sys.argv[2].split(",")], Path(sys.argv[3]))
