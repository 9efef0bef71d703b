"""Adapting a trained model to a domain or a user: LoRA adapters (peft) and the files they use.

    pinyin-hanzi finetune --init MODEL_DIR --text FILE ... --method lora --out RUN

`--method full` trains every weight, `freeze` only the embeddings/output head (the encoder
blocks stay fixed), `lora` adds low-rank updates to the encoder's linear layers and trains only
them. A LoRA run saves only the adapter, RUN/adapter/ (peft's adapter_config.json and
adapter_model.safetensors, a few hundred KB, plus base.json naming the base model), which
`Converter.load(base, adapter=RUN/adapter)` merges into the base weights when loading; several
adapters can sit beside one base model.
"""

from __future__ import annotations

import json
from pathlib import Path

METHODS = ("full", "freeze", "lora")
LORA_TARGETS = ["qkv", "proj", "mlp.0", "mlp.2"]  # every linear layer of every block
ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors", "base.json")


def add_lora(model, rank: int = 8, alpha: int = 16, dropout: float = 0.05):
    """Wrap `model` with trainable LoRA updates; every other weight is frozen."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout,
                        target_modules=LORA_TARGETS, bias="none")
    return get_peft_model(model, config)


def freeze_encoder(model):
    """Train only the (tied) embeddings/output head and the final norm."""
    for name, p in model.named_parameters():
        p.requires_grad = not (name.startswith("blocks.") or name.startswith("pos_emb."))


def interpolate(model, init_dir: Path, weight: float):
    """WiSE-FT in place: every weight becomes init + weight * (trained - init). A LoRA model
    changed only by its low-rank updates B @ A, so scaling each B by `weight` is the same."""
    import torch
    from safetensors.torch import load_file

    lora = [p for name, p in model.named_parameters() if "lora_B" in name]
    with torch.no_grad():
        if lora:
            for p in lora:
                p.mul_(weight)
            return
        start = load_file(Path(init_dir) / "model.safetensors")
        for name, p in model.named_parameters():  # tied weights appear once here
            p.mul_(weight).add_(start[name].to(p.device, p.dtype), alpha=1 - weight)


def save_adapter(peft_model, out_dir: Path, base_dir: Path):
    """Write the adapter (only the LoRA weights) and which base model it belongs to, as one
    atomic directory (checkpoint.atomic_dir)."""
    from .checkpoint import atomic_dir

    config = json.loads((Path(base_dir) / "config.json").read_text())
    with atomic_dir(out_dir) as tmp:
        peft_model.save_pretrained(str(tmp))
        (tmp / "base.json").write_text(json.dumps(
            {"base_model": str(base_dir), "model": config["model"]}, indent=1))


def load_adapter(model, base_dir: Path, adapter_dir: Path):
    """Merge an adapter into `model` (the base, loaded from `base_dir`); returns the plain
    merged model. Raises ValueError naming a missing file or a base that does not match."""
    from peft import PeftModel

    adapter_dir = Path(adapter_dir)
    missing = [f for f in ADAPTER_FILES if not (adapter_dir / f).is_file()]
    if missing:
        raise ValueError(f"{adapter_dir}: not an adapter directory (missing "
                         f"{', '.join(missing)})")
    expected = json.loads((adapter_dir / "base.json").read_text())["model"]
    found = json.loads((Path(base_dir) / "config.json").read_text())["model"]
    if expected != found:
        raise ValueError(f"{adapter_dir}: trained on another base model than {base_dir} "
                         f"(see {adapter_dir / 'base.json'})")
    return PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload().eval()
