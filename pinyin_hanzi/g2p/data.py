"""G2P training examples: hanzi tokens in, the slot of each polyphone's reading out.

Two kinds of labels:
* corpus clauses, labelled by `prepare` with pypinyin (its phrase dictionary decides most
  polyphones: 银行 yin2 hang2, 行走 xing2 zou3); every polyphonic hanzi is labelled;
* gold marked sentences in the CPP format (one `▁X▁` per line of `.sent`, its reading on the
  same line of `.lb`, ü written `u:`); only the marked hanzi is labelled.
An example is one run of hanzi (punctuation, digits and Latin letters end a run), cut to the
encoder's max_len; a marked hanzi's run is cut to a window around it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data.clean import HANZI_RUN
from ..data.records import Record
from ..vocab import IGNORE, PAD_ID, Vocab
from .readings import ReadingTable

MARK = "\u2581"
Example = tuple[np.ndarray, np.ndarray]


def cpp_reading(label: str) -> str:
    """CPP's notation -> ours: `lu:4` -> `lv4`."""
    return label.replace("u:", "v")


def read_marked(stem: Path) -> list[tuple[str, int, str]]:
    """`stem.sent` + `stem.lb` -> [(sentence without marks, index of the marked hanzi,
    reading)]. Raises ValueError naming the line that is not one marked hanzi."""
    missing = [f"{stem}{ext}" for ext in (".sent", ".lb") if not Path(f"{stem}{ext}").is_file()]
    if missing:  # was Python's "[Errno 2] No such file or directory"
        raise FileNotFoundError(f"no such file: {', '.join(missing)} (marked sentences are "
                                "given by the stem of a .sent/.lb pair, e.g. "
                                "bench/data/cpp/dev)")
    sents = Path(f"{stem}.sent").read_text(encoding="utf-8").splitlines()
    labels = Path(f"{stem}.lb").read_text(encoding="utf-8").splitlines()
    if len(sents) != len(labels):
        raise ValueError(f"{stem}.sent has {len(sents)} lines but {stem}.lb {len(labels)}")
    out = []
    for n, (sent, label) in enumerate(zip(sents, labels), 1):
        at = sent.find(MARK)
        if at < 0 or sent[at + 2:at + 3] != MARK or not label.strip():
            raise ValueError(f"{stem}.sent line {n}: expected one hanzi between two {MARK}")
        out.append((sent[:at] + sent[at + 1] + sent[at + 3:], at, cpp_reading(label.strip())))
    return out


SPLITS = ("train", "dev", "test")


def marked_set(root: Path) -> dict[str, Path]:
    """A directory of marked sentences laid out as g2pL's is (train, dev and test, each a
    .sent/.lb pair) -> {split: stem}. Raises ValueError naming the files it lacks."""
    root = Path(root)
    missing = [f"{split}{ext}" for split in SPLITS for ext in (".sent", ".lb")
               if not (root / f"{split}{ext}").is_file()]
    if missing:
        raise ValueError(f"{root}: not a marked data set (train, dev and test .sent/.lb, as "
                         f"g2pL's): missing {', '.join(missing)}")
    return {split: root / split for split in SPLITS}


def _window(a: int, b: int, at: int, max_len: int) -> tuple[int, int]:
    start = max(a, min(at - max_len // 2, b - max_len))
    return start, min(b, start + max_len)


def run_tokens(text: str, vocab: Vocab) -> np.ndarray:
    return np.array([vocab.hanzi_token(c) for c in text], dtype=np.int32)


def record_examples(record: Record, vocab: Vocab, table: ReadingTable, max_len: int
                    ) -> Iterator[Example]:
    """A prepared clause -> (tokens, slots) per hanzi run that has a polyphone to decide."""
    text, tone3 = record["text"], record["tone3"]
    for match in HANZI_RUN.finditer(text):
        for start in range(match.start(), match.end(), max_len):
            end = min(start + max_len, match.end())
            slots = np.array([table.slot(text[i], tone3[i]) if table.is_polyphone(text[i])
                              and tone3[i] else -1 for i in range(start, end)], dtype=np.int32)
            slots[slots < 0] = IGNORE
            if (slots != IGNORE).any():
                yield run_tokens(text[start:end], vocab), slots


def marked_examples(marked: Iterable[tuple[str, int, str]], vocab: Vocab, table: ReadingTable,
                    max_len: int) -> tuple[list[Example], int]:
    """Gold sentences -> (examples, how many were skipped: the marked hanzi is not a hanzi
    of the vocabulary or the reading is not one of its readings)."""
    examples, skipped = [], 0
    for sent, at, reading in marked:
        slot = table.slot(sent[at], reading)
        run = next((m for m in HANZI_RUN.finditer(sent) if m.start() <= at < m.end()), None)
        if slot < 0 or run is None or sent[at] not in vocab.hanzi_id:
            skipped += 1
            continue
        start, end = _window(run.start(), run.end(), at, max_len)
        slots = np.full(end - start, IGNORE, dtype=np.int32)
        slots[at - start] = slot
        examples.append((run_tokens(sent[start:end], vocab), slots))
    return examples, skipped


class NgramGuard:
    """Drops training text that shares an n-gram of hanzi with held-out sentences (the CPP
    test split): a training run is kept only if none of its n-hanzi windows occurs there."""

    def __init__(self, sentences: Iterable[str], n: int = 10):
        self.n = n
        self.grams = {run[i:i + n] for s in sentences for m in HANZI_RUN.finditer(s)
                      for run in [m.group()] for i in range(len(run) - n + 1)}

    def clean(self, text: str) -> bool:
        n = self.n
        return not any(text[i:i + n] in self.grams for i in range(len(text) - n + 1))

    def split(self, marked: list[tuple[str, int, str]]) -> tuple[list, int]:
        """Marked sentences -> (those kept, how many were dropped). By sentence, whatever
        hanzi is marked: 130 lines of CPP dev are CPP test sentences with another hanzi marked."""
        kept = [m for m in marked if self.clean(m[0])]
        return kept, len(marked) - len(kept)


class G2PDataset(torch.utils.data.Dataset):
    def __init__(self, examples: list[Example]):
        self.examples = examples

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> dict:
        tokens, slots = self.examples[i]
        return {"input_ids": tokens, "labels": slots}


@dataclass
class G2PCollator:
    def __call__(self, items: list[dict]) -> dict:
        B, T = len(items), max(len(it["input_ids"]) for it in items)
        input_ids = torch.full((B, T), PAD_ID, dtype=torch.long)
        labels = torch.full((B, T), IGNORE, dtype=torch.long)
        attention_mask = torch.zeros((B, T), dtype=torch.long)
        for b, it in enumerate(items):
            n = len(it["input_ids"])
            input_ids[b, :n] = torch.from_numpy(it["input_ids"]).long()
            labels[b, :n] = torch.from_numpy(it["labels"]).long()
            attention_mask[b, :n] = 1
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}
