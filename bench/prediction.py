"""Next-word prediction after a commit (联想): is the word the user types next among those offered?

    python bench/prediction.py [--model DIR] [--clauses 500] [--seed 0] [--no-write]

Each clause of 4+ hanzi of a file is cut at one of its inner word boundaries (jieba's words, a
seeded choice, as bench/context.py cuts); the text before the cut is what was committed, and
the jieba word after it is what comes next. Scored, in % of cuts:
- word @1 / @5: the next word is the first / among the five offered;
- first hanzi @1 / @5: its first character is the first character of the first / of one of
  the five offered (what a prediction row that also offers single hanzi would get right);
- offered: cuts with any prediction at all.
Predictors: `Session.predictions` (the word model's most frequent followers of the last word
committed: lm/words.WordLM.next_words); the five most frequent words of the word model, the
same whatever was committed (the floor); and the encoder reading the committed hanzi with a
<mask> after them (the articles' model that sees hanzi as well as pinyin, pretrained to
restore masked characters), for the first hanzi only: it predicts characters, not words.
Files: those of bench/context.py. The table goes to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from context import files  # noqa: E402
from report import command, git_revision, machine, write_section  # noqa: E402

from pinyin_hanzi.runtime.converter import DEFAULT_MODEL, Converter  # noqa: E402

CONTEXT = 31  # committed hanzi the encoder reads (its window is 32 with the mask)


def cuts(path: Path, clauses: int, seed: int) -> list[tuple[str, str]]:
    """(committed text, next word) per clause of 4+ hanzi with an inner word boundary."""
    import random

    import jieba

    jieba.setLogLevel(60)
    rng, out = random.Random(seed), []
    for line in path.open(encoding="utf-8"):
        hanzi = line.rstrip("\n").split("\t")[1]
        words = jieba.lcut(hanzi, HMM=False)
        if len(hanzi) < 4 or len(words) < 2:
            continue
        j = rng.randrange(1, len(words))
        out.append(("".join(words[:j]), words[j]))
        if len(out) == clauses:
            break
    return out


class MaskedNext:
    """The encoder's guess at the character after `text`: hanzi in, <mask> last."""

    def __init__(self, model_dir: Path):
        import torch

        from pinyin_hanzi.checkpoint import load_model

        self.torch = torch
        self.model, self.vocab = load_model(model_dir)
        self.model.eval()

    def first_hanzi(self, texts: list[str], k: int = 5) -> list[list[str]]:
        from pinyin_hanzi.vocab import MASK_ID, PAD_ID

        torch, vocab = self.torch, self.vocab
        rows = [[vocab.hanzi_token(c) for c in text[-CONTEXT:]] + [MASK_ID] for text in texts]
        T = max(len(r) for r in rows)
        ids = torch.full((len(rows), T), PAD_ID, dtype=torch.long)
        mask = torch.zeros((len(rows), T), dtype=torch.long)
        for b, row in enumerate(rows):
            ids[b, :len(row)] = torch.tensor(row)
            mask[b, :len(row)] = 1
        with torch.inference_mode():
            logits = self.model(ids, mask)["logits"]
        out = []
        for b, row in enumerate(rows):
            scores = logits[b, len(row) - 1].float().numpy()
            scores[0] = -np.inf  # <unk>
            out.append([vocab.hanzi[i] for i in np.argsort(-scores)[:k]])
        return out


def score(pairs: list[tuple[str, str]], offered: list[list[str]]) -> dict[str, float]:
    n = len(pairs)
    hits = Counter()
    for (_, truth), words in zip(pairs, offered):
        firsts = list(dict.fromkeys(w[0] for w in words))
        hits["word@1"] += bool(words) and words[0] == truth
        hits["word@5"] += truth in words[:5]
        hits["first@1"] += bool(firsts) and firsts[0] == truth[0]
        hits["first@5"] += truth[0] in firsts[:5]
        hits["offered"] += bool(words)
    return {key: 100 * value / n for key, value in hits.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--clauses", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    conv = Converter.load(args.model, threads=1)
    lm = conv.word_lm
    if lm is None:
        sys.exit(f"{args.model} has no word model: nothing predicts")
    frequent = lm.most_frequent(5)
    encoder = MaskedNext(args.model)
    rows = []
    for path in files():
        pairs = cuts(path, args.clauses, args.seed)
        if not pairs:
            continue
        ours = score(pairs, [lm.next_words(text, 5) for text, _ in pairs])
        floor = score(pairs, [frequent] * len(pairs))
        masked = score(pairs, [chars for start in range(0, len(pairs), 64)
                               for chars in encoder.first_hanzi(
                                   [t for t, _ in pairs[start:start + 64]])])
        name = path.stem
        rows.append(f"| {name} | {len(pairs)} | {ours['word@1']:.1f} / {ours['word@5']:.1f} | "
                    f"{ours['first@1']:.1f} / {ours['first@5']:.1f} | {ours['offered']:.0f} | "
                    f"{floor['word@1']:.1f} / {floor['word@5']:.1f} | "
                    f"{floor['first@1']:.1f} / {floor['first@5']:.1f} | "
                    f"{masked['first@1']:.1f} / {masked['first@5']:.1f} |")
        print(rows[-1], flush=True)
    table = "\n".join([
        "## Next-word prediction (联想)", "",
        f"Command: `{command()}` at {git_revision()}; {machine()}.",
        f"Model: {args.model.name}. Up to {args.clauses} clauses of each file, each cut at a "
        f"word boundary (seed {args.seed}); what follows the cut is the word to predict. % of "
        "cuts: word @1 / @5 (the word itself), first hanzi @1 / @5 (its first character among "
        "the first characters offered), offered (any prediction at all).", "",
        "| file | cuts | word model: word @1 / @5 | first hanzi @1 / @5 | offered | "
        "5 most frequent words: word @1 / @5 | first hanzi @1 / @5 | encoder, <mask> after "
        "the text: first hanzi @1 / @5 |",
        "|---|---|---|---|---|---|---|---|", *rows])
    print(table)
    if not args.no_write:
        write_section("prediction", table)


if __name__ == "__main__":
    main()
