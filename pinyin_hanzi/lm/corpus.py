"""The training text of the language models, read from a prepared data directory's training
split (data/prepare.py): its hanzi clauses, its words as jieba cuts them with their annotated
readings, the lexicon source's listed words, and (syllable, hanzi) pair counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from ..data.records import hanzi_runs, iter_records


def training_clauses(data_dir: Path, sources) -> Iterable[str]:
    """The training split's hanzi runs (what the character n-gram counts)."""
    for record in iter_records(data_dir, "train", sources):
        yield from (record["text"][a:b] for a, b in hanzi_runs(record))


def training_words(data_dir: Path, sources) -> Iterable[tuple[list[str], list[str]]]:
    """The training split's clauses cut into words by jieba, each word with its annotated
    reading (toneless syllables joined by spaces). Words with an unreadable hanzi are skipped
    by cutting the clause there."""
    import jieba

    jieba.setLogLevel(60)
    for record in iter_records(data_dir, "train", sources):
        text, pinyin = record["text"], record["pinyin"]
        words, readings, start = [], [], 0
        for word in jieba.lcut(text, HMM=False):
            syllables = pinyin[start:start + len(word)]
            start += len(word)
            if any(s is None for s in syllables):
                if words:
                    yield words, readings
                words, readings = [], []
                continue
            words.append(word)
            readings.append(" ".join(syllables))
        if words:
            yield words, readings


def listed_words(data_dir: Path, splits: tuple[str, ...] = ("train",)
                 ) -> Iterable[tuple[str, str]]:
    """The `lexicon` source's words of these splits with their readings (empty if not
    prepared). A dictionary is no evaluation text: its dev and test words may be listed
    too (`pinyin-hanzi lm --lexicon-splits train,dev,test`)."""
    for split in splits:
        for record in iter_records(data_dir, split, ("lexicon",)):
            if all(record["pinyin"]) and len(record["text"]) > 1:
                yield record["text"], " ".join(record["pinyin"])


def pair_counts(data_dir: Path, sources) -> Counter:
    """(syllable, hanzi) -> how often the training split reads the hanzi so."""
    pairs: Counter = Counter()
    for record in iter_records(data_dir, "train", sources):
        for char, syllable in zip(record["text"], record["pinyin"]):
            if syllable is not None:
                pairs[(syllable, char)] += 1
    return pairs
