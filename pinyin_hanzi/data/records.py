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
    if not paths and (Path(data_dir) / split).is_dir():  # prepared, but nothing fell there
        raise FileNotFoundError(f"{data_dir}/{split}: empty, prepare put no clause in it: "
                                "give it more text, or a larger --dev-fraction / "
                                "--test-fraction")
    if not paths and (Path(data_dir) / "data" / "manifest.json").is_file():
        raise FileNotFoundError(f"{data_dir}/{split}: no shards; a run of `finetune --text`? "
                                f"its prepared data is {Path(data_dir) / 'data'}")
    if not paths:
        raise FileNotFoundError(f"{data_dir}/{split}: no shards; run `pinyin-hanzi prepare`")
    wanted = tuple(sources) if sources else None
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for row in f:
                record = json.loads(row)
                if wanted is None or record["source"].startswith(wanted):
                    yield record


def data_sources(data_dir: Path) -> list[str]:
    """The sources prepared data holds (its manifest's), to name when a --sources choice
    finds none of them; [] when there is no manifest."""
    try:
        manifest = json.loads((Path(data_dir) / "manifest.json").read_text(encoding="utf-8"))
        return sorted(manifest["counts"])
    except (OSError, ValueError, KeyError, TypeError):
        return []


def check_sources(data_dir: Path, sources: Iterable[str], option: str = "--sources"):
    """Each name of `sources` must select some source of the data (by prefix, as
    iter_records reads them): a misspelt one among others was left out, silently."""
    held = data_sources(data_dir)
    unknown = [name for name in sources if held and not any(s.startswith(name) for s in held)]
    if unknown:
        raise ValueError(f"{option}: {', '.join(map(repr, unknown))} not in {data_dir}"
                         + sources_hint(data_dir))


def sources_hint(data_dir: Path) -> str:
    """'; it holds user/a.txt, user/b.txt (--sources '' takes them all)', or ''."""
    held = data_sources(data_dir)
    if not held:
        return ""
    shown = ", ".join(held[:8]) + (f" and {len(held) - 8} more" if len(held) > 8 else "")
    return f"; it holds {shown} (--sources '' takes them all)"


def hanzi_runs(record: Record) -> Iterator[tuple[int, int]]:
    """(start, end) of each maximal run of hanzi in the record's text: the clauses the models
    are trained and scored on."""
    for match in HANZI_RUN.finditer(record["text"]):
        yield match.span()
