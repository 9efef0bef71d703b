"""Accuracy on input as users type it, beside libime: abbreviated, cut, fuzzy, unfinished.

    python bench/input_forms.py [--model DIR] [--clauses 500] [--peers /tmp/peers]

Each benchmark (bench/data pd98_test, reviews_test; runs/heldout debian_test, hsk_test when
bench/heldout.py made them) gives its first `--clauses` clauses, rewritten from their pinyin
with fixed seeds (data/augment.py) into variants, written to runs/input_forms/:
- initials: every syllable cut to its initial (简拼, `zh g r m`);
- mix30: each syllable cut to its initial with probability 0.3 (`zhong g ren m`);
- fuzzy: each syllable swapped with probability 0.3 for a fuzzy variant (z/zh c/ch s/sh n/l f/h,
  an/ang en/eng in/ing), both engines told the ten pairs libime has (all but r/l);
- unfinished: the last syllable cut to a random shorter prefix, as while typing;
- open_last: whole pinyin, converted as while typing (the last syllable may still grow: xian
  may be xiang), what an input method converts when the user picks after the last letter.
Both engines get the syllables joined by apostrophes. libime runs through the peer driver with
the fuzzy flags set by LIBIME_FUZZY: this needs the driver built from bench/peers/libime_drv.cpp
(the ../shared/peers one plus that variable): `cp bench/peers/libime_drv.cpp /tmp/peers/src/`
and rerun its setup.sh. PartialFinal is on for the cut variants. Scored as bench/accuracy.py
scores; the table goes to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import cell, peer_results  # noqa: E402
from report import command, git_revision, machine, write_section  # noqa: E402

from pinyin_hanzi.data.augment import abbreviate, fuzzy  # noqa: E402
from pinyin_hanzi.data.decontaminate import benchmark_dir  # noqa: E402
from pinyin_hanzi.evaluate import evaluate  # noqa: E402
from pinyin_hanzi.runtime.converter import DEFAULT_MODEL, Converter  # noqa: E402
from pinyin_hanzi.spelling import InputOptions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEED = 0
PAIRS = ("z/zh", "c/ch", "s/sh", "n/l", "f/h", "an/ang", "en/eng", "in/ing", "ian/iang",
         "uan/uang")
LIBIME_BASE = "Inner,VE_UE"
LIBIME_PAIRS = "Z_ZH,C_CH,S_SH,L_N,F_H,AN_ANG,EN_ENG,IN_ING,IAN_IANG,UAN_UANG"


def unfinished(syllables, rng):
    last = syllables[-1]
    if len(last) < 2:
        return list(syllables)
    return [*syllables[:-1], last[:rng.randint(1, len(last) - 1)]]


# name -> (rewrite, our options, libime flags)
VARIANTS = {
    "exact": (lambda s, rng: list(s), InputOptions(), LIBIME_BASE),
    "initials": (lambda s, rng: abbreviate(s, rng, 1.0), InputOptions(),
                 LIBIME_BASE + ",PartialFinal"),
    "mix30": (lambda s, rng: abbreviate(s, rng, 0.3), InputOptions(),
              LIBIME_BASE + ",PartialFinal"),
    "fuzzy": (lambda s, rng: fuzzy(s, rng, 0.3), InputOptions(fuzzy=frozenset(PAIRS)),
              LIBIME_BASE + "," + LIBIME_PAIRS),
    "unfinished": (unfinished, InputOptions(complete_last=True),
                   LIBIME_BASE + ",PartialFinal"),
    # Whole pinyin as an input method sees it while typing: the last syllable may still grow.
    "open_last": (lambda s, rng: list(s), InputOptions(complete_last=True),
                  LIBIME_BASE + ",PartialFinal"),
}


def sources(clauses: int) -> dict[str, list[tuple[list[str], str]]]:
    files = {"pd98": benchmark_dir() / "pd98_test.tsv",
             "reviews": benchmark_dir() / "reviews_test.tsv",
             "debian": ROOT / "runs" / "heldout" / "debian_test.tsv",
             "hsk": ROOT / "runs" / "heldout" / "hsk_test.tsv"}
    out = {}
    for name, path in files.items():
        if path.is_file():
            rows = [line.rstrip("\n").split("\t") for line in open(path, encoding="utf-8")]
            out[name] = [(p.split(), h) for p, h in rows[:clauses]]
    return out


def write_variant(name, rows, rewrite, out_dir: Path) -> Path:
    rng = random.Random(SEED)
    path = out_dir / f"{name}.tsv"
    with open(path, "w", encoding="utf-8") as f:
        for syllables, hanzi in rows:
            f.write(" ".join(rewrite(syllables, rng)) + "\t" + hanzi + "\n")
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--clauses", type=int, default=500, help="per benchmark file")
    parser.add_argument("--peers", type=Path, default=Path("/tmp/peers"))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    conv = Converter.load(args.model, threads=1)
    data = sources(args.clauses)
    out_dir = ROOT / "runs" / "input_forms"
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, notes = [], []
    for variant in args.variants.split(","):
        rewrite, options, flags = VARIANTS[variant]
        files = {f"{name} {variant}": write_variant(f"{name}_{variant}", clauses, rewrite, out_dir)
                 for name, clauses in data.items()}
        ours = {label: evaluate(lambda xs: conv.convert_many(xs, 5, options=options), path, 5,
                                batch_size=1)
                for label, path in files.items()}
        os.environ["LIBIME_FUZZY"] = flags
        theirs = peer_results("libime", files, args.peers) or {}
        for label in files:
            r = ours[label]
            rows.append(f"| {label} | {cell(r)} | {cell(theirs[label]) if label in theirs else '-'}"
                        f" | {1000 / r['clauses_per_second']:.1f} |")
            print(rows[-1], flush=True)
    if not (args.peers / "bin" / "libime_drv").is_file():
        notes.append(f"libime: no driver at {args.peers}/bin")
    body = "\n".join([
        f"Command: `{command()}` at {git_revision()}; {machine()}.",
        f"Model: {conv.label}. {args.clauses} clauses of each file, one at a time; char / "
        "top-1 / top-5 (%); ms a clause is ours (one thread, one clause at a time).", "",
        "| file, variant | this project | libime | ms/clause |", "|---|---|---|---|", *rows,
        *notes])
    write_section("input-forms", "## Input as typed: abbreviated, fuzzy, unfinished\n\n" + body)


if __name__ == "__main__":
    main()
