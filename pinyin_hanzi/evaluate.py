"""Scoring a converter on `pinyin TAB hanzi` files, as bench/data/README.md defines it.

* character accuracy = 1 - errors / gold characters; errors are position-wise when the output
  has the gold length, otherwise the Levenshtein distance;
* clause top-1 = share converted exactly; top-k = gold among the first k distinct candidates;
* accuracy by clause length, and the most frequent (gold -> output) character confusions;
* `paired_comparison`: two engines' outputs on the same clauses, the difference of their
  character accuracy and clause top-1 with 95 % paired-bootstrap intervals, so a lead of a
  few clauses can be told from noise.

`evaluate(convert_batch, path)` takes any function from a list of pinyin strings to candidate
lists, so the Transformer and the n-gram baseline are scored by the same code.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

LENGTH_BUCKETS = ((1, 4), (5, 8), (9, 16), (17, 32), (33, 10**9))
VOWELLESS = frozenset({"m", "n", "ng", "hm", "hng", "r"})


def read_tsv(path: Path) -> list[tuple[str, str]]:
    """Lines `pinyin TAB hanzi`; blank lines skipped; anything else is an error naming the line."""
    return [(pinyin, hanzi) for _, pinyin, hanzi in _numbered_rows(path)]


def _numbered_rows(path: Path) -> list[tuple[int, str, str]]:
    """(line number, pinyin, hanzi) of each example line of a `pinyin TAB hanzi` file."""
    rows = []
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # editors on Windows write a BOM
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{path}: a folder; give its .tsv files") from None
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 (invalid byte at offset {e.start})") from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise ValueError(f"{path}:{number}: expected 'pinyin<TAB>hanzi', got {line[:60]!r}")
        pinyin, hanzi = parts[0].strip(), parts[1].strip()
        syllables = _syllable_count(pinyin)
        if syllables is not None and syllables != len(hanzi):  # could never be right
            raise ValueError(f"{path}:{number}: the pinyin is {syllables} syllable(s), the "
                             f"hanzi {len(hanzi)} characters; one hanzi per syllable expected "
                             f"(syllables between spaces): {line[:60]!r}")
        rows.append((number, pinyin, hanzi))
    if not rows:
        raise ValueError(f"{path}: no examples")
    return rows


def _syllable_count(pinyin: str) -> int | None:
    """How many hanzi the converter answers for `pinyin` when it is whole pinyin (its best
    split's syllables: `ni hao`, `nihao` 2); None when that is not fixed by the text: what
    does not parse whole (`zgrm`, `zhongg`), and the vowel-less syllables, which may be read
    as abbreviations (`nhm` is 你好吗)."""
    from .segment import segment

    try:
        syllables = segment(pinyin).syllables
    except ValueError:
        return None
    if VOWELLESS.intersection(syllables):
        return None
    return len(syllables)


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def char_errors(output: str, gold: str) -> int:
    if len(output) == len(gold):
        return sum(o != g for o, g in zip(output, gold))
    return levenshtein(output, gold)


def evaluate(convert_batch: Callable[[list[str]], list[list]], path: Path, top_k: int = 5,
             batch_size: int = 256, n_confusions: int = 20, keep_best: bool = False) -> dict:
    """Run `convert_batch` over the file and return every metric as plain JSON data
    (keep_best: also "best", the first candidate of each clause, "" for none)."""
    numbered = _numbered_rows(path)
    rows = [(pinyin, hanzi) for _, pinyin, hanzi in numbered]
    errors = gold_chars = top1 = topk = 0
    by_len: dict[str, Counter] = {}
    confusions: Counter = Counter()
    bests = []
    started = time.perf_counter()
    for start in range(0, len(rows), batch_size):
        chunk = rows[start:start + batch_size]
        try:
            outputs = convert_batch([pinyin for pinyin, _ in chunk])
        except ValueError:
            _raise_naming_the_line(convert_batch, path, numbered[start:start + batch_size])
        for (pinyin, gold), cands in zip(chunk, outputs):
            texts = [c.text for c in cands]
            best = texts[0] if texts else ""
            bests.append(best)
            e = char_errors(best, gold)
            errors += e
            gold_chars += len(gold)
            top1 += best == gold
            topk += gold in texts[:top_k]
            if len(best) == len(gold):
                confusions.update((g, o) for g, o in zip(gold, best) if g != o)
            bucket = next(f"{a}-{b}" if b < 10**9 else f"{a}+" for a, b in LENGTH_BUCKETS
                          if a <= len(gold) <= b)
            c = by_len.setdefault(bucket, Counter())
            c["clauses"] += 1
            c["chars"] += len(gold)
            c["errors"] += e
            c["top1"] += best == gold
    seconds = time.perf_counter() - started
    return ({"best": bests} if keep_best else {}) | {
        "file": str(path),
        "clauses": len(rows),
        "char_acc": 1 - errors / gold_chars,
        "top1": top1 / len(rows),
        f"top{top_k}": topk / len(rows),
        "by_length": {b: {"clauses": c["clauses"], "char_acc": 1 - c["errors"] / c["chars"],
                          "top1": c["top1"] / c["clauses"]} for b, c in by_len.items()},
        "confusions": [[g, o, n] for (g, o), n in confusions.most_common(n_confusions)],
        "seconds": seconds,
        "clauses_per_second": len(rows) / seconds if seconds else None,
    }


def _raise_naming_the_line(convert_batch, path: Path, numbered: list[tuple[int, str, str]]):
    """A batch was refused: convert its lines one at a time to say which line, and why (the
    converter's message alone named neither file nor line)."""
    for number, pinyin, _ in numbered:
        try:
            convert_batch([pinyin])
        except ValueError as e:
            raise ValueError(f"{path}:{number}: {pinyin[:60]!r}: {e}") from None
    raise ValueError(f"{path}: refused a batch of lines {numbered[0][0]}-{numbered[-1][0]}, "
                     "but each line alone converts")


BOOTSTRAP_CHUNK = 100  # resamples drawn at once (each one index per clause)


def paired_comparison(gold: list[str], a: list[str], b: list[str], resamples: int = 2000,
                      seed: int = 0) -> dict:
    """How far engine `a`'s first candidates are ahead of `b`'s on the same gold clauses: the
    difference (a - b) of character accuracy and of clause top-1, each with the 2.5th and
    97.5th percentiles of that difference over `resamples` bootstrap draws of the clauses (a
    clause's characters are drawn together), and how many clauses only one gets right."""
    if not (len(gold) == len(a) == len(b)) or not gold:
        raise ValueError(f"{len(gold)} gold clauses, {len(a)} and {len(b)} outputs")
    chars = np.array([len(g) for g in gold])
    errors = [np.array([char_errors(x, g) for x, g in zip(out, gold)]) for out in (a, b)]
    right = [np.array([x == g for x, g in zip(out, gold)]) for out in (a, b)]
    rng = np.random.default_rng(seed)
    char_diffs, top1_diffs = [], []
    for done in range(0, resamples, BOOTSTRAP_CHUNK):
        draw = rng.integers(0, len(gold), (min(BOOTSTRAP_CHUNK, resamples - done), len(gold)))
        char_diffs.append((errors[1][draw].sum(1) - errors[0][draw].sum(1))
                          / chars[draw].sum(1))
        top1_diffs.append((right[0][draw].sum(1) - right[1][draw].sum(1)) / len(gold))

    def interval(diffs):
        return [float(x) for x in np.percentile(np.concatenate(diffs), [2.5, 97.5])]

    return {"clauses": len(gold),
            "char_acc": float((errors[1].sum() - errors[0].sum()) / chars.sum()),
            "char_acc_95": interval(char_diffs),
            "top1": float((right[0].sum() - right[1].sum()) / len(gold)),
            "top1_95": interval(top1_diffs),
            "only_a": int((right[0] & ~right[1]).sum()),
            "only_b": int((right[1] & ~right[0]).sum())}
