"""Accuracy of a model beside libime, libpinyin and SunPinyin on the public benchmarks, the
held-out out-of-domain files and every domain's test split.

    python bench/accuracy.py [--model DIR] [--data runs/data_modern] [--heldout runs/heldout]
                             [--domains fiction,ted,...] [--orders 2,3] [--peers /tmp/peers]
                             [--engines libime,libpinyin,sunpinyin]
                             [--loso-model DIR --loso-sources tv_subtitles_dgk,lit_essays]

Files scored, one clause at a time (scoring of bench/data/README.md, evaluate.py):
- the public benchmarks pd98_test / reviews_test (bench/data);
- `--heldout`: debian_test / hsk_test from bench/heldout.py (Debian's documentation and HSK
  sentences: reserved for evaluation, kept out of training by `prepare --exclude`), and
  hsk_gold: the same HSK clauses with the sentences' own pinyin instead of pypinyin's;
- `--domains`: each source's test split of `--data`, exported as 2,000 clauses of 4-32 hanzi
  spread over it (data/export_tsv.py) into runs/bench_domains/.
The peer engines (`--engines`: libime, libpinyin, SunPinyin by default) run on the same files
through the peer drivers (../shared/peers, set up in a writable copy: `--peers`); without
them, a line says so.
`--loso-model`: a model trained and tuned without the `--loso-sources` (leave one source out:
`prepare` as for the main model, then `finetune` and `lm` with every source but those), scored
on their test splits beside the peers: how the engine does on a kind of text it never saw.
The baselines are character n-gram HMMs trained on the pd98 + reviews training split.
Writes the tables (a row per file, a column per engine) to docs/BENCHMARKS.md and the details
to runs/bench_accuracy.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import command, git_revision, machine, write_section  # noqa: E402

from pinyin_hanzi.data.decontaminate import benchmark_dir  # noqa: E402
from pinyin_hanzi.data.export_tsv import export_tsv  # noqa: E402
from pinyin_hanzi.evaluate import evaluate, paired_comparison, read_tsv  # noqa: E402
from pinyin_hanzi.decode.hmm import NgramConverter  # noqa: E402
from pinyin_hanzi.lm.corpus import pair_counts, training_clauses  # noqa: E402
from pinyin_hanzi.lm.ngram import CharNgram  # noqa: E402
from pinyin_hanzi.runtime.converter import DEFAULT_MODEL, Converter  # noqa: E402
from pinyin_hanzi.vocab import Vocab  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BENCH = benchmark_dir()
PUBLIC = ("pd98_test.tsv", "reviews_test.tsv")
HELDOUT = ("debian_test.tsv", "hsk_test.tsv", "hsk_gold.tsv")
BASELINE_SOURCES = ("pd98", "reviews")
DOMAIN_CLAUSES = 2000
MODERN_DOMAINS = ("weibo_rumor_comments,weibo_hot_search,zhihu_hot_questions,tv_subtitles_dgk,"
                  "xinwenlianbo,lit_essays,msdocs_zh_cn,wangdoc_javascript,kdconv,crosswoz")


def cell(r: dict) -> str:
    return f"{100 * r['char_acc']:.2f} / {100 * r['top1']:.1f} / {100 * r['top5']:.1f}"


def difference(r: dict) -> str:
    """A paired_comparison as 'chars [interval] / top-1 [interval]', in points."""
    def points(key: str, digits: int) -> str:
        lo, hi = r[f"{key}_95"]
        return f"{100 * r[key]:+.{digits}f} [{100 * lo:+.{digits}f}, {100 * hi:+.{digits}f}]"

    return f"{points('char_acc', 2)} / {points('top1', 1)}"


def test_files(args) -> dict[str, Path]:
    files = {name.removesuffix(".tsv"): BENCH / name for name in PUBLIC
             if (BENCH / name).is_file()}
    files |= {name.removesuffix(".tsv"): args.heldout / name for name in HELDOUT
              if (args.heldout / name).is_file()}
    out = ROOT / "runs" / "bench_domains"
    out.mkdir(parents=True, exist_ok=True)
    domains = (args.domains + "," + args.loso_sources).split(",")
    for domain in dict.fromkeys(filter(None, domains)):
        path = out / f"{domain}_test.tsv"
        if export_tsv(args.data, "test", path, (domain,), limit=DOMAIN_CLAUSES):
            files[f"{domain} (test split)"] = path
    return files


def peer_results(engine: str, files: dict[str, Path], peers: Path) -> dict[str, dict] | None:
    """The engine's scores on each file through the peer harness, or None without it."""
    driver = peers / "bin" / f"{engine}_drv"
    if not driver.is_file():
        return None
    names = {f"f{i}": (label, path) for i, (label, path) in enumerate(files.items())}
    env = dict(os.environ, PEERS_FILES=",".join(f"{k}={p}" for k, (_, p) in names.items()))
    raw = ROOT / "runs" / "peers_raw"
    subprocess.run([sys.executable, str(peers / "harness" / "run_engines.py"), "--engines",
                    engine, "--files", ",".join(names), "--modes", "apos", "--out", str(raw)],
                   env=env, check=True, capture_output=True)
    sys.path.insert(0, str(peers / "harness"))
    import score

    results = {}
    for key, (label, path) in names.items():
        gold = [row.rstrip("\n").split("\t") for row in open(path, encoding="utf-8")]
        out = raw / f"{engine}__apos__{key}.out"
        metrics = score.score_run(str(out), gold)[0]
        # Each output line: timings, then the candidates, best first.
        best = [next((c for c in line.rstrip("\n").split("\t")[1:] if c), "")
                for line in open(out, encoding="utf-8")][:len(gold)]
        results[label] = {"char_acc": metrics["char_acc"], "top1": metrics["sent_top1"],
                          "top5": metrics["sent_top5"], "best": best}
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--data", type=Path, default=Path("runs/data_modern"))
    parser.add_argument("--heldout", type=Path, default=ROOT / "runs" / "heldout")
    parser.add_argument("--domains", default="fiction,ted,hk,tatoeba,manpages,lohelp,kernel,"
                        + MODERN_DOMAINS,
                        help="sources of --data whose test split is scored ('' = none)")
    parser.add_argument("--loso-model", type=Path, default=None,
                        help="a model trained and tuned without --loso-sources")
    parser.add_argument("--loso-sources", default="tv_subtitles_dgk,lit_essays",
                        help="the sources --loso-model never saw: scored on their test split")
    parser.add_argument("--orders", default="3", help="n-gram baselines to train ('' = none)")
    parser.add_argument("--peers", type=Path, default=Path("/tmp/peers"),
                        help="a set-up copy of ../shared/peers (bin/*_drv built)")
    parser.add_argument("--engines", default="libime,libpinyin,sunpinyin",
                        help="peer engines run beside ours where their drivers are built")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    files = test_files(args)
    details = {}

    def ours(model: Path, label: str, only: dict[str, Path]) -> str:
        conv = Converter.load(model)
        name = (f"{label}: {conv.label}" + (", word lattice" if conv.config.word_weight else "")
                + (f", {conv.char_lm.order}-gram fusion" if conv.char_lm else ""))
        # One clause at a time, as an input method converts (and as the peers run): the int8
        # graph quantizes activations per batch, so a batch of others moves scores slightly.
        details[name] = {f: evaluate(lambda xs: conv.convert_many(xs, 5), p, batch_size=1,
                                     keep_best=True) for f, p in only.items()}
        return name

    name = ours(args.model, "ours", files)
    mine = [name]
    if args.loso_model:
        held = {f"{s} (test split)" for s in filter(None, args.loso_sources.split(","))}
        mine.append(ours(args.loso_model, "ours, its source left out of training",
                         {f: p for f, p in files.items() if f in held}))
    for order in filter(None, args.orders.split(",")):
        lm = CharNgram.train(training_clauses(args.data, BASELINE_SOURCES), int(order))
        vocab = Vocab.load(args.data / "vocab.json")
        baseline = NgramConverter(lm, vocab, pair_counts(args.data, BASELINE_SOURCES))
        details[f"baseline: char {order}-gram HMM, pd98 + reviews training split"] = {
            f: evaluate(lambda xs: baseline.convert_many(xs, 5), p) for f, p in files.items()}
    notes, peers = [], []
    for engine in filter(None, args.engines.split(",")):
        results = peer_results(engine, files, args.peers)
        if results is None:
            notes.append(f"{engine}: skipped, no driver at {args.peers}/bin (set up "
                         "../shared/peers in a writable copy and pass --peers)")
        else:
            details[f"{engine} (same files, peer driver)"] = results
            peers.append(engine)
    engines = list(details)
    rows = [[f, *(cell(details[e][f]) if f in details[e] else "–" for e in engines)]
            for f in files]
    # Ours against each peer, clause by clause: is a lead (or a gap) more than noise?
    gold = {f: [g for _, g in read_tsv(p)] for f, p in files.items()}
    pairs = [(m, f"{p} (same files, peer driver)") for m in mine for p in peers]
    for m, p in pairs:
        details[f"{m} - {p}"] = {f: paired_comparison(gold[f], details[m][f]["best"],
                                                      details[p][f]["best"])
                                 for f in files if f in details[m]}
    paired = [[f, *(difference(details[f"{m} - {p}"][f]) if f in details[m] else "–"
                    for m, p in pairs)] for f in files]
    for results in details.values():
        for r in results.values():
            r.pop("best", None)

    def short(engine: str) -> str:
        return engine.split(":")[0].removesuffix(" (same files, peer driver)")

    table = ("## Accuracy: public benchmarks, held-out domains, every domain's test split\n\n"
             f"Command: `{command()}` (revision {git_revision()})  \nMachine: {machine()}\n\n"
             "Character accuracy / clause top-1 / clause top-5, in %, one clause at a time, "
             "no context, perfect toneless pinyin. debian_test and hsk_test (bench/heldout.py) "
             "are never trained or tuned on; hsk_gold is hsk_test's clauses with the HSK "
             "sentences' own pinyin, which no annotator of ours made (37 of 2,000 differ from "
             "pypinyin's); a domain's test split holds whole documents its training split "
             "does not have.\n\nEngines: "
             + "; ".join(f"**{short(e)}** = {e}" for e in engines) + ".\n\n"
             f"| file | {' | '.join(short(e) for e in engines)} |\n"
             f"|---|{'---|' * len(engines)}\n"
             + "".join(f"| {' | '.join(r)} |\n" for r in rows)
             + "".join(f"\n{note}\n" for note in notes))
    if pairs:
        table += ("\nOurs minus each peer on the same clauses, in points: character accuracy / "
                  "clause top-1, each with its 95 % paired-bootstrap interval (2,000 draws of "
                  "the clauses, evaluate.paired_comparison); an interval that holds 0 is a tie "
                  "at this file's size.\n\n"
                  f"| file | {' | '.join(f'{short(m)} - {short(p)}' for m, p in pairs)} |\n"
                  f"|---|{'---|' * len(pairs)}\n"
                  + "".join(f"| {' | '.join(r)} |\n" for r in paired))
    print(table)
    if not args.no_write:
        write_section("accuracy", table)
    out = ROOT / "runs" / "bench_accuracy.json"
    out.write_text(json.dumps(details, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
