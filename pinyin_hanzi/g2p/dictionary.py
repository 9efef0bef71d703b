"""Gold readings in context from dictionaries: marked sentences (the CPP format of data.py)
for the polyphones, from jionlp's files (the `dictionary` source's wheel).

* The character dictionary gives, under each reading of a hanzi, example words and sentences
  with `~` for the hanzi: `行 ... [háng] 银~。同~。 ... [xíng] 步~。人~道。` -> 银▁行▁ hang2,
  步▁行▁ xing2. Cross-references (见〖道行〗) and notes in parentheses are left out.
* The phrase dictionary gives a toned reading per character of 55 k phrases: each polyphone
  of a phrase is one example (一 and 不 are left out: the phrases spell their sandhi tones).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

from ..data.clean import HANZI_RUN
from ..data.registry_sources import JIONLP, _zipped_text, archive
from ..pinyin import SYLLABLES
from .data import MARK
from .readings import dictionary_readings

_READING = re.compile(r"\[([^\]]*)\]")
_NOTE = re.compile(r"（[^）]*）|\([^)]*\)|〔[^〕]*〕")
_PIECE = re.compile(r"[。；：，、？！?!;:,\s]|\d+[.．、]|[a-z]）")
_SKIP = ("见〖", "旧读", "又读", "也读", "读音")
CITATION_ONLY = set("一不")
MAX_PIECE = 24


def _tone3(marked: str) -> str | None:
    from pypinyin.contrib.tone_convert import to_tone3

    reading = to_tone3(marked.strip().lower(), neutral_tone_with_five=True)
    return reading if reading[:-1] in SYLLABLES and reading[-1:] in "12345" else None


def char_examples(char: str, body: str) -> Iterator[tuple[str, int, str]]:
    """A character entry's definition text -> (example, index of the hanzi, reading)."""
    parts = _READING.split(body)
    for marked, text in zip(parts[1::2], parts[2::2]):
        reading = _tone3(marked)
        if reading is None:
            continue
        for piece in _PIECE.split(_NOTE.sub("", text)):
            if "~" not in piece or any(s in piece for s in _SKIP) or len(piece) > MAX_PIECE:
                continue
            example = piece.replace("~", char)
            if "".join(m.group() for m in HANZI_RUN.finditer(example)) != example:
                continue  # only whole runs of hanzi: a marked hanzi inside a clean clause
            for at, c in enumerate(piece):
                if c == "~" and len(example) > 1:
                    yield example, at, reading


def phrase_examples(phrase: str, readings: list[str]) -> Iterator[tuple[str, int, str]]:
    if len(readings) != len(phrase):
        return
    for at, (c, marked) in enumerate(zip(phrase, readings)):
        if c in CITATION_ONLY or len(dictionary_readings(c)) < 2:
            continue
        reading = _tone3(marked)
        if reading is not None:
            yield phrase, at, reading


def dictionary_gold(cache_dir: Path) -> dict[str, list[tuple[str, int, str]]]:
    """{"chars": [...], "phrases": [...]}: marked examples of the polyphones of both files."""
    with zipfile.ZipFile(archive(Path(cache_dir), JIONLP)) as wheel:
        chars = _zipped_text(wheel, "jionlp/dictionary/chinese_char_dictionary.zip")
        phrases = _zipped_text(wheel, "jionlp/dictionary/pinyin_phrase.zip")
    out: dict[str, list] = {"chars": [], "phrases": []}
    for row in chars.splitlines():
        fields = row.split("\t")
        if len(fields) >= 8 and len(_READING.findall(fields[7])) >= 2:
            out["chars"] += char_examples(fields[0], fields[7])
    for row in phrases.splitlines():
        phrase, _, readings = row.partition("\t")
        out["phrases"] += phrase_examples(phrase, readings.split("/"))
    return out


def write_marked(examples: list[tuple[str, int, str]], stem: Path) -> int:
    """Write examples as stem.sent / stem.lb (CPP's format, read back by data.read_marked)."""
    from ..files import atomic_write_text

    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(f"{stem}.sent"), "".join(
        f"{s[:at]}{MARK}{s[at]}{MARK}{s[at + 1:]}\n" for s, at, _ in examples))
    atomic_write_text(Path(f"{stem}.lb"), "".join(f"{r}\n" for _, _, r in examples))
    return len(examples)
