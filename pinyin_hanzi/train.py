"""The one training loop, shared by pretraining, fine-tuning and G2P: Hugging Face Trainer, wired.

Trainer brings AdamW, warmup + cosine, clipping, accumulation, bf16/fp16 autocast, evaluation,
early stopping, exact resume (optimizer, scheduler, RNG, data position) and data parallelism
under torchrun. This module adds what it lacks: our objectives and metrics, a crash-safe
checkpoint picker (checkpoint.py: the newest checkpoint whose files match their sums, else the
one before), a training order drawn from (seed, epoch) so that a resume is exact in every epoch
(`_epoch_seeded`), metrics.jsonl, and the final model directory.

    run_dir/checkpoints/checkpoint-<step>/   Trainer's resumable state (+ COMPLETE: file sums)
    run_dir/metrics.jsonl                    one JSON object per log/eval event
    run_dir/model/                           the best model, in the checkpoint.py contract
    run_dir/train_config.json                this TrainConfig, resolved

`pinyin-hanzi pretrain` / `finetune` / `train-g2p` call `train(TrainConfig(...))`; under
`torchrun --nproc_per_node=N` the same command trains data-parallel and only rank 0 writes.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .adapt import METHODS
from .checkpoint import (last_good_checkpoint, load_model, mark_complete, remove_checkpoints,
                         save_model)
from .data.records import check_sources, sources_hint
from .files import atomic_write_text
from .model import PRESETS, ModelConfig

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

OBJECTIVES = ("pretrain", "convert", "g2p")


@dataclass
class TrainConfig:
    data_dir: Path = Path("runs/data")
    """Output of `pinyin-hanzi prepare`."""
    out_dir: Path = Path("runs/model")
    """Run directory: checkpoints, metrics.jsonl, and the final model in out_dir/model."""
    objective: str = "convert"
    """"pretrain" (mixed hanzi/pinyin masked LM on raw text), "convert" (pinyin -> hanzi) or
    "g2p" (hanzi -> pinyin: an encoder from --init read on hanzi, g2p/)."""
    init: Path | None = None
    """A model directory to start from (e.g. a pretrained one); None trains from scratch."""
    preset: str = "small"
    """Model size when training from scratch: tiny, small or base (model.PRESETS)."""
    sources: tuple[str, ...] = ("pd98", "reviews")
    """Train on clauses of these sources only (prefix match); empty = every source."""
    max_steps: int = 20_000
    batch_size: int = 128
    """Clauses per step per process (before accumulation)."""
    grad_accum: int = 1
    lr: float = 1e-3
    warmup_steps: int = 500
    weight_decay: float = 0.01
    eval_steps: int = 1000
    """Evaluate on the dev split (and checkpoint) every this many steps."""
    eval_examples: int = 2000
    """Dev clauses used for evaluation during training (0 = all)."""
    train_examples: int = 0
    """Use only the first N training examples (0 = all): for data-size curves and tests."""
    patience: int = 5
    """Stop after this many evaluations without a better dev character accuracy (0 = never)."""
    method: str = "full"
    """With --init: "full" trains every weight, "freeze" only the (tied) embeddings/output
    head and final norm, "lora" only low-rank adapters on the blocks (adapt.py), and saves
    only the adapter (run_dir/adapter) instead of a model directory."""
    max_minutes: float = 0
    """Stop after this many minutes of training (0 = no limit); the best model is kept."""
    general_dir: Path | None = None
    """Prepared general data to replay while adapting: its training clauses are mixed in
    (bounds forgetting) and its dev split is scored beside the domain's (shows forgetting)."""
    general_sources: tuple[str, ...] = ("pd98",)
    """Sources of general_dir to replay and score."""
    general_share: float = 0.8
    """Share of the training examples drawn from general_dir (at 0.5 a news model adapted to
    reviews lost 2.3 points on news, at 0.8 0.2: dev/EXPERIMENTS.md)."""
    distill: float = 0.0
    """With --general: weight of a distillation loss on the replayed clauses, KL from the
    starting model's distribution over each syllable's hanzi (adapt.distillation_loss)."""
    interpolate: float = 1.0
    """With --init: keep this share of what training changed and (1 - it) of the starting
    weights (WiSE-FT, a weight-space ensemble; for lora the adapter is scaled). Below 1 it
    trades some of the domain gain for less forgetting (dev/EXPERIMENTS.md)."""
    precision: str = "auto"
    """"auto" (bf16 where the device supports it), "bf16", "fp16" or "fp32"."""
    seed: int = 0
    resume: bool = False
    """Continue from the newest whole checkpoint in out_dir (a damaged one is skipped, logged)."""
    progress: bool = True
    min_hidden: float = 0.15
    """Pretraining: least share of a clause's characters to hide (objectives.py)."""
    gold: Path | None = None
    """G2P: gold marked sentences (the stem of a CPP-format .sent/.lb pair); about `gold_dev`
    of them, spread evenly, are the dev set that picks the best checkpoint, the rest are
    trained on `gold_repeat` times beside the corpus."""
    gold_dev: int = 1000
    gold_repeat: int = 20
    gold_extra: tuple[Path, ...] = ()
    """G2P: more marked sentences to train on (all of them, `gold_extra_repeat` times), e.g.
    the dictionaries' examples (`pinyin-hanzi g2p-dictionary`)."""
    gold_extra_repeat: int = 2
    held_out: tuple[Path, ...] = ()
    """G2P: marked sentences never to learn from (e.g. CPP test): corpus clauses sharing a
    10-hanzi window with them are dropped."""

    def __post_init__(self):
        self.data_dir, self.out_dir = Path(self.data_dir), Path(self.out_dir)
        self.init = Path(self.init) if self.init else None
        self.general_dir = Path(self.general_dir) if self.general_dir else None
        self.sources, self.general_sources = tuple(self.sources), tuple(self.general_sources)
        self.gold = Path(self.gold) if self.gold else None
        self.held_out = tuple(Path(p) for p in self.held_out)
        self.gold_extra = tuple(Path(p) for p in self.gold_extra)
        if self.objective not in OBJECTIVES:
            raise ValueError(f"--objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.preset not in PRESETS:
            raise ValueError(f"--preset must be one of {sorted(PRESETS)}, got {self.preset!r}")
        if self.precision not in ("auto", "bf16", "fp16", "fp32"):
            raise ValueError("--precision must be auto, bf16, fp16 or fp32")
        for name in ("max_steps", "batch_size", "grad_accum", "eval_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1")
        for name in ("warmup_steps", "patience", "train_examples", "eval_examples",
                     "max_minutes"):
            if getattr(self, name) < 0:  # -1 minutes trained one step, then stopped
                raise ValueError(f"--{name.replace('_', '-')} must be >= 0, "
                                 f"got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError("--lr must be > 0")
        if self.method not in METHODS:
            raise ValueError(f"--method must be one of {METHODS}, got {self.method!r}")
        if not 0 <= self.general_share < 1:
            raise ValueError(f"--general-share must be in [0, 1), got {self.general_share}")
        if self.distill < 0:
            raise ValueError(f"--distill must be >= 0, got {self.distill}")
        if self.distill and (self.general_dir is None or self.init is None):
            raise ValueError("--distill keeps the --init model's answers on --general "
                             "clauses: give both")
        if not 0 < self.interpolate <= 1:
            raise ValueError(f"--interpolate must be in (0, 1], got {self.interpolate}")
        if self.interpolate < 1 and self.init is None:
            raise ValueError("--interpolate blends with the starting model: give --init")
        if self.method != "full" and self.init is None:
            raise ValueError(f"--method {self.method} needs --init: it adapts a trained model")
        if self.objective == "g2p" and self.init is None:
            raise ValueError("--objective g2p reads hanzi with a trained encoder: give --init")
        if self.objective == "g2p" and (self.method != "full" or self.general_dir
                                        or self.interpolate < 1):
            raise ValueError("--objective g2p trains its whole model: no --method, --general "
                             "or --interpolate")
        if min(self.gold_dev, self.gold_repeat, self.gold_extra_repeat) < 0:
            raise ValueError("--gold-dev, --gold-repeat and --gold-extra-repeat must be >= 0")


def _precision(name: str) -> dict:
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            name = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        elif torch.backends.mps.is_available():
            name = "fp32"
        else:  # CPU: bf16 pays only with native instructions (avx512_bf16 / AMX)
            name = "bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32"
    return {"bf16": name == "bf16", "fp16": name == "fp16"}


def load_examples(data_dir: Path, split: str, vocab, sources, max_len: int, limit: int = 0,
                  spread_out: bool = False):
    """The split's examples; with `limit`, the first that many, or (spread_out, for dev sets)
    that many taken evenly across the whole split, so that every source is in them."""
    from .data.export_tsv import spread
    from .data.records import iter_records
    from .objectives import clause_examples

    examples = []
    for record in iter_records(data_dir, split, sources):
        examples.extend(clause_examples(record, vocab, max_len))
        if limit and not spread_out and len(examples) >= limit:
            return examples[:limit]
    return spread(examples, limit)


def conversion_metrics(eval_pred) -> dict:
    """Character accuracy and clause (whole-example) accuracy of per-position argmax."""
    import numpy as np

    from .vocab import IGNORE

    preds, labels = eval_pred.predictions, eval_pred.label_ids
    labelled = labels != IGNORE
    right = (preds == labels) & labelled
    clause_right = (right | ~labelled).all(axis=1)
    return {"char_acc": float(right.sum() / max(labelled.sum(), 1)),
            "clause_acc": float(np.mean(clause_right))}


def _argmax(logits, labels):
    return logits.argmax(-1)


def _callbacks(run_dir: Path, max_minutes: float = 0, train_set=None):
    from transformers import TrainerCallback

    class EpochForDraws(TrainerCallback):
        """Tells the training set which pass over it begins (objectives.ExampleDataset's
        draws depend on it); a resumed run begins its pass again from the checkpoint's."""

        def on_epoch_begin(self, args, state, control, **kwargs):
            train_set.epoch = int(state.epoch or 0)

    class RunFiles(TrainerCallback):
        """metrics.jsonl lines and the COMPLETE marker, written by rank 0 only."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_world_process_zero and logs:
                with open(run_dir / "metrics.jsonl", "a", encoding="utf-8") as f:
                    f.write(json.dumps({"step": state.global_step, "time": time.time(),
                                        **logs}) + "\n")

        def on_save(self, args, state, control, **kwargs):
            import torch.distributed as dist

            if dist.is_available() and dist.is_initialized():
                dist.barrier()  # every rank's files (rng_state_<rank>.pth) written, then summed
            if state.is_world_process_zero:
                mark_complete(Path(args.output_dir) / f"checkpoint-{state.global_step}")

    class TimeLimit(TrainerCallback):
        """--max-minutes: evaluate, save and stop once the budget is spent."""

        def on_train_begin(self, args, state, control, **kwargs):
            self.deadline = time.monotonic() + 60 * max_minutes

        def on_step_end(self, args, state, control, **kwargs):
            if time.monotonic() > self.deadline:
                control.should_evaluate = control.should_save = True
                control.should_training_stop = True

    return ([RunFiles()] + ([TimeLimit()] if max_minutes else [])
            + ([EpochForDraws()] if hasattr(train_set, "epoch") else []))


def _trim_metrics(path: Path, step: int):
    """On resume, forget log lines past the checkpoint (step -1: there was none to resume
    from): they will be logged again."""
    rows = [row for row in _logged(path) if row.get("step", 0) <= step]
    if path.is_file():  # atomic: a kill while it was rewritten in place cut the log short
        atomic_write_text(path, "".join(json.dumps(row) + "\n" for row in rows))


def _logged(path: Path) -> list[dict]:
    """metrics.jsonl's rows; a line cut short (the one being appended when the run was
    killed, or the disk filled) is left out: it failed the resume with a JSON error."""
    rows = []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    return rows


RESUME_OPTIONS = ("objective", "init", "preset", "method")
"""What a resumed run must share with the run it continues: the shape of the model and what
is trained (a checkpoint of another shape failed to load, in a traceback)."""


def _check_resumable(run_dir: Path, config: TrainConfig):
    """Refuse to --resume `run_dir` with options it was not started with (train_config.json)."""
    path = run_dir / "train_config.json"
    try:
        started = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # nothing to compare with: Trainer's own checks remain
    now = json.loads(json.dumps(asdict(config), default=str))
    changed = [f"--{name} {started.get(name)} (now {now[name]})" for name in RESUME_OPTIONS
               if not _same_option(name, started.get(name), now[name])]
    if changed:
        raise ValueError(f"--resume: {run_dir} was started with {', '.join(changed)}: give "
                         f"the options it was started with ({path}), or another --out")


def _same_option(name: str, started, now) -> bool:
    if name == "init" and started and now:  # one path, written relative or absolute
        return Path(started).resolve() == Path(now).resolve()
    return started == now


def _logged_before(path: Path) -> dict:
    """The starting model's dev scores as the interrupted run logged them (at step 0), so
    that a resumed run reports its gain too."""
    for row in _logged(path):
        before = {k: v for k, v in row.items() if k.startswith("before_")}
        if before:
            return before
    return {}


def _epoch_seeded(Trainer):
    """Trainer whose training order (length-grouped, as before) is drawn from (seed, epoch)
    alone. Trainer's own sampler drew it from the global generator at each epoch's start, a
    state a run resumed later in that epoch does not have: its order after the first epoch was
    another one (issue 35: resumed at epoch 1.13, loss 1.1565 at step 840 against 1.1743)."""
    import torch
    from transformers import TrainerCallback
    from transformers.trainer_pt_utils import LengthGroupedSampler

    class EpochSeededSampler(LengthGroupedSampler):
        def __init__(self, batch_size: int, lengths: list[int], seed: int):
            super().__init__(batch_size, lengths=lengths)
            self.seed, self.epoch = seed, 0

        def set_epoch(self, epoch: int):  # Trainer calls it before each pass
            self.epoch = int(epoch)

        def __iter__(self):
            self.generator = torch.Generator().manual_seed(self.seed + 1_000_003 * self.epoch)
            return super().__iter__()

    class EpochToSampler(TrainerCallback):
        """Sets the pass from the training state too: Trainer's set_epoch reaches the sampler
        only through the wrappers accelerate's DataLoaderShard.set_epoch looks into."""

        def __init__(self, trainer):
            self.trainer = trainer

        def on_epoch_begin(self, args, state, control, **kwargs):
            if self.trainer.epoch_sampler is not None:
                self.trainer.epoch_sampler.set_epoch(int(state.epoch or 0))

    class EpochSeededTrainer(Trainer):
        epoch_sampler = None

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.add_callback(EpochToSampler(self))

        def _get_train_sampler(self, train_dataset=None):
            sampler = super()._get_train_sampler(train_dataset)
            if type(sampler) is not LengthGroupedSampler:
                return sampler
            seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
            self.epoch_sampler = EpochSeededSampler(sampler.batch_size, sampler.lengths, seed)
            return self.epoch_sampler

    return EpochSeededTrainer


def _distilling_trainer(Trainer):
    """Trainer whose loss adds `distill` x adapt.distillation_loss on the batch's replayed
    clauses (flagged "replay" by the dataset), toward a frozen copy of the starting model."""
    from .adapt import distillation_loss

    class DistillingTrainer(Trainer):
        def __init__(self, *args, teacher, distill: float, **kwargs):
            super().__init__(*args, **kwargs)
            self.teacher, self.distill = teacher.eval().requires_grad_(False), distill

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            replay = inputs.pop("replay", None)
            outputs = model(**inputs)
            loss = outputs["loss"]
            if model.training and replay is not None and replay.any():
                self.teacher.to(inputs["input_ids"].device)
                loss = loss + self.distill * distillation_loss(
                    self.accelerator.unwrap_model(model), self.teacher,
                    inputs["input_ids"][replay], inputs["attention_mask"][replay],
                    inputs["labels"][replay])
            return (loss, outputs) if return_outputs else loss

    return DistillingTrainer


def _replay(config: TrainConfig, vocab, max_len: int, n_domain: int) -> list:
    """General training examples, drawn at random, to make `general_share` of the mix."""
    import numpy as np

    general = load_examples(config.general_dir, "train", vocab, config.general_sources,
                            max_len)
    if not general:
        raise ValueError(f"{config.general_dir}: no training examples for sources "
                         f"{config.general_sources}" + sources_hint(config.general_dir))
    wanted = round(n_domain * config.general_share / (1 - config.general_share))
    picks = np.random.default_rng(config.seed).choice(len(general), wanted,
                                                       replace=wanted > len(general))
    return [general[i] for i in picks]


@dataclass
class Recipe:
    """What an objective brings to the shared loop (the rest is Trainer, wired below)."""

    model: "torch.nn.Module"
    train_set: "torch.utils.data.Dataset"
    eval_set: "torch.utils.data.Dataset | dict"
    """Scored every eval_steps; of a dict of sets, "dev" picks the best checkpoint."""
    collator: "Callable[[list[dict]], dict]"
    save: "Callable[[torch.nn.Module, Path, dict], None]"
    """save(best_model, run_dir, training) writes the final model."""
    trainer_class: type | None = None
    """A Trainer subclass (distillation); None for Trainer itself."""
    extra: dict | None = None
    """More keyword arguments for trainer_class."""


def _warn_unknown_hanzi(examples: list, init: Path, share: float = 0.01):
    """Adapting keeps the starting model's vocabulary: a hanzi it lacks is <unk>, which it
    can never answer. When more than `share` of the text's hanzi are, say so: the dev score
    counted them as errors and nothing told why (a tiny model's 32-hanzi text: 26 unknown)."""
    import numpy as np

    from .vocab import UNK_HANZI

    labels = np.concatenate([label for _, _, label in examples])
    unknown = int((labels == UNK_HANZI).sum())
    if unknown > share * len(labels):
        log.warning("%.0f%% of the training text's hanzi (%d of %d) are not in %s's "
                    "vocabulary: adapting cannot teach them, and each counts as an error. To "
                    "learn them, train on this text from scratch (README: Your own corpus)",
                    100 * unknown / len(labels), unknown, len(labels), init)


def _conversion_recipe(config: TrainConfig) -> Recipe:
    """Pretraining and pinyin -> hanzi conversion (and its adaptation methods)."""
    from .adapt import add_lora, freeze_encoder, save_adapter
    from .model import PinyinHanziModel
    from .objectives import Collator, ExampleDataset
    from .vocab import Vocab

    if config.init is not None:
        model, vocab = load_model(config.init)
        model.train()
    else:
        vocab = Vocab.load(config.data_dir / "vocab.json")
        model_config = ModelConfig(**PRESETS[config.preset], input_size=vocab.input_size,
                                   n_hanzi=len(vocab.hanzi))
        model = PinyinHanziModel(model_config, vocab)
    if config.method == "freeze":
        freeze_encoder(model)
    elif config.method == "lora":
        model = add_lora(model)

    max_len = model.config.max_len
    train_set = ExampleDataset(
        load_examples(config.data_dir, "train", vocab, config.sources, max_len,
                      config.train_examples),
        "pretrain" if config.objective == "pretrain" else "convert", seed=config.seed)
    dev_set = ExampleDataset(
        load_examples(config.data_dir, "dev", vocab, config.sources, max_len,
                      config.eval_examples, spread_out=True), "convert")
    if not len(train_set) or not len(dev_set):
        raise ValueError(f"{config.data_dir}: no train or dev examples for sources "
                         f"{config.sources}" + sources_hint(config.data_dir))
    if config.init is not None:
        _warn_unknown_hanzi(train_set.examples, config.init)
    eval_set = dev_set
    if config.general_dir is not None:
        if config.distill:
            train_set.replay_from = len(train_set)
        train_set.examples += _replay(config, vocab, max_len, len(train_set))
        general_dev = load_examples(config.general_dir, "dev", vocab, config.general_sources,
                                    max_len, config.eval_examples)
        # Two dev sets: metrics become eval_dev_* and eval_general_*; the domain's picks the best.
        eval_set = {"dev": dev_set, "general": ExampleDataset(general_dev, "convert")}

    def save(best, run_dir: Path, training: dict):
        if config.method == "lora":
            save_adapter(best, run_dir / "adapter", config.init)
        else:
            save_model(best, vocab, run_dir / "model", training=training)

    recipe = Recipe(model, train_set, eval_set, Collator(min_hidden=config.min_hidden), save)
    if config.distill:
        from transformers import Trainer

        recipe.trainer_class = _distilling_trainer(Trainer)
        recipe.extra = {"teacher": load_model(config.init)[0], "distill": config.distill}
    return recipe


def train(config: TrainConfig) -> dict:
    """Train as configured; returns the final dev metrics. Writes run_dir as described above."""
    import torch
    from transformers import EarlyStoppingCallback, Trainer, TrainingArguments, set_seed

    from .adapt import interpolate

    set_seed(config.seed)
    run_dir = config.out_dir
    check_sources(config.data_dir, config.sources)
    if config.general_dir is not None:
        check_sources(config.general_dir, config.general_sources, "--general-sources")
    resume_from = last_good_checkpoint(run_dir / "checkpoints") if config.resume else None
    if resume_from is not None:
        _check_resumable(run_dir, config)
    if config.objective == "g2p":
        from .g2p.recipe import g2p_recipe

        recipe = g2p_recipe(config)
    else:
        recipe = _conversion_recipe(config)
    eval_set = recipe.eval_set

    world_zero = int(os.environ.get("RANK", "0")) == 0
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if world_zero:
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / "train_config.json",
                          json.dumps(asdict(config), indent=1, default=str))
    if world_zero and config.resume:
        _trim_metrics(run_dir / "metrics.jsonl",
                      int(resume_from.name.split("-")[1]) if resume_from else -1)
    elif world_zero:
        # A fresh run: an earlier run's checkpoints left here would be what a later --resume
        # of this one picked (the newest step), continuing the other run.
        (run_dir / "metrics.jsonl").unlink(missing_ok=True)
        remove_checkpoints(run_dir / "checkpoints")

    try:
        import tensorboard  # noqa: F401
        report_to = ["tensorboard"]
    except ImportError:
        report_to = []
    args = TrainingArguments(
        output_dir=str(run_dir / "checkpoints"),
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=256,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.lr,
        lr_scheduler_type="cosine",
        warmup_steps=min(config.warmup_steps, config.max_steps // 10 or 1),
        weight_decay=config.weight_decay,
        max_grad_norm=1.0,
        eval_strategy="steps",
        eval_steps=config.eval_steps,
        save_strategy="steps",
        save_steps=config.eval_steps,
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model="dev_char_acc" if isinstance(eval_set, dict) else "char_acc",
        greater_is_better=True,
        logging_steps=max(1, min(100, config.eval_steps // 5)),
        report_to=report_to,
        disable_tqdm=not config.progress,
        seed=config.seed,
        dataloader_num_workers=0,
        dataloader_pin_memory=torch.cuda.is_available(),
        remove_unused_columns=False,
        train_sampling_strategy="group_by_length",
        # Under torchrun on CPUs: gloo (NCCL needs GPUs). Single process: no backend at all.
        ddp_backend="gloo" if distributed and not torch.cuda.is_available() else None,
        # On a CPU-only machine Trainer refuses bf16 unless told it is on the CPU; under
        # torchrun it must be told too, else there is no DDP and the replicas drift.
        use_cpu=not torch.cuda.is_available() and (
            distributed or not torch.backends.mps.is_available()),
        **_precision(config.precision),
    )
    os.environ.setdefault("TENSORBOARD_LOGGING_DIR", str(run_dir / "tensorboard"))
    callbacks = _callbacks(run_dir, config.max_minutes, recipe.train_set)
    if config.patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.patience))
    trainer = _epoch_seeded(recipe.trainer_class or Trainer)(
        model=recipe.model, args=args, train_dataset=recipe.train_set, eval_dataset=eval_set,
        data_collator=recipe.collator,
        compute_metrics=conversion_metrics, preprocess_logits_for_metrics=_argmax,
        callbacks=callbacks, **(recipe.extra or {}),
    )
    # Adapting: the dev score of the starting model, so the gain (or forgetting) is visible.
    before = {}
    if config.init and resume_from is None:
        before = trainer.evaluate(metric_key_prefix="before")
    elif config.init:
        before = _logged_before(run_dir / "metrics.jsonl")
    trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
    if config.interpolate < 1:  # the best model is loaded; what is saved is scored below
        interpolate(trainer.model, config.init, config.interpolate)
    metrics = {**before, **trainer.evaluate()}
    if trainer.is_world_process_zero():
        best = trainer.accelerator.unwrap_model(trainer.model, keep_fp32_wrapper=False)
        recipe.save(best, run_dir, {**asdict(config), "final_dev": metrics,
                                    "best_checkpoint": trainer.state.best_model_checkpoint,
                                    "parameters": best.num_parameters()})
    return metrics
