"""Readers for folders of modern text the user passes as a path (`prepare --corpora DIR`).

Each named source is a folder `DIR/<name>/` of plain UTF-8 `*.txt` files, one post, utterance
or paragraph a line, as the project's modern-text collection holds them (docs/DATA.md lists
each folder's repository, commit and license). Nothing here knows where that collection lies:
the package never reads a fixed path.

A folder's lines keep their file order, so consecutive lines form the documents the
train/dev/test split holds out whole: an episode's dialogue, a dialogue's turns, a news item's
paragraphs, a week of trending topics. LINES_PER_DOC says how many lines make one document.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .sources import Line, SourceError, _decode

# source name -> consecutive lines per document (1: each line is a document).
LINES_PER_DOC = {
    "weibo_rumor_comments": 50,  # posts and comments, grouped by the rumor they discuss
    "weibo_hot_search": 100,  # trending-topic titles in date order
    "zhihu_hot_questions": 50,  # question titles in date order
    "tv_subtitles_dgk": 250,  # about half an episode of one series
    "xinwenlianbo": 20,  # a few news items of one evening
    "lit_essays": 1,  # one essay a line
    "msdocs_zh_cn": 50,  # a few pages of one product's docs
    "wangdoc_javascript": 50,  # a section of the tutorial
    "kdconv": 20,  # about one dialogue
    "crosswoz": 20,  # about one dialogue
}
CORPUS_SOURCES = tuple(LINES_PER_DOC)


def corpus_files(corpora_dir: Path | None, name: str) -> list[Path]:
    """The text files of source `name` under corpora_dir, sorted; a SourceError says what is
    missing."""
    if corpora_dir is None:
        raise SourceError(f"source {name!r} is a folder of text: give its parent folder with "
                          "--corpora DIR (docs/DATA.md)")
    folder = Path(corpora_dir) / name
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise SourceError(f"{folder}: no *.txt files (source {name!r} is read from there)")
    return files


def read_corpus(name: str, corpora_dir: Path | None) -> Iterator[Line]:
    """Every line of DIR/<name>/*.txt, `LINES_PER_DOC[name]` consecutive lines a document."""
    per_doc = LINES_PER_DOC[name]
    for path in corpus_files(corpora_dir, name):
        rows = _decode(path).removesuffix("\n").split("\n")
        for number, row in enumerate(rows):
            yield Line(row.removesuffix("\r"), name, f"{name}/{path.stem}/{number // per_doc}",
                       number)
