"""Keep only the most informative entries of a fitted model directory's language models, as
`pinyin-hanzi lm --word-pairs N --ngram-top 2=N,3=N` does when it fits them: a way to fit a
memory budget without fitting again (lm/words.py WordLM.with_pairs, lm/ngram.py
CharNgram.with_top; both rank by Seymore and Rosenfeld's weighted difference). `pinyin-hanzi lm --tune-only` then re-chooses the
decode weights:

    python dev/prune_lms.py runs/ship4/full --word-pairs 2000000 --bigrams 1200000
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pinyin_hanzi.checkpoint import NGRAM_FILE, WORDLM_FILE
from pinyin_hanzi.lm.ngram import CharNgram
from pinyin_hanzi.lm.words import WordLM


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("--word-pairs", type=int, help="word bigrams to keep")
    ap.add_argument("--bigrams", type=int, help="character 2-grams to keep")
    ap.add_argument("--trigrams", type=int, help="character 3-grams to keep")
    args = ap.parse_args()
    if args.word_pairs is not None:
        lm = WordLM.load(args.model / WORDLM_FILE)
        pruned = lm.with_pairs(args.word_pairs)
        pruned.save(args.model / WORDLM_FILE)
        print(f"word bigrams: {len(lm.bigrams):,} -> {len(pruned.bigrams):,}")
    if args.bigrams is not None or args.trigrams is not None:
        lm = pruned = CharNgram.load(args.model / NGRAM_FILE)
        for k, n in ((3, args.trigrams), (2, args.bigrams)):  # the higher order first
            if n is not None:
                pruned = pruned.with_top(n, k)
        pruned.save(args.model / NGRAM_FILE)
        print(f"character n-grams: {[len(t) for t in lm.tables]} -> "
              f"{[len(t) for t in pruned.tables]}")


if __name__ == "__main__":
    main()
