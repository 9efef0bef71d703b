"""Paired comparison of two models' clause top-1 on one test file: how many clauses each gets
right that the other does not, and the standard error of the difference, so a drop of a
point or two on 2,000 clauses can be told from noise:

    python dev/paired_top1.py TEST.tsv MODEL_A MODEL_B [MODEL_B2 ...]

Each model decodes as `pinyin-hanzi evaluate --backend torch` does (its decode.json, if any).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from pinyin_hanzi.runtime.converter import Converter
from pinyin_hanzi.evaluate import read_tsv


def right(model: Path, pairs: list[tuple[str, str]]) -> list[bool]:
    conv = Converter.load(model, backend="torch")
    best = conv.convert_many([p for p, _ in pairs], top_k=1)
    return [bool(c) and c[0].text == gold for c, (_, gold) in zip(best, pairs)]


def main(test: Path, base: Path, others: list[Path]):
    pairs = read_tsv(test)
    a = right(base, pairs)
    n = len(pairs)
    print(f"{test.name}: {n} clauses; {base}: top-1 {100 * sum(a) / n:.1f}")
    for other in others:
        b = right(other, pairs)
        gained = sum(y and not x for x, y in zip(a, b))
        lost = sum(x and not y for x, y in zip(a, b))
        # Paired difference of two proportions: var = (gained + lost - (gained - lost)^2/n)/n^2
        se = math.sqrt(gained + lost - (gained - lost) ** 2 / n) / n
        print(f"  {other}: top-1 {100 * sum(b) / n:.1f}, difference "
              f"{100 * (gained - lost) / n:+.1f} ± {100 * se:.1f} (standard error; "
              f"{gained} clauses gained, {lost} lost)")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]])
