"""Adapting a trained model to a domain or a user: LoRA adapters (peft) and the files they use.

    pinyin-hanzi finetune --init MODEL_DIR --text FILE ... --method lora --out RUN

`--method full` trains every weight, `freeze` only the embeddings/output head (the encoder
blocks stay fixed), `lora` adds low-rank updates to the encoder's linear layers and trains only
them. A LoRA run saves only the adapter, RUN/adapter/ (peft's adapter_config.json and
adapter_model.safetensors, a few hundred KB, plus base.json naming the base model), which
`Converter.load(base, adapter=RUN/adapter)` merges into the base weights when loading; several
adapters can sit beside one base model.

Two ways to forget less of what the base model knew, beside replaying general text
(train.py `--general`): `interpolate` (`--interpolate W`, WiSE-FT) keeps only W of what
training changed, and `distillation_loss` (`--distill`) keeps the base model's distribution
over homophones on the replayed clauses.
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

    from .checkpoint import read_weights

    lora = [p for name, p in model.named_parameters() if "lora_B" in name]
    with torch.no_grad():
        if lora:
            for p in lora:
                p.mul_(weight)
            return
        start = read_weights(init_dir)
        for name, p in model.named_parameters():  # tied weights appear once here
            p.mul_(weight).add_(start[name].to(p.device, p.dtype), alpha=1 - weight)


def distillation_loss(student, teacher, input_ids, attention_mask, labels):
    """Mean KL(teacher || student) over each labelled position's candidate hanzi (Learning
    without Forgetting): on replayed general clauses it keeps the whole distribution over
    homophones close to the starting model's, not just the gold one's probability."""
    import torch
    import torch.nn.functional as F

    from .vocab import IGNORE

    keep = labels != IGNORE
    if not keep.any():
        return input_ids.new_zeros((), dtype=torch.float32)
    rows = student.row_of_token[input_ids][keep]
    _, s_logits = student.candidate_logits(student.hidden(input_ids, attention_mask)[keep], rows)
    with torch.no_grad():
        _, t_logits = teacher.candidate_logits(teacher.hidden(input_ids, attention_mask)[keep],
                                               rows)
    total = s_logits[0].new_zeros(())
    for s, t in zip(s_logits, t_logits):
        total = total + F.kl_div(F.log_softmax(s, -1), F.log_softmax(t, -1), log_target=True,
                                 reduction="sum")
    return total / len(rows)


def save_adapter(peft_model, out_dir: Path, base_dir: Path):
    """Write the adapter (only the LoRA weights) and which base model it belongs to, as one
    atomic directory (checkpoint.atomic_dir)."""
    from .files import atomic_dir

    config = json.loads((Path(base_dir) / "config.json").read_text())
    with atomic_dir(out_dir) as tmp:
        peft_model.save_pretrained(str(tmp))
        (tmp / "base.json").write_text(json.dumps(
            {"base_model": str(base_dir), "model": config["model"],
             "weights_sha256": _weights_sum(Path(base_dir))}, indent=1))


def _weights_sum(model_dir: Path) -> str:
    """The base's weights file's SHA-256: a model of the same shape (the same preset on the
    same data, retrained) is another base, and the adapter's updates mean nothing on it."""
    import hashlib

    with open(model_dir / "model.safetensors", "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def load_adapter(model, base_dir: Path, adapter_dir: Path):
    """Merge an adapter into `model` (the base, loaded from `base_dir`); returns the plain
    merged model. Raises ValueError naming a missing file or a base that does not match."""
    from peft import PeftModel

    adapter_dir = Path(adapter_dir)
    missing = [f for f in ADAPTER_FILES if not (adapter_dir / f).is_file()]
    if missing:
        inside = adapter_dir / "adapter"  # given the run directory instead
        raise ValueError(f"{adapter_dir}: not an adapter directory (missing "
                         f"{', '.join(missing)})" + (f"; the run's adapter is {inside}"
                                                     if (inside / "base.json").is_file()
                                                     else ""))
    trained_on = json.loads((adapter_dir / "base.json").read_text())
    found = json.loads((Path(base_dir) / "config.json").read_text())["model"]
    same_weights = ("weights_sha256" not in trained_on  # saved before the sum was kept
                    or trained_on["weights_sha256"] == _weights_sum(Path(base_dir)))
    if trained_on["model"] != found or not same_weights:
        raise ValueError(f"{adapter_dir}: trained on another base model than {base_dir}: "
                         f"on {trained_on['base_model']} (its base.json); load it on that one")
    return PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload().eval()
