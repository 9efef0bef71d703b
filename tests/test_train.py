"""Tests for pinyin_hanzi.train (and the resume picker of checkpoint.py): tiny end-to-end runs.

Every run uses the tiny preset on the hermetic corpus of tiny_run.py, in fp32 (exact resume on
CPU) and with early stopping off. The kill-and-resume and torchrun tests start subprocesses with
OMP_NUM_THREADS=1 so they stay light on a machine that may be training something else.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from pinyin_hanzi.checkpoint import COMPLETE, last_good_checkpoint, load_model
from pinyin_hanzi.train import TrainConfig, train
from tiny_run import TINY, one_thread, shared_data, shared_run

MODEL_FILES = {"config.json", "model.safetensors", "vocab.json", "training.json"}
SUBPROCESS_ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    with one_thread():
        yield


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return shared_data(tmp_path_factory)


def read_metrics(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def events(rows: list[dict]) -> list[tuple[int, str]]:
    """(step, kind) per metrics line; kind tells a train log from an eval or a summary."""
    kinds = ("eval_loss", "train_runtime", "loss")
    return [(r["step"], next(k for k in kinds if k in r)) for r in rows]


def assert_each_step_logged_once(rows: list[dict], last_step: int):
    """During training each kind of line comes once per step, in order; after the summary line
    comes one final evaluation (of the best model, logged at the last step)."""
    kinds = events(rows)
    summary = kinds.index((last_step, "train_runtime"))
    for kind in ("loss", "eval_loss"):
        steps = [step for step, k in kinds[:summary] if k == kind]
        assert steps == sorted(set(steps)), kind
    assert kinds[summary + 1:] == [(last_step, "eval_loss")]


def weights(path: Path) -> dict[str, torch.Tensor]:
    return load_file(path / "model.safetensors")


def assert_same_weights(a: dict, b: dict, atol: float = 1e-6):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], rtol=0, atol=atol), key


# --- a tiny run ------------------------------------------------------------------------------


def test_tiny_run_writes_the_run_dir_and_the_loss_falls(tmp_path_factory):
    run = shared_run(tmp_path_factory)
    assert {p.name for p in (run / "model").iterdir()} == MODEL_FILES
    assert not list(run.glob("model.*"))  # no temporary or old model directory left behind
    assert json.loads((run / "train_config.json").read_text())["preset"] == "tiny"
    training = json.loads((run / "model" / "training.json").read_text())
    assert training["objective"] == "convert" and training["max_steps"] == TINY["max_steps"]
    assert 0 < training["final_dev"]["eval_char_acc"] <= 1

    rows = read_metrics(run)
    losses = [r["loss"] for r in rows if "loss" in r]
    assert len(losses) >= 10
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3
    assert [r["step"] for r in rows if "eval_loss" in r][:4] == [10, 20, 30, 40]

    model, vocab = load_model(run / "model")
    assert model.config.d_model == 32 and model.config.n_layer == 2  # the tiny preset
    assert training["parameters"] == model.num_parameters()


# --- kill and resume -------------------------------------------------------------------------

# Runs a tiny training in a subprocess that stops (alive) at HANG_STEP, after the checkpoint of
# step 10 and two log lines past it, so the test can SIGKILL it at a known point.
HANG_STEP = 15
KILLED_RUN = """
import time
from pathlib import Path
from transformers import TrainerCallback
import pinyin_hanzi.train as t

class Hang(TrainerCallback):
    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == {hang}:
            Path({marker!r}).write_text("hung")
            time.sleep(600)

callbacks = t._callbacks
t._callbacks = lambda *a: callbacks(*a) + [Hang()]
t.train(t.TrainConfig(**{config!r}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("objective", ["convert", "pretrain"])
def test_kill_and_resume_matches_an_uninterrupted_run(data_dir, tmp_path, objective):
    """kill -9 mid-run (finetune's conversion objective, and pretraining), then --resume:
    the same weights and log as one uninterrupted run."""
    config = dict(TINY, data_dir=str(data_dir), seed=3, objective=objective)
    killed, full, marker = tmp_path / "killed", tmp_path / "full", tmp_path / "hung"
    script = KILLED_RUN.format(hang=HANG_STEP, marker=str(marker),
                               config={**config, "out_dir": str(killed)})
    log = tmp_path / "killed.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-c", script], env=SUBPROCESS_ENV,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(f"training exited early: {log.read_text()[-2000:]}")
            assert time.monotonic() < deadline, "training never reached the hang step"
            time.sleep(0.1)
        assert (killed / "checkpoints" / "checkpoint-10" / COMPLETE).is_file()
        killed_at = time.time()
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    logged = read_metrics(killed)
    assert max(r["step"] for r in logged) > 10  # lines past the checkpoint, to be re-logged

    # A save the kill cut short: no COMPLETE, so the picker must skip it.
    partial = killed / "checkpoints" / "checkpoint-20"
    partial.mkdir()
    (partial / "trainer_state.json").write_text(
        (killed / "checkpoints" / "checkpoint-10" / "trainer_state.json").read_text())
    (partial / "model.safetensors").write_bytes(b"\x00" * 16)
    assert last_good_checkpoint(killed / "checkpoints").name == "checkpoint-10"

    train(TrainConfig(**{**config, "out_dir": killed, "resume": True}))
    train(TrainConfig(**{**config, "out_dir": full}))

    assert_same_weights(weights(killed / "model"), weights(full / "model"))
    assert_same_weights(weights(killed / "checkpoints" / "checkpoint-40"),
                        weights(full / "checkpoints" / "checkpoint-40"))
    resumed, uninterrupted = read_metrics(killed), read_metrics(full)
    assert events(resumed) == events(uninterrupted)  # no step logged twice, none missing
    assert_each_step_logged_once(resumed, 40)
    assert [r["loss"] for r in resumed if "loss" in r] == pytest.approx(
        [r["loss"] for r in uninterrupted if "loss" in r], abs=1e-5)
    # It really resumed: lines up to the checkpoint are the killed process's, the rest are new.
    assert all(r["time"] < killed_at for r in resumed if r["step"] <= 10)
    assert all(r["time"] > killed_at for r in resumed if r["step"] > 10)


def test_a_full_disk_during_a_checkpoint_save_leaves_the_last_good_one_usable(
        data_dir, tmp_path, monkeypatch):
    """The disk fills while Trainer writes checkpoint-20 (its optimizer state): the run stops
    with the OS's error, checkpoint-20 has no COMPLETE, the picker takes checkpoint-10, and a
    resumed run (the disk freed) ends with the weights of an uninterrupted one."""
    import errno

    config = dict(TINY, data_dir=data_dir, seed=5)
    real_save = torch.save

    def disk_full_at_20(obj, f, *args, **kwargs):
        if "checkpoint-20" in str(f):
            Path(f).write_bytes(b"\x00" * 7)  # what a full disk leaves: a cut-short file
            raise OSError(errno.ENOSPC, "No space left on device", str(f))
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", disk_full_at_20)
    with pytest.raises(OSError, match="No space left"):
        train(TrainConfig(**config, out_dir=tmp_path / "full-disk"))
    monkeypatch.setattr(torch, "save", real_save)
    checkpoints = tmp_path / "full-disk" / "checkpoints"
    assert (checkpoints / "checkpoint-20").is_dir()
    assert not (checkpoints / "checkpoint-20" / COMPLETE).exists()
    assert last_good_checkpoint(checkpoints).name == "checkpoint-10"
    assert not (tmp_path / "full-disk" / "model").exists()  # nothing half-saved to load

    train(TrainConfig(**config, out_dir=tmp_path / "full-disk", resume=True))
    train(TrainConfig(**config, out_dir=tmp_path / "uninterrupted"))
    assert_same_weights(weights(tmp_path / "full-disk" / "model"),
                        weights(tmp_path / "uninterrupted" / "model"))


@pytest.mark.parametrize(
    "dirs, expected",
    [
        ({}, None),
        ({"checkpoint-10": "complete"}, "checkpoint-10"),
        ({"checkpoint-10": "complete", "checkpoint-20": "no marker"}, "checkpoint-10"),
        ({"checkpoint-10": "complete", "checkpoint-20": "complete"}, "checkpoint-20"),
        ({"checkpoint-9": "complete", "checkpoint-10": "complete"}, "checkpoint-10"),  # numeric
        ({"checkpoint-10": "complete", "checkpoint-20": "no state"}, "checkpoint-10"),
        ({"checkpoint-10": "complete", "checkpoint-30.tmp": "complete"}, "checkpoint-10"),
        ({"checkpoint-10": "complete", "checkpoint-x": "complete"}, "checkpoint-10"),
        ({"checkpoint-10": "no marker"}, None),
    ],
)
def test_last_good_checkpoint(tmp_path, dirs, expected):
    for name, kind in dirs.items():
        path = tmp_path / name
        path.mkdir()
        if kind != "no state":
            (path / "trainer_state.json").write_text("{}")
        if kind != "no marker":
            (path / COMPLETE).write_text("ok\n")
    found = last_good_checkpoint(tmp_path)
    assert (found.name if found else None) == expected


def test_last_good_checkpoint_of_a_missing_dir(tmp_path):
    assert last_good_checkpoint(tmp_path / "nothing") is None


# --- data parallel under torchrun ------------------------------------------------------------

# Per rank: how many optimizer steps ran, a checksum of the weights after each, the first two
# training batches, and which run-dir writers were called.
DDP_SCRIPT = """
import hashlib, json, os, sys
from pathlib import Path
import torch.distributed as dist
from transformers import TrainerCallback
import pinyin_hanzi.objectives as objectives
import pinyin_hanzi.train as t

seen = {"checksums": [], "batches": [], "save_model": 0, "mark_complete": 0}

class Record(TrainerCallback):
    def on_step_end(self, args, state, control, model=None, **kwargs):
        seen["checksums"].append(sum(p.double().sum().item() for p in model.parameters()))

collate = objectives.Collator.__call__
def recording_collate(self, items):
    batch = collate(self, items)
    if len(seen["batches"]) < 2:
        seen["batches"].append(hashlib.sha1(batch["labels"].numpy().tobytes()).hexdigest())
    return batch
objectives.Collator.__call__ = recording_collate

def counting(name, fn):
    def wrapper(*args, **kwargs):
        seen[name] += 1
        return fn(*args, **kwargs)
    return wrapper
t.save_model = counting("save_model", t.save_model)
t.mark_complete = counting("mark_complete", t.mark_complete)
callbacks = t._callbacks
t._callbacks = lambda *a: callbacks(*a) + [Record()]

data_dir, out_dir = sys.argv[1:3]
t.train(t.TrainConfig(data_dir=data_dir, out_dir=out_dir, preset="tiny", sources=(),
                      max_steps=6, batch_size=8, eval_steps=3, patience=0, precision="fp32",
                      progress=False))
seen["world_size"] = dist.get_world_size() if dist.is_initialized() else 1
seen["rank"] = dist.get_rank() if dist.is_initialized() else -1
Path(out_dir).parent.joinpath(f"rank-{os.environ['RANK']}.json").write_text(json.dumps(seen))
from pinyin_hanzi.cli import _end_distributed  # as `torchrun -m pinyin_hanzi.cli` ends
_end_distributed()
assert not dist.is_initialized()
"""


@pytest.mark.slow
def test_torchrun_two_processes_train_data_parallel(data_dir, tmp_path):
    script = tmp_path / "ddp_train.py"
    script.write_text(DDP_SCRIPT)
    run = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         str(script), str(data_dir), str(run)],
        env=SUBPROCESS_ENV, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]

    ranks = [json.loads((tmp_path / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert [r["rank"] for r in ranks] == [0, 1]
    assert [r["world_size"] for r in ranks] == [2, 2]
    assert [len(r["checksums"]) for r in ranks] == [6, 6]
    # Gradients are averaged across processes: both replicas hold the same weights every step,
    # although each process saw its own share of the data.
    assert ranks[0]["checksums"] == pytest.approx(ranks[1]["checksums"], rel=1e-9)
    assert ranks[0]["batches"] != ranks[1]["batches"]
    # Only rank 0 writes the run directory.
    assert [r["save_model"] for r in ranks] == [1, 0]
    assert ranks[0]["mark_complete"] == 2 and ranks[1]["mark_complete"] == 0
    assert {p.name for p in (run / "model").iterdir()} == MODEL_FILES
    assert not list(run.glob("model.*"))
    rows = read_metrics(run)
    assert_each_step_logged_once(rows, 6)  # rank 1 appended nothing
    assert [r["step"] for r in rows if "loss" in r] == [1, 2, 3, 4, 5, 6]


# --- configuration errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, flag",
    [
        ({"batch_size": 0}, "--batch-size"),
        ({"max_steps": 0}, "--max-steps"),
        ({"eval_steps": -1}, "--eval-steps"),
        ({"grad_accum": 0}, "--grad-accum"),
        ({"lr": 0.0}, "--lr"),
        ({"objective": "x"}, "--objective"),
        ({"preset": "huge"}, "--preset"),
        ({"precision": "fp8"}, "--precision"),
        ({"method": "freeze"}, "--method freeze needs --init"),
        ({"method": "lora"}, "--method lora needs --init"),
        ({"method": "adapterz"}, "--method must be one of"),
        # These were taken: -1 minutes trained one step and saved it as the model.
        ({"max_minutes": -1}, "--max-minutes must be >= 0"),
        ({"patience": -1}, "--patience must be >= 0"),
        ({"train_examples": -2}, "--train-examples must be >= 0"),
        ({"warmup_steps": -3}, "--warmup-steps must be >= 0"),
    ],
)
def test_train_config_rejects_bad_values(kwargs, flag):
    with pytest.raises(ValueError, match=flag):
        TrainConfig(**kwargs)


def test_train_config_accepts_paths_as_strings():
    config = TrainConfig(data_dir="d", out_dir="o", init="m", sources=["pd98"])
    assert (config.data_dir, config.out_dir, config.init) == (Path("d"), Path("o"), Path("m"))
    assert config.sources == ("pd98",)


@pytest.mark.parametrize("sources, general, says", [
    (("pd98",), (), "--sources: 'pd98' not in"),  # finetune's default on the user's data
    (("user/corpus", "revews"), (), "--sources: 'revews' not in"),  # left out, silently
    ((), ("pd98",), "--general-sources: 'pd98' not in"),
])
def test_sources_the_data_lacks_are_named_with_those_it_holds(data_dir, tmp_path, sources,
                                                              general, says):
    """The default --sources on the user's own data said only "no train or dev examples for
    sources ('pd98',)"; a misspelt name beside a right one was left out, silently."""
    extra = {"general_dir": data_dir, "general_sources": general, "init": tmp_path} if general \
        else {}
    with pytest.raises(ValueError, match=re.escape(says)) as error:
        train(TrainConfig(data_dir=data_dir, out_dir=tmp_path,
                          **{**TINY, "sources": sources, **extra}))
    assert "it holds user/corpus.txt (--sources '' takes them all)" in str(error.value)


def test_a_fresh_run_in_a_used_run_dir_leaves_no_checkpoint_of_the_old_one(data_dir, tmp_path):
    """Rerun without --resume into the same --out: the older run's checkpoints (steps past
    this one's) stayed, and a --resume after a kill continued that other run."""
    tiny = {**TINY, "max_steps": 20, "eval_steps": 10}
    with one_thread():
        train(TrainConfig(data_dir=data_dir, out_dir=tmp_path, **tiny))
        assert last_good_checkpoint(tmp_path / "checkpoints").name == "checkpoint-20"
        train(TrainConfig(data_dir=data_dir, out_dir=tmp_path, **{**tiny, "max_steps": 10}))
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["checkpoint-10"]
    (tmp_path / "checkpoints" / "notes.txt").write_text("mine")  # only Trainer's are removed
    with one_thread():
        train(TrainConfig(data_dir=data_dir, out_dir=tmp_path, **{**tiny, "max_steps": 10}))
    assert (tmp_path / "checkpoints" / "notes.txt").read_text() == "mine"


def test_resume_with_no_checkpoint_starts_the_log_afresh(data_dir, tmp_path):
    """A run killed before its first checkpoint, resumed: it starts over, and the lines the
    killed run logged are not kept beside the new ones."""
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "metrics.jsonl").write_text('{"step": 1, "loss": 99.0}\n')
    with one_thread():
        train(TrainConfig(data_dir=data_dir, out_dir=tmp_path, resume=True,
                          **{**TINY, "max_steps": 2, "eval_steps": 2}))
    assert all(r.get("loss") != 99.0 for r in read_metrics(tmp_path))


def test_resume_with_another_model_shape_is_refused_naming_the_option(data_dir, tmp_path):
    """--resume --preset small on a tiny run failed loading the checkpoint, in a traceback,
    after overwriting the run's train_config.json with the new options."""
    tiny = {**TINY, "max_steps": 10, "eval_steps": 10, "data_dir": data_dir,
            "out_dir": tmp_path}
    with one_thread():
        train(TrainConfig(**tiny))
    for changed, says in (({"preset": "small"}, "--preset tiny (now small)"),
                          ({"objective": "pretrain"}, "--objective convert (now pretrain)")):
        with pytest.raises(ValueError, match=re.escape(f"--resume: {tmp_path} was started "
                                                       f"with {says}")):
            train(TrainConfig(**{**tiny, **changed, "max_steps": 20, "resume": True}))
    assert json.loads((tmp_path / "train_config.json").read_text())["preset"] == "tiny"


def test_trimming_the_log_on_resume_replaces_it_whole(tmp_path):
    """The log was rewritten in place: a kill during the rewrite left it cut short. Now a new
    file replaces it (another inode), so a reader sees the old log or the trimmed one."""
    from pinyin_hanzi.train import _trim_metrics

    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(f'{{"step": {n}, "loss": 1.0}}\n' for n in range(1, 9)))
    inode = path.stat().st_ino
    _trim_metrics(path, 4)
    assert [json.loads(r)["step"] for r in path.read_text().splitlines()] == [1, 2, 3, 4]
    assert path.stat().st_ino != inode
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.jsonl"]


def test_a_log_line_cut_short_by_the_kill_does_not_stop_the_resume(tmp_path):
    """A kill (or a full disk) while a line was appended left half a JSON object, and the
    resume failed on it: "Expecting ',' delimiter"."""
    from pinyin_hanzi.train import _trim_metrics

    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1, "loss": 1.0}\n{"step": 2, "loss": 0.5}\n{"step": 3, "lo')
    _trim_metrics(path, 2)
    assert [json.loads(r)["step"] for r in path.read_text().splitlines()] == [1, 2]


def test_a_resumed_adaptation_still_reports_the_starting_score(tmp_path_factory, data_dir,
                                                               tmp_path):
    """`finetune --init ... --resume` printed no "before -> after" line: the starting model's
    score, measured by the interrupted run, is read back from its log."""
    base = shared_run(tmp_path_factory) / "model"
    tiny = {**TINY, "max_steps": 10, "eval_steps": 5, "data_dir": data_dir,
            "out_dir": tmp_path, "init": base}
    tiny.pop("preset")
    with one_thread():
        first = train(TrainConfig(**tiny))
        resumed = train(TrainConfig(**{**tiny, "max_steps": 15, "resume": True}))
    assert resumed["before_char_acc"] == first["before_char_acc"]


# --- pretraining, then conversion from it ----------------------------------------------------


def test_pretrain_then_convert_from_it_with_and_without_a_frozen_encoder(data_dir, tmp_path):
    tiny = dict(TINY, data_dir=data_dir, max_steps=20)
    train(TrainConfig(objective="pretrain", out_dir=tmp_path / "pretrain", **tiny))
    pretrained = tmp_path / "pretrain" / "model"
    assert json.loads((pretrained / "training.json").read_text())["objective"] == "pretrain"
    assert any("loss" in r for r in read_metrics(tmp_path / "pretrain"))

    before = weights(pretrained)
    train(TrainConfig(init=pretrained, method="freeze", out_dir=tmp_path / "frozen", **tiny))
    train(TrainConfig(init=pretrained, out_dir=tmp_path / "full", **tiny))
    frozen, full = weights(tmp_path / "frozen" / "model"), weights(tmp_path / "full" / "model")

    encoder = [k for k in before if k.startswith(("blocks.", "pos_emb."))]
    assert encoder
    for key in encoder:
        assert torch.equal(frozen[key], before[key]), key
    assert not torch.equal(frozen["tok_emb.weight"], before["tok_emb.weight"])  # it trained
    assert any(not torch.equal(full[k], before[k]) for k in encoder)  # freezing is what held


def test_max_minutes_stops_early_and_keeps_a_model(data_dir, tmp_path):
    """A budget smaller than one step: training stops after the first step, evaluates and
    still writes the model directory."""
    with one_thread():
        train(TrainConfig(**{**TINY, "max_steps": 40}, data_dir=data_dir, out_dir=tmp_path,
                          max_minutes=1e-6))
    steps = [json.loads(line)["step"] for line in
             (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert max(steps) == 1
    assert (tmp_path / "model" / "model.safetensors").is_file()


@pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU-only case")
def test_bf16_on_a_cpu_only_machine_trains(data_dir, tmp_path):
    """On a CPU with native bf16 (AMX), precision "auto" picks bf16; Trainer then refused to
    start ("doesn't support bf16/gpu") unless told it is on the CPU."""
    with one_thread():
        train(TrainConfig(**{**TINY, "max_steps": 2, "eval_steps": 2, "precision": "bf16"},
                          data_dir=data_dir, out_dir=tmp_path))
    training = json.loads((tmp_path / "model" / "training.json").read_text())
    assert training["precision"] == "bf16"
    assert (tmp_path / "model" / "model.safetensors").is_file()
