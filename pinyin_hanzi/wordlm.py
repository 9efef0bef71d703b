"""A word bigram model over a pinyin-indexed lexicon, and the word-lattice decoder that fuses it
with the Transformer's per-syllable scores.

Why words: 2.5 M training hanzi are too few for the encoder (or a character n-gram) to learn
every word, so 模拟 comes out as 莫尼. A lexicon knows the word even where the corpus rarely says
it. This is how the engines users compare us with work (libime, Rime: lexicon + word n-gram);
here the lexicon proposes words and the encoder, which reads the whole clause, scores them.

* Lexicon: every word of the training text (jieba's segmentation of the training clauses, each
  word with the readings the data pipeline annotated in context) plus the `lexicon` source's
  words (pypinyin's and jieba's word lists, also annotated by the pipeline), keyed by their
  toneless syllables.
* Word model: bigram with Witten-Bell interpolation over an add-alpha unigram; words that are
  only in the word lists have count 0 and live on alpha.
* Decoding (`lattice_search`): left-to-right over syllable positions; an arc is a lexicon word
  or one of the encoder's best hanzi; a path scores the sum of the encoder's log-probs of its
  hanzi, plus `word_weight` times the word model's log-prob, plus `word_bonus` per word, plus
  (optionally) a weighted character n-gram log-prob.

Saved as a compressed .npz of plain arrays (loaded with allow_pickle=False): no pickle.
"""

from __future__ import annotations

import heapq
import math
import os
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .decode import Candidate

FORMAT = "pinyin-hanzi-wordlm/1"
WORDLM_FILE = "wordlm.npz"  # its name in a model directory
BOUNDARY = 0  # word index of the clause start (as a history) and end (as a prediction)
UNKNOWN = -1  # a hanzi the lexicon does not list: scored with the add-alpha floor
MAX_WORD_LEN = 8


class WordLM:
    def __init__(self, words: list[str], counts, readings: list[list[str]], prev, nxt, pair_counts,
                 alpha: float = 0.5):
        """words[0] is the clause boundary (counts[0] = clauses seen); readings[i] lists word
        i's toneless readings (syllables joined by spaces); the bigram (prev[j], nxt[j]) was
        seen pair_counts[j] times."""
        if not (len(words) == len(counts) == len(readings)) or not words:
            raise ValueError("words, counts and readings must be equally long and non-empty")
        n = len(words)
        self.words, self.readings, self.alpha = words, readings, alpha
        counts = np.asarray(counts, dtype=np.int64)
        prev, nxt = np.asarray(prev, dtype=np.int64), np.asarray(nxt, dtype=np.int64)
        pair_counts = np.asarray(pair_counts, dtype=np.int64)
        if len(prev) and (min(prev.min(), nxt.min()) < 0 or max(prev.max(), nxt.max()) >= n):
            raise ValueError("a bigram refers to a word index out of range")
        self.counts, self.prev, self.nxt, self.pair_counts = counts, prev, nxt, pair_counts
        self.index = {w: i for i, w in enumerate(words)}
        self.by_reading: dict[str, list[int]] = defaultdict(list)
        for i, word_readings in enumerate(readings):
            for reading in word_readings:
                self.by_reading[reading].append(i)
        # Plain Python containers: the decoder asks ~10^4 questions per clause, one at a time.
        self.bigrams = dict(zip((prev * n + nxt).tolist(), pair_counts.tolist()))
        # Witten-Bell: c(h) and T(h) over the bigrams kept (so each history still sums to 1).
        self.context = np.bincount(prev, weights=pair_counts, minlength=n).tolist()
        self.types = np.bincount(prev, minlength=n).tolist()
        denominator = counts.sum() + alpha * n
        self.unigram = ((counts + alpha) / denominator).tolist()
        self.floor = alpha / denominator

    @classmethod
    def train(cls, clauses: Iterable[tuple[list[str], list[str]]],
              extra_words: Iterable[tuple[str, str]] = (), prune: int = 1,
              alpha: float = 0.5) -> "WordLM":
        """clauses: (words, readings) of each training clause, in order; extra_words: (word,
        reading) from word lists, which join the lexicon with count 0. Bigrams seen fewer
        than `prune` times are dropped."""
        unigram: Counter = Counter()
        readings: dict[str, dict[str, None]] = defaultdict(dict)  # ordered sets
        pairs: Counter = Counter()
        for words, word_readings in clauses:
            previous = ""
            for word, reading in zip(words, word_readings):
                unigram[word] += 1
                readings[word][reading] = None
                pairs[(previous, word)] += 1
                previous = word
            pairs[(previous, "")] += 1
            unigram[""] += 1
        for word, reading in extra_words:
            if 1 < len(word) <= MAX_WORD_LEN:
                readings[word][reading] = None
        words = [""] + sorted(w for w in readings if w)
        index = {w: i for i, w in enumerate(words)}
        kept = [(index[a], index[b], n) for (a, b), n in pairs.items() if n >= prune]
        prev, nxt, pair_counts = zip(*kept) if kept else ((), (), ())
        return cls(words, [unigram[w] for w in words], [list(readings[w]) for w in words],
                   prev, nxt, pair_counts, alpha)

    def logprob(self, previous: int, word: int) -> float:
        """log P(word | previous word), by index (BOUNDARY as history = clause start, as the
        word = clause end; UNKNOWN = a hanzi the lexicon does not list)."""
        lower = self.floor if word == UNKNOWN else self.unigram[word]
        c_h = self.context[previous] if previous != UNKNOWN else 0
        if not c_h:
            return math.log(lower)
        t_h = self.types[previous]
        count = self.bigrams.get(previous * len(self.words) + word, 0) if word != UNKNOWN else 0
        return math.log((count + t_h * lower) / (c_h + t_h))

    def save(self, path: Path):
        """A compressed .npz of plain arrays (words and readings as newline-joined UTF-8)."""
        order = np.lexsort((self.nxt, self.prev))  # sorted bigrams compress to about half
        arrays = {
            "format": _utf8(FORMAT), "alpha": np.array([self.alpha]),
            "words": _utf8("\n".join(self.words)),
            "readings": _utf8("\n".join("|".join(r) for r in self.readings)),
            "counts": self.counts.astype(np.int64), "prev": self.prev[order].astype(np.int32),
            "next": self.nxt[order].astype(np.int32),
            "pair_counts": self.pair_counts[order].astype(np.int64)}
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> "WordLM":
        try:
            with np.load(path, allow_pickle=False) as data:
                found = bytes(data["format"]).decode()
                if found != FORMAT:
                    raise ValueError(f"format is {found!r}, expected {FORMAT!r}")
                words = bytes(data["words"]).decode("utf-8").split("\n")
                readings = [r.split("|") if r else []
                            for r in bytes(data["readings"]).decode("utf-8").split("\n")]
                return cls(words, data["counts"], readings, data["prev"], data["next"],
                           data["pair_counts"], float(data["alpha"][0]))
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: word model file is missing") from None
        except (OSError, EOFError, UnicodeDecodeError, KeyError, TypeError, ValueError,
                zipfile.BadZipFile) as e:
            raise ValueError(f"{path}: not a valid word model file ({e})") from None


def _utf8(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def training_words(data_dir: Path, sources) -> Iterable[tuple[list[str], list[str]]]:
    """The training split's clauses cut into words by jieba, each word with its annotated
    reading (toneless syllables joined by spaces). Words with an unreadable hanzi are skipped
    by cutting the clause there."""
    import jieba

    from .data.prepare import iter_records

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


def listed_words(data_dir: Path) -> Iterable[tuple[str, str]]:
    """The `lexicon` source's training words with their readings (empty if not prepared)."""
    from .data.prepare import iter_records

    for record in iter_records(data_dir, "train", ("lexicon",)):
        if all(record["pinyin"]) and len(record["text"]) > 1:
            yield record["text"], " ".join(record["pinyin"])


def lattice_search(syllables: list[str], rows: list[np.ndarray],
                   singles: list[tuple[np.ndarray, np.ndarray]], hanzi: list[str],
                   hanzi_id: dict[str, int], lm: WordLM, k: int, beam: int = 16,
                   word_weight: float = 1.0, word_bonus: float = 0.0, char_lm=None,
                   char_weight: float = 0.0) -> list[Candidate]:
    """rows[i]: the encoder's log-probs over all hanzi at syllable i; singles[i]: its best
    allowed (hanzi ids, log-probs), the one-character arcs. A character n-gram (`char_lm`,
    ngram.CharNgram) may score the hanzi too, with `char_weight`. Returns the k best distinct
    clauses, best first."""
    n = len(syllables)
    beam = max(beam, k)
    # hyps[i]: text -> (score, last word index), the best paths covering syllables[:i].
    hyps: list[dict[str, tuple[float, int]]] = [dict() for _ in range(n + 1)]
    hyps[0][""] = (0.0, BOUNDARY)
    for i in range(n):
        if not hyps[i]:
            continue
        arcs = _arcs(i, syllables, rows, singles, hanzi, hanzi_id, lm)
        for text, (score, last) in heapq.nlargest(beam, hyps[i].items(),
                                                  key=lambda kv: kv[1][0]):
            for end, word, word_id, enc in arcs:
                s = score + enc + word_bonus + word_weight * lm.logprob(last, word_id)
                new = text + word
                if char_weight:
                    s += char_weight * sum(char_lm.logprob(new[:len(text) + j], c)
                                           for j, c in enumerate(word))
                known = hyps[end].get(new)
                if known is None or s > known[0]:
                    hyps[end][new] = (s, word_id)
    final = [(s + word_weight * lm.logprob(last, BOUNDARY)
              + (char_weight * char_lm.end_logprob(text) if char_weight else 0.0), text)
             for text, (s, last) in hyps[n].items()]
    final = heapq.nlargest(k, final)
    return [Candidate(text, float(score)) for score, text in final]


def _arcs(i, syllables, rows, singles, hanzi, hanzi_id, lm):
    """Words that can start at syllable i: (end, word, word index, encoder log-prob)."""
    arcs = []
    ids, logps = singles[i]
    for h, lp in zip(ids.tolist(), logps.tolist()):
        char = hanzi[h]
        arcs.append((i + 1, char, lm.index.get(char, UNKNOWN), lp))
    for length in range(2, min(MAX_WORD_LEN, len(syllables) - i) + 1):
        for w in lm.by_reading.get(" ".join(syllables[i:i + length]), ()):
            word = lm.words[w]
            enc = 0.0
            for offset, char in enumerate(word):
                h = hanzi_id.get(char)
                if h is None:
                    break
                enc += float(rows[i + offset][h])
            else:
                if enc > -1e9:
                    arcs.append((i + length, word, w, enc))
    return arcs
