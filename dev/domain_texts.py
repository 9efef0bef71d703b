"""Domain text for the adaptation experiments (dev/EXPERIMENTS.md, issue 5), taken from the
*training* split of prepared data only, so the test sets stay unseen:

    python dev/domain_texts.py DATA_DIR OUT_DIR

writes OUT_DIR/reviews_1k.txt and reviews_10k.txt (random reviews, one per line; the 1k are
the first 1k of the 10k), tang_5k.jsonl and tang_20k.jsonl (random Tang poems, one JSON
document each; the 20k drawn with a generator of their own, so not a superset of the 5k), and
tang_test.tsv (1,000 clauses spread over the *test* split's Tang poems, pinyin TAB hanzi).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from pinyin_hanzi.data.export_tsv import export_tsv
from pinyin_hanzi.data.records import iter_records


def documents(data_dir: Path, split: str, sources: tuple[str, ...]) -> dict[str, list[str]]:
    """doc id -> its clauses, in corpus order."""
    docs: dict[str, list[str]] = {}
    for record in iter_records(data_dir, split, sources):
        docs.setdefault(record["doc"], []).append(record["text"])
    return docs


def write_poems(path: Path, poems: dict[str, list[str]], ids: list[str]):
    with open(path, "w", encoding="utf-8") as f:
        for d in ids:
            f.write(json.dumps({"id": d, "text": "，".join(poems[d]) + "。"},
                               ensure_ascii=False) + "\n")


def main(data_dir: Path, out: Path, seed: int = 0):
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    reviews = documents(data_dir, "train", ("reviews",))
    ids = sorted(reviews)
    rng.shuffle(ids)
    for n in (1000, 10000):
        lines = ("，".join(reviews[d]) + "。\n" for d in ids[:n])
        (out / f"reviews_{n // 1000}k.txt").write_text("".join(lines), encoding="utf-8")
    poems = documents(data_dir, "train", ("tang",))
    ids = sorted(poems)
    rng.shuffle(ids)
    write_poems(out / "tang_5k.jsonl", poems, ids[:5000])
    ids = sorted(poems)
    random.Random(seed).shuffle(ids)
    write_poems(out / "tang_20k.jsonl", poems, ids[:20000])
    export_tsv(data_dir, "test", out / "tang_test.tsv", ("tang",), limit=1000)
    print(f"{len(reviews)} reviews and {len(poems)} poems in the training split -> {out}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
