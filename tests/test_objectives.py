"""Tests for pinyin_hanzi.objectives: the pretraining draws depend on (seed, pass, example)
alone, so a resumed run hides what the uninterrupted run hid (test_train.py kills and resumes
a pretraining run end to end)."""

import numpy as np
import torch

from pinyin_hanzi.objectives import Collator, ExampleDataset
from pinyin_hanzi.vocab import IGNORE, MASK_ID

N = 24
SYL = np.arange(100, 100 + N, dtype=np.int32)  # syllable tokens
HAN = np.arange(500, 500 + N, dtype=np.int32)  # hanzi tokens (the visible form)
LAB = np.arange(N, dtype=np.int32)


def dataset(seed=0, examples=8):
    return ExampleDataset([(SYL, HAN, LAB)] * examples, "pretrain", seed=seed)


def hidden(batch) -> list[list[bool]]:
    return (batch["labels"] != IGNORE).tolist()


def test_what_is_hidden_is_labelled_and_shown_as_pinyin_or_mask():
    batch = Collator()([dataset()[0]])
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    for i in range(N):
        if labels[i] == IGNORE:
            assert ids[i] == HAN[i]
        else:
            assert labels[i] == LAB[i] and ids[i] in (SYL[i], MASK_ID)
    assert (labels != IGNORE).any()


def test_the_draws_depend_on_seed_pass_and_example_only():
    data, collate = dataset(), Collator()
    torch.manual_seed(1)
    first = hidden(collate([data[i] for i in range(8)]))
    torch.manual_seed(2)  # the global generator plays no part
    assert hidden(collate([data[i] for i in range(8)])) == first
    assert hidden(collate([data[i] for i in (3, 0)])) == [first[3], first[0]]
    assert len({tuple(h) for h in first}) > 1  # each example its own draw
    data.epoch = 1
    assert hidden(collate([data[i] for i in range(8)])) != first  # a new pass, new draws
    assert hidden(collate([dataset(seed=1)[i] for i in range(8)])) != first
