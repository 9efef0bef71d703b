"""Keeps the public benchmarks out of training text.

The rule of bench/data/README.md: the lines a benchmark was drawn from are dropped whole
(People's Daily paragraphs whose 0-based line number is divisible by 50; review lines whose
0-based number in their own file is divisible by 20), and every clause of any other line that
contains a benchmark clause is cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .clean import HANZI_RUN
from .sources import Line

# Shorter hanzi runs of a plain-text exclusion file are common words, not its sentences.
MIN_PLAIN_CLAUSE, MAX_PLAIN_CLAUSE = 4, 32
# source -> the stride of the line numbers a benchmark was drawn from
BENCHMARK_SOURCE_STRIDE = {"pd98": 50, "reviews/neg": 20, "reviews/pos": 20}


@dataclass
class Benchmarks:
    clauses: frozenset[str] = frozenset()
    lengths: tuple[int, ...] = field(default=())

    @classmethod
    def load(cls, paths: list[Path], plain: list[Path] = ()) -> "Benchmarks":
        """paths: `pinyin TAB hanzi` files; plain: text files whose every hanzi run of at
        least MIN_PLAIN_CLAUSE hanzi is kept out (`prepare --exclude` takes both kinds)."""
        clauses = set()
        for path in paths:
            with open(path, encoding="utf-8") as f:
                for number, row in enumerate(f, 1):
                    if not row.strip():
                        continue
                    if "\t" not in row:
                        raise ValueError(f"{path}:{number}: expected 'pinyin<TAB>hanzi'")
                    clauses.add(row.rstrip("\n").split("\t", 1)[1].strip())
        for path in plain:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except UnicodeDecodeError as e:
                raise ValueError(f"{path}: not UTF-8 text (invalid byte at offset {e.start})"
                                 ) from None
            # A run beyond the benchmarks' longest clause is kept out by its start: a clause
            # that holds the whole run holds that too (and the sizes to try stay few).
            clauses.update(run[:MAX_PLAIN_CLAUSE] for run in HANZI_RUN.findall(text)
                           if len(run) >= MIN_PLAIN_CLAUSE)
        return cls(frozenset(clauses), tuple(sorted({len(c) for c in clauses})))

    def is_source_line(self, line: Line) -> bool:
        """True for a line a benchmark was drawn from (dropped whole)."""
        stride = BENCHMARK_SOURCE_STRIDE.get(line.source)
        return bool(self.clauses) and stride is not None and line.number % stride == 0

    def contains_clause(self, text: str) -> bool:
        """True if some hanzi run of `text` contains a benchmark clause."""
        if not self.clauses:
            return False
        for run in HANZI_RUN.findall(text):
            for size in self.lengths:
                if size > len(run):
                    break
                if any(run[i:i + size] in self.clauses for i in range(len(run) - size + 1)):
                    return True
        return False


def benchmark_dir() -> Path:
    """The public benchmarks: the repository's bench/data, or $PINYIN_HANZI_BENCH_DIR."""
    import os

    return Path(os.environ.get("PINYIN_HANZI_BENCH_DIR",
                               Path(__file__).resolve().parents[2] / "bench" / "data"))


def default_benchmark_files() -> list[Path]:
    return sorted(benchmark_dir().glob("*.tsv"))
