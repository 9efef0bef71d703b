"""Tests for `--resume` (train.py with checkpoint.py's picker): a damaged newest checkpoint is
skipped for the one before it, with a line naming the bad file, and a run stopped in any epoch
resumes to the weights and losses of an uninterrupted run.

Tiny runs on the hermetic corpus of tiny_run.py, fp32 on one thread, early stopping off.
"""

import json
import logging
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import TrainerCallback

import pinyin_hanzi.train as train_module
from pinyin_hanzi.checkpoint import COMPLETE
from pinyin_hanzi.train import TrainConfig, train
from tiny_run import TINY, one_thread, shared_data

# Two checkpoints, 10 and 20; the run ends at 20.
SHORT = dict(TINY, max_steps=20, eval_steps=10, seed=7)
# 64 training examples in batches of 16: an epoch is 4 steps, a checkpoint every 2.
EPOCHS = dict(TINY, max_steps=12, eval_steps=2, train_examples=64, seed=11)


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with one_thread():
        yield


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return shared_data(tmp_path_factory)


@pytest.fixture(scope="module")
def short_run(data_dir, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("short") / "run"
    train(TrainConfig(**SHORT, data_dir=data_dir, out_dir=run))
    return run


def weights(path: Path) -> dict[str, torch.Tensor]:
    return load_file(path / "model.safetensors")


def assert_same_weights(a: dict, b: dict, atol: float = 1e-6):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], rtol=0, atol=atol), key


def assert_same_losses(run: Path, reference: Path):
    """The same training loss logged at the same steps."""
    a, b = ([(r["step"], r["loss"]) for r in map(json.loads, (path / "metrics.jsonl").open())
             if "loss" in r] for path in (run, reference))
    assert [step for step, _ in a] == [step for step, _ in b]
    assert [loss for _, loss in a] == pytest.approx([loss for _, loss in b], abs=1e-5)


def half(path: Path):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def flip_weights(path: Path):
    """64 bytes inverted in the middle of the weights (the header still parses)."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(b ^ 0xFF for b in data[middle:middle + 64])
    path.write_bytes(bytes(data))


DAMAGE = {
    "half model.safetensors": ("model.safetensors", half),
    "half optimizer.pt": ("optimizer.pt", half),
    "half scheduler.pt": ("scheduler.pt", half),
    "half trainer_state.json": ("trainer_state.json", half),
    "empty rng_state.pth": ("rng_state.pth", lambda p: p.write_bytes(b"")),
    "flipped bytes in the weights": ("model.safetensors", flip_weights),
}


@pytest.mark.slow
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_newest_checkpoint_falls_back_to_the_one_before(
        short_run, data_dir, tmp_path, caplog, damage):
    run = tmp_path / "run"
    shutil.copytree(short_run, run)
    newest = run / "checkpoints" / "checkpoint-20"
    name, spoil = DAMAGE[damage]
    spoil(newest / name)
    with caplog.at_level(logging.WARNING):
        train(TrainConfig(**SHORT, data_dir=data_dir, out_dir=run, resume=True))
    assert any(str(newest / name) in r.getMessage() and "checkpoint-10" in r.getMessage()
               for r in caplog.records), [r.getMessage() for r in caplog.records]
    # Resumed from step 10 (steps 11-20 trained again), it ends where the first run ended.
    assert_same_weights(weights(run / "checkpoints" / "checkpoint-20"),
                        weights(short_run / "checkpoints" / "checkpoint-20"))
    assert_same_weights(weights(run / "model"), weights(short_run / "model"))
    assert_same_losses(run, short_run)


class Crash(TrainerCallback):
    """Stops the run as a kill would: an exception right after step `at` (its checkpoint, if
    any, written)."""

    def __init__(self, at: int):
        self.at = at

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.at + 1:
            raise KeyboardInterrupt(f"killed after step {self.at}")


@pytest.mark.slow
@pytest.mark.parametrize("stopped_at", [4, 6, 10])  # the end of epoch 1, in epoch 2, in epoch 3
def test_a_run_stopped_in_any_epoch_resumes_as_if_never_stopped(
        data_dir, tmp_path, monkeypatch, stopped_at):
    config = dict(EPOCHS, data_dir=data_dir)
    full, stopped = tmp_path / "full", tmp_path / "stopped"
    train(TrainConfig(**config, out_dir=full))

    callbacks = train_module._callbacks
    monkeypatch.setattr(train_module, "_callbacks",
                        lambda *a: callbacks(*a) + [Crash(stopped_at)])
    with pytest.raises(KeyboardInterrupt):
        train(TrainConfig(**config, out_dir=stopped))
    monkeypatch.setattr(train_module, "_callbacks", callbacks)
    assert (stopped / "checkpoints" / f"checkpoint-{stopped_at}" / COMPLETE).is_file()
    assert not (stopped / "checkpoints" / f"checkpoint-{stopped_at + 2}").exists()

    train(TrainConfig(**config, out_dir=stopped, resume=True))
    assert_same_losses(stopped, full)
    assert_same_weights(weights(stopped / "checkpoints" / "checkpoint-12"),
                        weights(full / "checkpoints" / "checkpoint-12"))
    assert_same_weights(weights(stopped / "model"), weights(full / "model"))
