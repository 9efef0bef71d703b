"""What left context buys: a clause typed in two parts, the second after the first is committed.

    python bench/context.py [--model DIR] [--clauses 1000] [--seed 0]

Users commit a clause piece by piece (中国 for `zhongguo`, then `renmin`). Each clause of 4+
hanzi of a file is cut at one of its inner word boundaries (jieba's words, a seeded choice);
the second part's pinyin is converted alone, after the first part's gold text (context, the
language models' histories start from it: decode.config.clause_tail), and as part of the whole
clause typed at once (what a user who does not stop gets), and scored on the second part: first
candidate, char / clause %, as bench/accuracy.py scores. Context across clauses (the previous
clause, after its punctuation) starts a new clause for the language models, so it changes
nothing by construction; only an encoder that reads the context could use it. Files:
pd98/reviews benchmarks, debian_test and hsk_test (bench/heldout.py), the domain test splits
bench/accuracy.py exported to runs/bench_domains/. The table goes to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import command, git_revision, machine, write_section  # noqa: E402

from pinyin_hanzi.data.decontaminate import benchmark_dir  # noqa: E402
from pinyin_hanzi.runtime.converter import DEFAULT_MODEL, Converter  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOMAINS = ("ted", "fiction", "hk", "tatoeba", "manpages", "lohelp", "kernel")


def files() -> list[Path]:
    candidates = [benchmark_dir() / "pd98_test.tsv", benchmark_dir() / "reviews_test.tsv",
                  ROOT / "runs/heldout/debian_test.tsv", ROOT / "runs/heldout/hsk_test.tsv"]
    candidates += [ROOT / "runs/bench_domains" / f"{d}_test.tsv" for d in DOMAINS]
    return [p for p in candidates if p.is_file()]


def cut(path: Path, clauses: int, seed: int) -> list[tuple[str, str, str, str]]:
    """(first pinyin, first hanzi, second pinyin, second hanzi) per clause of 4+ hanzi that
    has an inner word boundary, the cut drawn with random.Random(seed)."""
    import jieba

    jieba.setLogLevel(60)
    rng, out = random.Random(seed), []
    for line in path.open(encoding="utf-8"):
        pinyin, hanzi = line.rstrip("\n").split("\t")
        syllables = pinyin.split()
        if len(hanzi) < 4 or len(syllables) != len(hanzi):
            continue
        ends, at = [], 0
        for word in jieba.lcut(hanzi, HMM=False):
            at += len(word)
            ends.append(at)
        inner = [e for e in ends[:-1] if 1 <= e <= len(hanzi) - 1]
        if not inner:
            continue
        e = rng.choice(inner)
        out.append((" ".join(syllables[:e]), hanzi[:e], " ".join(syllables[e:]), hanzi[e:]))
        if len(out) == clauses:
            break
    return out


def score(pairs: list[tuple[str, str]]) -> tuple[float, float]:
    """(char %, clause %) of (best, gold) pairs."""
    right = sum(sum(a == b for a, b in zip(best, gold)) for best, gold in pairs)
    total = sum(len(gold) for _, gold in pairs)
    return 100 * right / total, 100 * sum(best == gold for best, gold in pairs) / len(pairs)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--clauses", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    conv = Converter.load(args.model, threads=1)
    rows = []
    for path in files():
        parts = cut(path, args.clauses, args.seed)
        second = [p2 for _, _, p2, _ in parts]
        alone = conv.convert_many(second, 1)
        after = conv.convert_many(second, 1, contexts=[h1 for _, h1, _, _ in parts])
        whole = conv.convert_many([f"{p1} {p2}" for p1, _, p2, _ in parts], 1)
        gold = [h2 for _, _, _, h2 in parts]
        a = score([(c[0].text, g) for c, g in zip(alone, gold)])
        b = score([(c[0].text, g) for c, g in zip(after, gold)])
        w = score([(c[0].text[len(h1):], g) for c, (_, h1, _, _), g in zip(whole, parts, gold)])
        rows.append(f"| {path.stem} | {len(parts)} | {a[0]:.2f} / {a[1]:.1f} | "
                    f"{b[0]:.2f} / {b[1]:.1f} | {b[0] - a[0]:+.2f} / {b[1] - a[1]:+.1f} | "
                    f"{w[0]:.2f} / {w[1]:.1f} |")
        print(rows[-1], flush=True)
    body = (f"Command: `{command()}` at {git_revision()}; {machine()}.\n"
            f"Model: {args.model.name}. Each clause cut at a word boundary (seed {args.seed}); "
            "the second part scored, first candidate, char / clause %: typed alone, typed "
            "after the first part (its gold text as context), and within the whole clause "
            "typed at once.\n\n"
            "| file | clauses | second part alone | after the first | gain | "
            "whole clause at once |\n|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    if not args.no_write:
        write_section("context", "## Left context: a clause typed in two parts\n\n" + body)


if __name__ == "__main__":
    main()
