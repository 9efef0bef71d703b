"""Score exported G2P model directories on the dev sets only (never the test splits): the
sentences to choose a model on, beside bench/g2p.py's test-set scores.

    python dev/g2p_dev.py DIR [DIR ...] [--g2pl DIR] [--limit N]

* CPP dev's held-back part, as `train-g2p --gold bench/data/cpp/dev --gold-extra G2PL
  --held-out bench/data/cpp/test` holds it back: the lines kept by the 10-hanzi guard (CPP
  test, g2pL dev and test), every (kept // 1000)-th of them;
* the part of those that session 12's run (the shipped default_g2p) held back too: every
  (9,893 // 1000)-th line of the unguarded file. The rest of today's held-back part was
  trained on by that model, so only this part compares it fairly with a new one;
* g2pL dev, all of it (train-g2p scores 2,000 of it, spread);
* the prepared data's dev clauses (--data, 2,000 spread as train-g2p scores them): % of
  their polyphonic hanzi read as pypinyin labelled them (agreement, not accuracy).
Each through runtime.transcriber.Transcriber (the int8 graph), one thread.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from g2p import G2PL, hanzi_readings, marked_score, ours_engine  # noqa: E402

from pinyin_hanzi.data.export_tsv import spread  # noqa: E402
from pinyin_hanzi.data.records import iter_records  # noqa: E402
from pinyin_hanzi.g2p.data import NgramGuard, read_marked  # noqa: E402
from pinyin_hanzi.g2p.readings import dictionary_readings  # noqa: E402

CPP = ROOT / "bench" / "data" / "cpp"


def dev_sets(g2pl: Path) -> dict[str, list]:
    cpp_dev = read_marked(CPP / "dev")
    guard = NgramGuard(s for stem in (CPP / "test", g2pl / "dev", g2pl / "test")
                       for s, _, _ in read_marked(stem))
    kept = [(i, m) for i, m in enumerate(cpp_dev) if guard.clean(m[0])]
    step = max(1, len(kept) // 1000)
    held = [(i, m) for n, (i, m) in enumerate(kept) if n % step == 0]
    old_step = max(1, len(cpp_dev) // 1000)
    return {"CPP dev held back": [m for _, m in held],
            "of which held back in session 12": [m for i, m in held if i % old_step == 0],
            "g2pL dev": read_marked(g2pl / "dev")}


def corpus_agreement(run, records) -> float:
    """% of the polyphonic hanzi (pypinyin's dictionary) given pypinyin's label."""
    got = run([r["text"] for r in records])
    n = same = 0
    for r, items in zip(records, got):
        for char, label, reading in zip(r["text"], r["tone3"], hanzi_readings(r["text"], items)):
            if label and len(dictionary_readings(char)) > 1:
                n += 1
                same += reading == label
    return 100 * same / n


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", type=Path, nargs="+")
    parser.add_argument("--g2pl", type=Path, default=G2PL)
    parser.add_argument("--data", type=Path, default=ROOT / "runs" / "data_modern")
    parser.add_argument("--limit", type=int, default=0, help="Score only N sentences of each.")
    args = parser.parse_args()
    sets = dev_sets(args.g2pl)
    if args.limit:
        sets = {k: v[:args.limit] for k, v in sets.items()}
    records = spread(list(iter_records(args.data, "dev")), args.limit or 2000)
    print("| model | " + " | ".join(f"{k} ({len(v)})" for k, v in sets.items())
          + f" | {args.data.name} dev, agreeing with pypinyin ({len(records)}) |")
    print("|---|" + "---|" * (len(sets) + 1))
    for model in args.models:
        name, run = ours_engine(model)
        cells = [f"{marked_score(run, marked)[0]:.2f}" for marked in sets.values()]
        cells.append(f"{corpus_agreement(run, records):.2f}")
        print(f"| {model} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
