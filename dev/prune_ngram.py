"""Prune a fitted character n-gram further, as if `pinyin-hanzi lm --prune` had been higher: its
highest-order n-grams counted fewer than PRUNE times are dropped (their mass backs off to the
lower orders), the rest is kept as it is. A way to fit a memory budget without fitting again;
`pinyin-hanzi lm --tune-only` then re-chooses the decode weights:

    python dev/prune_ngram.py runs/ship2/full/ngram.npz 10
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from pinyin_hanzi.lm.ngram import CharNgram


def prune(lm: CharNgram, least: int) -> CharNgram:
    keys, counts = [], []
    for k in range(1, lm.order + 1):
        ids, n = lm.grams(k)
        key = np.zeros(len(n), dtype=np.int64)
        for column in range(k):
            key = key * lm.base + ids[:, column]
        keep = n >= least if k == lm.order else np.ones(len(n), dtype=bool)
        keys.append(key[keep])
        counts.append(np.asarray(n)[keep].astype(np.int64))
    return CharNgram._from_keys(lm.order, lm.chars, keys, counts)


def main(path: Path, least: int):
    lm = CharNgram.load(path)
    pruned = prune(lm, least)
    pruned.save(path)
    print(f"{path}: {len(lm):,} -> {len(pruned):,} n-grams ({lm.order}-grams seen fewer than "
          f"{least} times dropped)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), int(sys.argv[2]))
