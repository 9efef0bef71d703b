"""The training text of the language models, read from a prepared data directory's training
split (data/prepare.py): its hanzi clauses, its words as jieba cuts them with their annotated
readings, the lexicon source's listed words, and (syllable, hanzi) pair counts.

`weights` ({source: n}, a source matching by prefix as in `--sources`) counts each clause of a
source n times: the big modern sources (news, Weibo) otherwise drown the small technical and
legal ones in the counts, and with them the words those users type."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..data.records import hanzi_runs, iter_records


def source_weight(source: str, weights: Mapping[str, int] | None) -> int:
    """How many times a record of `source` (e.g. "dictionary/words") is counted: the weight
    of the longest name in `weights` it starts with, else 1."""
    names = [name for name in weights or () if source.startswith(name)]
    return weights[max(names, key=len)] if names else 1


def check_weights(weights: Mapping[str, int], sources) -> None:
    """Weights are whole repeat counts >= 1, each for a source trained on."""
    for name, n in weights.items():
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"source weight {name}={n}: a whole number of times >= 1")
        if sources and not any(name.startswith(s) or s.startswith(name) for s in sources):
            raise ValueError(f"source weight for {name!r}, which is not among the sources "
                             f"({', '.join(sources)})")


def training_clauses(data_dir: Path, sources, weights: Mapping[str, int] | None = None
                     ) -> Iterable[str]:
    """The training split's hanzi runs (what the character n-gram counts), each repeated
    as its source's weight says."""
    for record in iter_records(data_dir, "train", sources):
        runs = [record["text"][a:b] for a, b in hanzi_runs(record)]
        for _ in range(source_weight(record["source"], weights)):
            yield from runs


def training_words(data_dir: Path, sources, weights: Mapping[str, int] | None = None
                   ) -> Iterable[tuple[list[str], list[str]]]:
    """The training split's clauses cut into words by jieba, each word with its annotated
    reading (toneless syllables joined by spaces), repeated as its source's weight says.
    Words with an unreadable hanzi are skipped by cutting the clause there."""
    import jieba

    jieba.setLogLevel(60)
    for record in iter_records(data_dir, "train", sources):
        pieces = list(readable_words(record, jieba.lcut))  # cut once, however often counted
        for _ in range(source_weight(record["source"], weights)):
            yield from pieces


def readable_words(record, cut) -> Iterable[tuple[list[str], list[str]]]:
    """One record's (words, readings) pieces as `cut` (jieba.lcut) splits its text."""
    text, pinyin = record["text"], record["pinyin"]
    words, readings, start = [], [], 0
    for word in cut(text, HMM=False):
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
