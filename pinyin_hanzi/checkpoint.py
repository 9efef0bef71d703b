"""The saved-model directory contract, atomic saves, and the resume picker.

A model directory holds plain, safe files, enough to rebuild the model with no training code:
    config.json          {"format", "model": ModelConfig fields}
    model.safetensors    the weights: fp32, fp16, or int8 with a per-row scale (save_model)
    vocab.json           vocabularies and candidate table (vocab.py)
    training.json        the resolved training config that produced it (informational)
and, once exported and fitted, what the runtime loads:
    model.int8.onnx, model.int8.head.npz   the int8 engine and its output layer (export.py)
    ngram.npz, wordlm.npz, decode.json     the language models and how to decode (lm/, decode/)
It is written into `<dir>.tmp-<pid>` and renamed into place, so a crash never leaves half a
model. `load_model` names every missing or corrupt file.

Training checkpoints are Trainer's `checkpoint-<step>/` directories; Trainer writes them in
place, so `COMPLETE` is written atomically after each save, listing every file with its size
and SHA-256 (`mark_complete`). `last_good_checkpoint` resumes from the newest checkpoint whose
files all match their sums, and logs each newer one it skips with the file that is wrong: a
save a kill cut short (no COMPLETE), a file cut short, emptied or with bytes changed since. A
COMPLETE of before the sums ("ok") gets the checks that need none: every file there and not
empty, trainer_state.json JSON, the weights' header whole, each torch file a whole zip.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .files import atomic_dir, atomic_write_text

if TYPE_CHECKING:
    from .vocab import Vocab

FORMAT = "pinyin-hanzi-model/1"
COMPLETE = "COMPLETE"
COMPLETE_FORMAT = "pinyin-hanzi-checkpoint-sums/1"
ONNX_FILE, INT8_FILE = "model.onnx", "model.int8.onnx"
HEAD_FILE = "model.int8.head.npz"
NGRAM_FILE, WORDLM_FILE, DECODE_FILE = "ngram.npz", "wordlm.npz", "decode.json"
PRECISIONS = ("fp32", "fp16", "int8")  # of model.safetensors (save_model)
SCALE_SUFFIX = ".int8_scale"  # an int8 matrix's per-row scales, beside it


class ModelDirError(ValueError):
    """A model directory is missing files or holds corrupt ones; the message names them."""


def int8_rows(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric per-row int8: (codes, one scale per row), every weight within half its row's
    scale of code * scale. Each row keeps its own range; an all-zero row gets scale 1."""
    scale = np.abs(weight).max(axis=1) / 127
    scale[scale == 0] = 1
    return np.clip(np.rint(weight / scale[:, None]), -127, 127).astype(np.int8), scale


def save_model(model, vocab, out_dir: Path, training: dict | None = None,
               precision: str = "fp32", extra_files: tuple[Path, ...] = (),
               format: str = FORMAT, write_more=None):
    """Write the model directory atomically. `precision` is how model.safetensors stores the
    weights: "fp32", "fp16" (half the size) or "int8" (a quarter: each matrix row as int8
    with an fp32 scale `<name>.int8_scale`, 1-D tensors fp16); `read_weights` gives fp32
    back. `extra_files` (e.g. ngram.npz, decode.json) are copied in; `format` is
    config.json's (a G2P directory has its own) and `write_more(dir)` writes files of its own
    into the directory being built."""
    import torch
    from safetensors.torch import save_file

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    with atomic_dir(out_dir) as tmp:
        state = {}
        for k, v in model.state_dict().items():
            v = v.detach().float().cpu()
            if precision == "int8" and v.dim() == 2:
                codes, scale = int8_rows(v.numpy())
                state[k], state[k + SCALE_SUFFIX] = torch.from_numpy(codes), torch.from_numpy(scale)
            else:
                state[k] = v.to(torch.float32 if precision == "fp32" else torch.float16)
        save_file({k: v.contiguous() for k, v in state.items()}, tmp / "model.safetensors",
                  metadata={"format": format, "precision": precision})
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
    if not model_dir.exists():  # a typo in the path: "not a model directory" misled
        raise ModelDirError(f"{model_dir}: no such directory")
    if not model_dir.is_dir():
        raise ModelDirError(f"{model_dir}: not a model directory")
    missing = [name for name in ("config.json", *(weights or ("model.safetensors",)),
                                 "vocab.json")
               if not (model_dir / name).is_file()]
    if "config.json" in missing:
        raise ModelDirError(f"{model_dir}: missing {', '.join(missing)}"
                            + _what_it_is(model_dir))
    try:
        meta = json.loads((model_dir / "config.json").read_text())
        if meta.get("format") != format:  # before its files: another kind lacks some
            raise ModelDirError(f"{model_dir}/config.json: format {meta.get('format')!r}, "
                                f"expected {format!r}" + _other_kind(meta.get("format")))
        if missing:
            exported = set(missing) - {"config.json", "model.safetensors", "vocab.json"}
            raise ModelDirError(f"{model_dir}: missing {', '.join(missing)}" + (
                f" (`pinyin-hanzi export --model {model_dir}` writes them)" if exported
                else ""))
        fields = dict(meta["model"])
        int(fields["max_len"]), int(fields["n_hanzi"]), int(fields["d_model"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as e:
        if isinstance(e, ModelDirError):
            raise
        raise ModelDirError(f"{model_dir}/config.json: corrupt ({e})") from None
    try:
        vocab = Vocab.load(model_dir / "vocab.json")
    except ValueError as e:  # Vocab.load's message names the file
        raise ModelDirError(str(e)) from None
    if fields["n_hanzi"] != len(vocab.hanzi):
        raise ModelDirError(f"{model_dir}/vocab.json: {len(vocab.hanzi)} hanzi, but "
                            f"config.json says n_hanzi={fields['n_hanzi']}")
    return fields, vocab


def _what_it_is(path: Path) -> str:
    """What to give instead of `path`, a directory that holds no model: the model or adapter
    a training run wrote inside it, or an adapter's base."""
    if (path / "model" / "config.json").is_file():
        return f" (a training run: its model is {path / 'model'})"
    if (path / "adapter" / "adapter_config.json").is_file():
        return (f" (a LoRA training run: give its base model as the model and "
                f"{path / 'adapter'} as --adapter)")
    if (path / "adapter_config.json").is_file():
        return (" (a LoRA adapter: `convert` and `evaluate` load it with --adapter, on its "
                "base model)")
    return ""


def _other_kind(found) -> str:
    if found == "pinyin-hanzi-g2p/1":  # g2p.model_dir.FORMAT, which imports this module
        return (" (a G2P model, hanzi -> pinyin: it serves `g2p` and `prepare --g2p`; "
                "give a pinyin -> hanzi model)")
    if found == FORMAT:
        return " (a pinyin -> hanzi model: `train-g2p --init` it to make a G2P model)"
    return ""


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


def read_weights(model_dir: Path) -> dict:
    """model_dir/model.safetensors as fp32 tensors by name, whatever precision it was saved
    at (int8 rows times their scales); ModelDirError if the file is corrupt."""
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(model_dir) / "model.safetensors"
    try:
        state = load_file(path)
    except (SafetensorError, OSError) as e:
        raise ModelDirError(f"{path}: corrupt ({e})") from None
    weights = {}
    for name, t in state.items():
        if name.endswith(SCALE_SUFFIX):
            of = state.get(name[:-len(SCALE_SUFFIX)])
            if of is None or of.dtype != torch.int8:
                raise ModelDirError(f"{path}: corrupt ({name} scales no int8 tensor)")
        elif t.dtype == torch.int8:
            scale = state.get(name + SCALE_SUFFIX)
            if scale is None or t.dim() != 2 or scale.shape != (t.shape[0],):
                raise ModelDirError(f"{path}: corrupt ({name}: int8 without a scale per row)")
            weights[name] = t.float() * scale.float()[:, None]
        else:
            weights[name] = t.float()
    return weights


def load_weights(model, model_dir: Path):
    """model_dir/model.safetensors into `model`, after checking every name and shape;
    ModelDirError if the file is corrupt or is another model's."""
    state = read_weights(model_dir)
    expected = model.state_dict()
    problems = sorted(set(expected) ^ set(state)) + [
        k for k in expected if k in state and state[k].shape != expected[k].shape]
    if problems:
        raise ModelDirError(f"{model_dir}/model.safetensors: does not match config.json "
                            f"({', '.join(problems[:5])})")
    model.load_state_dict(state)


def mark_complete(checkpoint_dir: Path):
    """Write COMPLETE into a checkpoint Trainer has finished saving: each of its files with its
    size and SHA-256, so that a later change to any of them is found before resuming."""
    checkpoint_dir = Path(checkpoint_dir)
    files = {path.relative_to(checkpoint_dir).as_posix(): _sum(path)
             for path in sorted(checkpoint_dir.rglob("*"))
             if path.is_file() and path.name != COMPLETE}
    atomic_write_text(checkpoint_dir / COMPLETE,
                      json.dumps({"format": COMPLETE_FORMAT, "files": files}, indent=1))


def _sum(path: Path) -> dict:
    with open(path, "rb") as f:
        return {"bytes": path.stat().st_size,
                "sha256": hashlib.file_digest(f, "sha256").hexdigest()}


def checkpoint_problem(checkpoint_dir: Path) -> str | None:
    """What makes a checkpoint unfit to resume from, naming the file; None when it is whole."""
    checkpoint_dir = Path(checkpoint_dir)
    marker = checkpoint_dir / COMPLETE
    if not marker.is_file():
        return f"{marker} is missing: the save did not finish"
    if not (checkpoint_dir / "trainer_state.json").is_file():
        return f"{checkpoint_dir / 'trainer_state.json'} is missing"
    try:
        text = marker.read_text(encoding="utf-8")
        listed = None if text.strip() == "ok" else json.loads(text)
        if listed is not None and (not isinstance(listed, dict) or listed.get("format")
                                   != COMPLETE_FORMAT or not isinstance(listed.get("files"),
                                                                        dict)):
            raise ValueError(f"not a {COMPLETE_FORMAT} list")
    except (OSError, ValueError) as e:
        return f"{marker} cannot be read ({e})"
    if listed is None:
        return _unsummed_problem(checkpoint_dir)
    for name, expected in listed["files"].items():
        path = checkpoint_dir / name
        if not path.is_file():
            return f"{path} is missing"
        try:
            found = _sum(path) if path.stat().st_size == expected.get("bytes") else {
                "bytes": path.stat().st_size}
        except OSError as e:
            return f"{path} cannot be read ({e})"
        if found != expected:
            what = ("has changed since the save (its SHA-256 differs)"
                    if found["bytes"] == expected.get("bytes")
                    else f"is {found['bytes']} bytes, {expected.get('bytes')} when saved")
            return f"{path} {what}"
    return None


def _unsummed_problem(checkpoint_dir: Path) -> str | None:
    """The checks a checkpoint marked before the sums can have: files there and not empty,
    trainer_state.json JSON, the safetensors header and length, each torch file a whole zip."""
    from safetensors import SafetensorError, safe_open

    for path in sorted(checkpoint_dir.iterdir()):
        if not path.is_file() or path.name == COMPLETE:
            continue
        try:
            if path.stat().st_size == 0:
                return f"{path} is empty"
            if path.suffix == ".json":
                json.loads(path.read_text(encoding="utf-8"))
            elif path.suffix == ".safetensors":
                with safe_open(path, "pt") as f:
                    list(f.keys())
            elif path.suffix in (".pt", ".pth", ".bin"):
                with zipfile.ZipFile(path) as archive:
                    bad = archive.testzip()
                if bad is not None:
                    return f"{path} is corrupt (member {bad})"
        except (OSError, ValueError, SafetensorError, zipfile.BadZipFile) as e:
            return f"{path} is corrupt ({e})"
    return None


log = logging.getLogger(__name__)


def _checkpoints(run_dir: Path) -> list[tuple[int, Path]]:
    """(step, path) of each `checkpoint-<step>` directory under `run_dir`."""
    found = []
    for path in Path(run_dir).glob("checkpoint-*"):
        match = re.fullmatch(r"checkpoint-(\d+)", path.name)
        if match and path.is_dir():
            found.append((int(match.group(1)), path))
    return found


def remove_checkpoints(run_dir: Path):
    """Remove every `checkpoint-<step>` under `run_dir` (a fresh run's older ones), and only
    those: the folder may hold other files."""
    for _, path in _checkpoints(run_dir):
        shutil.rmtree(path)


def last_good_checkpoint(run_dir: Path) -> Path | None:
    """The newest `checkpoint-<step>` under `run_dir` that is whole (`checkpoint_problem`), or
    None; each newer one passed over is logged with what is wrong with it."""
    skipped = []
    for _, path in sorted(_checkpoints(run_dir), reverse=True):
        problem = checkpoint_problem(path)
        if problem is None:
            for bad, why in skipped:
                log.warning("not resuming from %s: %s; resuming from %s", bad.name, why,
                            path.name)
            return path
        skipped.append((path, problem))
    for bad, why in skipped:
        log.warning("not resuming from %s: %s; no checkpoint before it is whole", bad.name, why)
    return None
