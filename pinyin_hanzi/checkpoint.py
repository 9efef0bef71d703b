"""The saved-model directory contract, atomic saves, and the resume picker.

A model directory holds plain, safe files, enough to rebuild the model with no training code:
    config.json          {"format", "model": ModelConfig fields}
    model.safetensors    the weights
    vocab.json           vocabularies and candidate table (vocab.py)
    training.json        the resolved training config that produced it (informational)
and, once exported and fitted, what the runtime loads:
    model.int8.onnx, model.int8.head.npz   the int8 engine and its output layer (export.py)
    ngram.npz, wordlm.npz, decode.json     the language models and how to decode (lm/, decode/)
It is written into `<dir>.tmp-<pid>` and renamed into place, so a crash never leaves half a
model. `load_model` names every missing or corrupt file.

Training checkpoints are Trainer's `checkpoint-<step>/` directories; Trainer writes them in
place, so `COMPLETE` is written (and fsynced) after each save, and `last_complete_checkpoint`
resumes from the newest one that has it, skipping a checkpoint that a kill cut short.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from .files import atomic_dir

if TYPE_CHECKING:
    from .vocab import Vocab

FORMAT = "pinyin-hanzi-model/1"
COMPLETE = "COMPLETE"
ONNX_FILE, INT8_FILE = "model.onnx", "model.int8.onnx"
HEAD_FILE = "model.int8.head.npz"
NGRAM_FILE, WORDLM_FILE, DECODE_FILE = "ngram.npz", "wordlm.npz", "decode.json"


class ModelDirError(ValueError):
    """A model directory is missing files or holds corrupt ones; the message names them."""


def save_model(model, vocab, out_dir: Path, training: dict | None = None, half: bool = False,
               extra_files: tuple[Path, ...] = (), format: str = FORMAT, write_more=None):
    """Write the model directory atomically. `half` stores fp16 weights (half the size; they
    are loaded back as fp32); `extra_files` (e.g. ngram.npz, decode.json) are copied in;
    `format` is config.json's (a G2P directory has its own) and `write_more(dir)` writes
    files of its own into the directory being built."""
    import torch
    from safetensors.torch import save_file

    with atomic_dir(out_dir) as tmp:
        dtype = torch.float16 if half else torch.float32
        state = {k: v.detach().to(dtype).contiguous().cpu()
                 for k, v in model.state_dict().items()}
        save_file(state, tmp / "model.safetensors", metadata={"format": format})
        (tmp / "config.json").write_text(
            json.dumps({"format": format, "model": model.config.to_dict()}, indent=1))
        vocab.save(tmp / "vocab.json")
        if write_more is not None:
            write_more(tmp)
        if training is not None:
            (tmp / "training.json").write_text(json.dumps(training, indent=1, default=str))
        for path in extra_files:
            shutil.copyfile(path, tmp / Path(path).name)


def read_model_meta(model_dir: Path, *weights: str, format: str = FORMAT
                    ) -> tuple[dict, "Vocab"]:
    """-> (the ModelConfig fields of config.json, the vocabulary), checked against each other,
    without importing torch (the onnxruntime path needs only these). The `weights` files
    (default model.safetensors) must exist too. Raises ModelDirError naming what is wrong."""
    from .vocab import Vocab

    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ModelDirError(f"{model_dir}: not a model directory")
    missing = [name for name in ("config.json", *(weights or ("model.safetensors",)),
                                 "vocab.json")
               if not (model_dir / name).is_file()]
    if missing:
        raise ModelDirError(f"{model_dir}: missing {', '.join(missing)}")
    try:
        meta = json.loads((model_dir / "config.json").read_text())
        if meta.get("format") != format:
            raise ModelDirError(f"{model_dir}/config.json: format {meta.get('format')!r}, "
                                f"expected {format!r}")
        fields = dict(meta["model"])
        int(fields["max_len"]), int(fields["n_hanzi"]), int(fields["d_model"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as e:
        if isinstance(e, ModelDirError):
            raise
        raise ModelDirError(f"{model_dir}/config.json: corrupt ({e})") from None
    try:
        vocab = Vocab.load(model_dir / "vocab.json")
    except ValueError as e:
        raise ModelDirError(f"{model_dir}/vocab.json: {e}") from None
    if fields["n_hanzi"] != len(vocab.hanzi):
        raise ModelDirError(f"{model_dir}/vocab.json: {len(vocab.hanzi)} hanzi, but "
                            f"config.json says n_hanzi={fields['n_hanzi']}")
    return fields, vocab


def load_model(model_dir: Path, device: str = "cpu"):
    """-> (model in eval mode, vocab). Raises ModelDirError naming what is wrong."""
    model_dir = Path(model_dir)
    fields, vocab = read_model_meta(model_dir)
    model = build_encoder(model_dir, fields, vocab)
    load_weights(model, model_dir)
    return model.to(device).eval(), vocab


def build_encoder(model_dir: Path, fields: dict, vocab: "Vocab"):
    """The (untrained) PinyinHanziModel that config.json's `fields` and the vocabulary
    describe; ModelDirError naming the file that does not fit."""
    from .model import ModelConfig, PinyinHanziModel

    try:
        config = ModelConfig.from_dict(fields)
    except (TypeError, ValueError) as e:
        raise ModelDirError(f"{model_dir}/config.json: corrupt ({e})") from None
    try:
        return PinyinHanziModel(config, vocab)
    except ValueError as e:
        raise ModelDirError(f"{model_dir}/vocab.json: {e}") from None


def load_weights(model, model_dir: Path):
    """model_dir/model.safetensors into `model`, after checking every name and shape;
    ModelDirError if the file is corrupt or is another model's."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(Path(model_dir) / "model.safetensors")
    except (SafetensorError, OSError) as e:
        raise ModelDirError(f"{model_dir}/model.safetensors: corrupt ({e})") from None
    expected = model.state_dict()
    problems = sorted(set(expected) ^ set(state)) + [
        k for k in expected if k in state and state[k].shape != expected[k].shape]
    if problems:
        raise ModelDirError(f"{model_dir}/model.safetensors: does not match config.json "
                            f"({', '.join(problems[:5])})")
    model.load_state_dict(state)  # copies into the fp32 parameters, casting fp16 weights


def mark_complete(checkpoint_dir: Path):
    path = Path(checkpoint_dir) / COMPLETE
    with open(path, "w") as f:
        f.write("ok\n")
        f.flush()
        os.fsync(f.fileno())


def last_complete_checkpoint(run_dir: Path) -> Path | None:
    """The newest `checkpoint-<step>` under `run_dir` that was fully written, or None."""
    found = []
    for path in Path(run_dir).glob("checkpoint-*"):
        match = re.fullmatch(r"checkpoint-(\d+)", path.name)
        if match and (path / COMPLETE).is_file() and (path / "trainer_state.json").is_file():
            found.append((int(match.group(1)), path))
    return max(found)[1] if found else None
