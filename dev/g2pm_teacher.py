"""g2pM as a teacher (issue 33): clauses of prepared data that hold a polyphone g2pM was
trained on, labelled by g2pM, one marked `▁X▁` a line in CPP's format, for
`train-g2p --gold-extra OUT`.

    python dev/g2pm_teacher.py --data runs/data_modern --out runs/g2pm_teacher/teacher \
        --targets bench/data/cpp/dev --g2pl ../shared/corpora/g2pl_polyphone \
        --held-out bench/data/cpp/test bench/data/cpp/dev \
        --student pinyin_hanzi/assets/default_g2p [--sources pd98,xinwenlianbo] [--per-hanzi 300]

* Targets: the hanzi marked in --targets (CPP dev: the polyphones g2pM learnt) that g2pM's
  dictionary gives several readings, but 一 and 不 (their tones follow a rule).
* Hanzi where g2pM does worse than --student on the dev sets (g2pL dev and CPP dev's held-back
  part, as dev/g2p_dev.py has them) by --margin sentences or more are dropped: on those the
  teacher would teach its errors. Dev sets only; never a test split.
* Clauses: the --data train split's (of --sources), minus any sharing 10 hanzi with --held-out
  or g2pL dev and test (g2p.data.NgramGuard); per target hanzi, --per-hanzi of those holding
  it, drawn at random (seeded). One line per (clause, hanzi), its first occurrence marked.
* The label: g2pM's best reading among its dictionary's readings of that hanzi (its own
  argmax ranges over all 876 readings), kept if its probability is >= --min-prob, and unless
  it and the student's differ only in a neutral tone (子 zi3 for zi5 in 日子, 啦 la1): CPP
  seldom marks a neutral tone (172 of CPP dev's 9,893 lines), so there g2pM's full tone is a
  convention it never learnt, not knowledge.
Writes OUT.sent, OUT.lb and OUT.json (counts; per hanzi: dev scores, lines, disagreements).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "dev"))
from g2p import hanzi_readings, ours_engine  # noqa: E402
from g2p_dev import dev_sets  # noqa: E402

from pinyin_hanzi.data.records import iter_records  # noqa: E402
from pinyin_hanzi.g2p.data import MARK, NgramGuard, cpp_reading, read_marked  # noqa: E402

SKIP = set("一不")


class Teacher:
    """g2pM's bi-LSTM, batched, answering one marked position per sentence with its
    probability, among the readings g2pM's dictionary gives that hanzi."""

    def __init__(self):
        from g2pM import G2pM
        from g2pM.g2pM import BOS_TOKEN, EOS_TOKEN, UNK_TOKEN

        self.g = G2pM()
        c2i = self.g.char2idx
        self.bos, self.eos, self.unk = c2i[BOS_TOKEN], c2i[EOS_TOKEN], c2i[UNK_TOKEN]
        self.class_id = {pron: i for i, pron in self.g.idx2class.items()}

    def readings(self, char: str) -> list[str]:
        return list(self.g.cedict.get(char, []))

    def _batch(self, sents: list[str], ats: list[int]) -> list[tuple[str, float]]:
        g, c2i = self.g, self.g.char2idx
        T = max(len(s) for s in sents) + 2
        ids = np.zeros((len(sents), T), dtype=np.int32)
        for b, s in enumerate(sents):
            ids[b, :len(s) + 2] = [self.bos] + [c2i.get(c, self.unk) for c in s] + [self.eos]
        lengths = np.sum(np.sign(ids), axis=1)
        fw_emb, bw_emb = g.get_embedding(ids), g.get_embedding(g.reverse_sequence(ids, lengths))
        fw, bw, fw_hs, bw_hs = None, None, [], []
        for i in range(int(lengths.max())):
            fw, bw = g.fw_lstm_cell(fw_emb[:, i, :], fw), g.bw_lstm_cell(bw_emb[:, i, :], bw)
            fw_hs.append(fw[0])
            bw_hs.append(bw[0])
        bw_h = g.reverse_sequence(np.stack(bw_hs, axis=1), lengths)
        hidden = np.concatenate([np.stack(fw_hs, axis=1), bw_h], axis=2)
        logits = g.fc_layer(hidden[np.arange(len(sents)), np.array(ats) + 1])
        out = []
        for b, (s, at) in enumerate(zip(sents, ats)):
            prons = [p for p in self.readings(s[at]) if p in self.class_id]
            if not prons:
                out.append((None, 0.0))
                continue
            z = logits[b, [self.class_id[p] for p in prons]]
            p = np.exp(z - z.max())
            p /= p.sum()
            k = int(p.argmax())
            out.append((prons[k], float(p[k])))
        return out

    def __call__(self, sents: list[str], ats: list[int], batch: int = 128):
        order = sorted(range(len(sents)), key=lambda i: len(sents[i]))
        out: list = [None] * len(sents)
        for a in range(0, len(order), batch):
            idx = order[a:a + batch]
            for i, r in zip(idx, self._batch([sents[i] for i in idx], [ats[i] for i in idx])):
                out[i] = r
        return out


def neutral_clash(a: str, b: str | None) -> bool:
    return b is not None and a != b and a[:-1] == b[:-1] and "5" in (a[-1], b[-1])


def student_readings(run, sents: list[str], ats: list[int]) -> list[str | None]:
    return [hanzi_readings(s, items)[at] for s, at, items in zip(sents, ats, run(sents))]


def dev_compare(teacher, run, g2pl: Path, targets: set[str]) -> dict:
    """Per target hanzi on the dev sets: [sentences, right by g2pM, right by the student]."""
    marked = [m for ms in dev_sets(g2pl).values() for m in ms]
    marked = list(dict.fromkeys(m for m in marked if m[0][m[1]] in targets))
    sents, ats = [s for s, _, _ in marked], [at for _, at, _ in marked]
    taught = teacher(sents, ats)
    student = student_readings(run, sents, ats)
    per = defaultdict(lambda: [0, 0, 0])
    for (s, at, gold), (t, _), o in zip(marked, taught, student):
        row = per[s[at]]
        row[0] += 1
        row[1] += t is not None and cpp_reading(t) == gold
        row[2] += o == gold
    return dict(per)


def sample_clauses(data: Path, sources, targets: set[str], guard: NgramGuard, k: int,
                   seed: int) -> tuple[dict, Counter]:
    """Per target hanzi, up to k clauses holding it (reservoir sampling), guarded."""
    rng = random.Random(seed)
    picked: dict[str, list[str]] = defaultdict(list)
    seen: Counter = Counter()
    dropped = 0
    for rec in iter_records(data, "train", sources):
        text = rec["text"]
        hits = targets.intersection(text)
        if not hits or MARK in text:
            continue
        if not guard.clean(text):
            dropped += 1
            continue
        for h in sorted(hits):
            seen[h] += 1
            if len(picked[h]) < k:
                picked[h].append(text)
            else:
                j = rng.randrange(seen[h])
                if j < k:
                    picked[h][j] = text
    seen["(guard dropped)"] = dropped
    return picked, seen


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="Stem of the .sent/.lb files.")
    parser.add_argument("--targets", type=Path, required=True, help="CPP-format stem.")
    parser.add_argument("--g2pl", type=Path, required=True, help="g2pL's directory.")
    parser.add_argument("--held-out", type=Path, nargs="+", default=[])
    parser.add_argument("--student", type=Path, required=True, help="Exported G2P model.")
    parser.add_argument("--sources", default="", help="Comma-separated ('' = all).")
    parser.add_argument("--per-hanzi", type=int, default=300)
    parser.add_argument("--margin", type=int, default=2)
    parser.add_argument("--min-prob", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    teacher = Teacher()
    targets = {s[at] for s, at, _ in read_marked(args.targets)}
    targets = {h for h in targets - SKIP if len(teacher.readings(h)) > 1}
    _, run = ours_engine(args.student)
    dev = dev_compare(teacher, run, args.g2pl, targets)
    worse = {h for h, (n, t, o) in dev.items() if o - t >= args.margin}
    targets -= worse
    print(f"{len(targets)} target hanzi ({len(worse)} dropped, g2pM worse on dev: "
          f"{''.join(sorted(worse))})", file=sys.stderr, flush=True)

    held = list(args.held_out) + [args.g2pl / "dev", args.g2pl / "test"]
    guard = NgramGuard(s for stem in held for s, _, _ in read_marked(stem))
    sources = [s for s in args.sources.split(",") if s] or None
    picked, seen = sample_clauses(args.data, sources, targets, guard, args.per_hanzi,
                                  args.seed)
    items = [(text, text.index(h)) for h in sorted(picked) for text in picked[h]]
    print(f"{len(items)} clauses to label", file=sys.stderr, flush=True)
    sents, ats = [t for t, _ in items], [at for _, at in items]
    taught = teacher(sents, ats)
    student = student_readings(run, sents, ats)

    per = defaultdict(Counter)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{args.out}.sent", "w", encoding="utf-8") as fs, \
            open(f"{args.out}.lb", "w", encoding="utf-8") as fl:
        for (text, at), (reading, prob), mine in zip(items, taught, student):
            row = per[text[at]]
            if reading is None or prob < args.min_prob:
                row["unsure"] += 1
                continue
            if neutral_clash(cpp_reading(reading), mine):
                row["neutral"] += 1
                continue
            row["lines"] += 1
            row["disagree"] += cpp_reading(reading) != mine
            fs.write(f"{text[:at]}{MARK}{text[at]}{MARK}{text[at + 1:]}\n")
            fl.write(reading + "\n")
    lines = sum(r["lines"] for r in per.values())
    disagree = sum(r["disagree"] for r in per.values())
    neutral = sum(r["neutral"] for r in per.values())
    summary = {"config": {k: str(v) for k, v in vars(args).items()},
               "targets": len(targets), "dropped_worse_on_dev": "".join(sorted(worse)),
               "clauses_holding": dict(seen), "lines": lines, "disagree": disagree,
               "dropped_neutral_clash": neutral,
               "per_hanzi": {h: {**per[h], "dev": dev.get(h)} for h in sorted(per)}}
    Path(f"{args.out}.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1),
                                        encoding="utf-8")
    top = sorted(per.items(), key=lambda kv: -kv[1]["disagree"])[:30]
    print(f"{lines} lines ({neutral} dropped: neutral tone), {disagree} where the student "
          "reads otherwise; most: "
          + " ".join(f"{h}{r['disagree']}/{r['lines']}" for h, r in top), file=sys.stderr)


if __name__ == "__main__":
    main()
