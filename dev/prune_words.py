"""Keep only a fitted word model's N most informative bigrams, as if `pinyin-hanzi lm
--word-pairs N` had been given (lm/words.py, WordLM.with_pairs). A way to fit a memory budget
without fitting again; `pinyin-hanzi lm --tune-only` then re-chooses the decode weights:

    python dev/prune_words.py runs/ship4/full/wordlm.npz 2000000
"""

from __future__ import annotations

import sys
from pathlib import Path

from pinyin_hanzi.lm.words import WordLM


def main(path: Path, pairs: int):
    lm = WordLM.load(path)
    pruned = lm.with_pairs(pairs)
    pruned.save(path)
    print(f"{path}: {len(lm.bigrams):,} -> {len(pruned.bigrams):,} word bigrams")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), int(sys.argv[2]))
