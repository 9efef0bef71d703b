"""The prepared data's one record type, and the readers every consumer (training, the
language models, the exported TSVs) uses.

A split is a directory of `part-*.jsonl` shards (prepare.py writes them), one `Record` per
line: a clause of normalised text, one toneless syllable per character (None where the
character has no reading: punctuation, digits, Latin letters), the source it came from and the
document it belongs to (what the split is drawn by).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypedDict

from .clean import HANZI_RUN


class Record(TypedDict):
    text: str
    pinyin: list[str | None]
    tone3: list[str | None]  # the same readings with tone digits (zhong1), for G2P
    source: str
    doc: str


def iter_records(data_dir: Path, split: str, sources: Iterable[str] | None = None
                 ) -> Iterator[Record]:
    """Stream the clause records of one split, optionally only from some sources
    (a source matches by prefix: "reviews" selects reviews/neg and reviews/pos)."""
    paths = sorted((Path(data_dir) / split).glob("part-*.jsonl"))
    if not paths:
        raise FileNotFoundError(f"{data_dir}/{split}: no shards; run `pinyin-hanzi prepare`")
    wanted = tuple(sources) if sources else None
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for row in f:
                record = json.loads(row)
                if wanted is None or record["source"].startswith(wanted):
                    yield record


def hanzi_runs(record: Record) -> Iterator[tuple[int, int]]:
    """(start, end) of each maximal run of hanzi in the record's text: the clauses the models
    are trained and scored on."""
    for match in HANZI_RUN.finditer(record["text"]):
        yield match.span()
