"""Write one split of prepared data as a `pinyin TAB hanzi` file, the benchmarks' format.

Each maximal hanzi run of 4 to 32 characters becomes one line, as in ../shared/bench, so a
held-out split (or one source of it) is scored by the same `pinyin-hanzi evaluate`.

    python -m pinyin_hanzi.data.export_tsv DATA_DIR SPLIT OUT.tsv [SOURCE ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

from .clean import HANZI_RUN
from .prepare import iter_records


def export_tsv(data_dir: Path, split: str, out: Path, sources=None, min_len: int = 4,
               max_len: int = 32, limit: int = 0) -> int:
    """Returns the number of lines written (distinct clauses, in corpus order)."""
    seen, lines = set(), []
    for record in iter_records(data_dir, split, sources):
        for match in HANZI_RUN.finditer(record["text"]):
            clause = match.group()
            syllables = record["pinyin"][match.start():match.end()]
            if min_len <= len(clause) <= max_len and clause not in seen and all(syllables):
                seen.add(clause)
                lines.append(f"{' '.join(syllables)}\t{clause}\n")
        if limit and len(lines) >= limit:
            break
    lines = lines[:limit] if limit else lines
    Path(out).write_text("".join(lines), encoding="utf-8")
    return len(lines)


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    n = export_tsv(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4:] or None)
    print(f"wrote {n} clauses to {sys.argv[3]}")
