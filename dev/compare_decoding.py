"""Prove a refactoring kept decoding as it was: dump every clause's candidates and scores,
before and after, and compare the dumps.

    python dev/compare_decoding.py dump before.jsonl [--model DIR] [--data FILE]
    ... change the code ...
    python dev/compare_decoding.py dump after.jsonl
    python dev/compare_decoding.py diff before.jsonl after.jsonl

Each clause is decoded three ways so that every decoder path is covered: as the model
directory's decode.json says (word lattice + character n-gram for the shipped model), with
the character n-gram alone (beam search with fusion) and with the encoder alone. Scores are
compared exactly: the same code on the same machine gives the same floats.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def dump(out: Path, model: Path | None, data: Path, top_k: int) -> None:
    from pinyin_hanzi import Converter

    conv = Converter.load(model, threads=1)
    inputs = [line.split("\t")[0] for line in data.read_text(encoding="utf-8").splitlines()
              if line.strip()]
    shipped = conv.config
    settings = {"shipped": shipped, "char n-gram": replace(shipped, word_weight=0.0),
                "encoder": replace(shipped, word_weight=0.0, lm_weight=0.0)}
    rows = {text: {} for text in inputs}
    for name, config in settings.items():
        for text, cands in zip(inputs, conv.with_config(config).convert_many(inputs, top_k)):
            rows[text][name] = [[c.text, c.score] for c in cands]
    with open(out, "w", encoding="utf-8") as f:
        for text, by_setting in rows.items():
            f.write(json.dumps({"input": text, **by_setting}, ensure_ascii=False) + "\n")
    print(f"wrote {out}: {len(rows)} inputs x {len(settings)} settings")


def diff(a: Path, b: Path) -> int:
    left = a.read_text(encoding="utf-8").splitlines()
    right = b.read_text(encoding="utf-8").splitlines()
    if len(left) != len(right):
        print(f"{a} has {len(left)} inputs, {b} {len(right)}")
        return 1
    changed = [(x, y) for x, y in zip(left, right) if x != y]
    for x, y in changed[:10]:
        print(f"- {x}\n+ {y}")
    print(f"{len(changed)} of {len(left)} inputs differ")
    return 1 if changed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    d.add_argument("--data", type=Path, default=ROOT / "bench" / "data" / "pd98_test.tsv")
    d.add_argument("--top-k", type=int, default=5)
    c = sub.add_parser("diff")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.out, args.model, args.data, args.top_k)
        return 0
    return diff(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
