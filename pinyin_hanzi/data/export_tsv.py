"""Write one split of prepared data as a `pinyin TAB hanzi` file, the benchmarks' format.

Each maximal hanzi run of 4 to 32 characters becomes one line, as in bench/data, so a
held-out split (or one source of it) is scored by the same `pinyin-hanzi evaluate`.

    python -m pinyin_hanzi.data.export_tsv DATA_DIR SPLIT OUT.tsv [SOURCE ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

from .records import hanzi_runs, iter_records


def clause_pairs(data_dir: Path, split: str, sources=None, min_len: int = 4,
                 max_len: int = 32) -> list[tuple[list[str], str]]:
    """(syllables, hanzi) of every distinct clause of `min_len` to `max_len` hanzi, in corpus
    order."""
    seen, pairs = set(), []
    for record in iter_records(data_dir, split, sources):
        for a, b in hanzi_runs(record):
            clause, syllables = record["text"][a:b], record["pinyin"][a:b]
            if min_len <= len(clause) <= max_len and clause not in seen and all(syllables):
                seen.add(clause)
                pairs.append((syllables, clause))
    return pairs


def spread(items: list, limit: int) -> list:
    """At most `limit` items taken evenly across the list (not just its first documents)."""
    if not limit or len(items) <= limit:
        return items
    return [items[i * len(items) // limit] for i in range(limit)]


def export_tsv(data_dir: Path, split: str, out: Path, sources=None, min_len: int = 4,
               max_len: int = 32, limit: int = 0) -> int:
    """Returns the number of lines written (distinct clauses in corpus order; with `limit`,
    that many spread evenly over the split)."""
    pairs = spread(clause_pairs(data_dir, split, sources, min_len, max_len), limit)
    Path(out).write_text("".join(f"{' '.join(s)}\t{c}\n" for s, c in pairs), encoding="utf-8")
    return len(pairs)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    n = export_tsv(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4:] or None)
    print(f"wrote {n} clauses to {sys.argv[3]}")
