"""Training examples and the two objectives, as pure functions of tensors and a generator.

An example is one run of hanzi from a prepared clause: its syllable tokens and its hanzi labels.

* conversion (fine-tuning): every input is the syllable, every position is labelled.
* mixed pretraining on raw text: each clause hides a random share of its characters (drawn
  from [min_hidden, 1]); a hidden character's input becomes its pinyin (or, with probability
  `mask_prob`, <mask>) and it is labelled; the others stay visible hanzi and are not labelled.
  With `pinyin_share` = 0 this is plain masked-LM on hanzi; at a hidden share of 1 it is the
  conversion task, so pretraining flows into fine-tuning without a change of input format.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch

from .data.records import Record, hanzi_runs
from .vocab import IGNORE, MASK_ID, PAD_ID, Vocab


def clause_examples(record: Record, vocab: Vocab, max_len: int, min_len: int = 2
                    ) -> Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """A prepared clause -> (syllable tokens, hanzi tokens, hanzi labels) per hanzi run,
    runs longer than `max_len` cut into consecutive pieces."""
    text, pinyin = record["text"], record["pinyin"]
    for a, b in hanzi_runs(record):
        if b - a < min_len or any(pinyin[i] not in vocab.syllable_id for i in range(a, b)):
            continue
        for start in range(a, b, max_len):
            end = min(start + max_len, b)
            if end - start < min_len:
                continue
            syl = np.array([vocab.syllable_token(pinyin[i]) for i in range(start, end)],
                           dtype=np.int32)
            han = np.array([vocab.hanzi_token(text[i]) for i in range(start, end)],
                           dtype=np.int32)
            lab = np.array([vocab.label(text[i]) for i in range(start, end)], dtype=np.int32)
            yield syl, han, lab


class ExampleDataset(torch.utils.data.Dataset):
    """Examples in memory as numpy arrays (about 40 bytes per character)."""

    def __init__(self, examples: list[tuple[np.ndarray, np.ndarray, np.ndarray]], mode: str,
                 seed: int = 0):
        if mode not in ("convert", "pretrain"):
            raise ValueError(f"unknown objective mode {mode!r}")
        self.examples, self.mode, self.seed = examples, mode, seed
        self.replay_from: int | None = None
        """Examples from this index on are replayed general text (flagged for distillation)."""
        self.epoch = 0
        """The pass over the data (train.py's EpochForDraws sets it): a pretraining example's
        hidden characters are drawn from (seed, epoch, index) alone, so a run resumed from a
        checkpoint draws what the uninterrupted run drew. Drawn from the global generator,
        they were not: the data loader collates one batch ahead, so the generator state a
        checkpoint saves has already served the next batch."""

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> dict:
        syl, han, lab = self.examples[i]
        # "input_ids" is only read for its length (Trainer's length-grouped sampler).
        item = {"input_ids": syl, "hanzi": han, "labels": lab, "mode": self.mode}
        if self.mode == "pretrain":
            item["draw"] = hash((self.seed, self.epoch, i)) & 0x7FFF_FFFF_FFFF_FFFF
        if self.replay_from is not None:
            item["replay"] = i >= self.replay_from
        return item


@dataclass
class Collator:
    """Pads a batch; for "pretrain" items it also draws the hidden positions."""

    min_hidden: float = 0.15
    pinyin_share: float = 0.9
    """Of the hidden characters, the share shown as pinyin; the rest become <mask>."""

    def __call__(self, items: list[dict]) -> dict:
        T = max(len(it["input_ids"]) for it in items)
        B = len(items)
        input_ids = torch.full((B, T), PAD_ID, dtype=torch.long)
        labels = torch.full((B, T), IGNORE, dtype=torch.long)
        attention_mask = torch.zeros((B, T), dtype=torch.long)
        for b, it in enumerate(items):
            n = len(it["input_ids"])
            syl = torch.from_numpy(it["input_ids"]).long()
            lab = torch.from_numpy(it["labels"]).long()
            attention_mask[b, :n] = 1
            if it["mode"] == "convert":
                input_ids[b, :n], labels[b, :n] = syl, lab
                continue
            han = torch.from_numpy(it["hanzi"]).long()
            draws = torch.Generator().manual_seed(it.get("draw", 0))
            share = self.min_hidden + (1 - self.min_hidden) * torch.rand((), generator=draws)
            hidden = torch.rand(n, generator=draws) < share
            if not hidden.any():
                hidden[torch.randint(n, (), generator=draws)] = True
            as_pinyin = torch.rand(n, generator=draws) < self.pinyin_share
            shown = torch.where(as_pinyin, syl, torch.full_like(syl, MASK_ID))
            input_ids[b, :n] = torch.where(hidden, shown, han)
            labels[b, :n] = torch.where(hidden, lab, torch.full_like(lab, IGNORE))
        batch = {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}
        if "replay" in items[0]:
            batch["replay"] = torch.tensor([it["replay"] for it in items])
        return batch
