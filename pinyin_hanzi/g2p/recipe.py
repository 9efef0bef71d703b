"""The G2P objective for train.py's loop: an encoder from --init, a reading head, corpus and
gold examples (data.py), and the G2P model directory as the result."""

from __future__ import annotations

import sys
from pathlib import Path

from ..checkpoint import load_model
from ..data.export_tsv import spread
from ..data.records import iter_records, sources_hint
from .data import (G2PCollator, G2PDataset, NgramGuard, marked_examples, marked_set,
                   read_marked, record_examples)
from .model import G2PModel, is_g2p_dir, load_g2p, save_g2p
from .readings import ReadingTable


def _clauses(data_dir: Path, split: str, sources, guard: NgramGuard | None, limit: int = 0):
    """The split's records (with `limit`, that many spread over it: the sources are in order),
    minus those the guard keeps out."""
    out = [r for r in iter_records(data_dir, split, sources)
           if guard is None or guard.clean(r["text"])]
    return spread(out, limit)


def g2p_recipe(config):
    """From a conversion model's encoder (a new reading head and table), or from a G2P model
    (its head and table kept: training goes on, e.g. on gold sentences only)."""
    from ..train import Recipe

    start = load_g2p(config.init) if is_g2p_dir(config.init) else None
    encoder, vocab = (start[0].encoder, start[1]) if start else load_model(config.init)
    # A --gold-extra directory is a data set (g2pL): train on its train split, score its dev
    # split at each eval, and hold its dev and test splits out as --held-out is.
    sets = {p.name: marked_set(p) for p in config.gold_extra if p.is_dir()}
    extra_stems = [p for p in config.gold_extra if not p.is_dir()]
    extra_stems += [stems["train"] for stems in sets.values()]
    held_out = list(config.held_out)
    held_out += [stems[split] for stems in sets.values() for split in ("dev", "test")]
    guard = NgramGuard(s for stem in held_out for s, _, _ in read_marked(stem))
    records = _clauses(config.data_dir, "train", config.sources, guard, config.train_examples)
    counts = {}  # per gold file: sentences kept, and dropped for sharing 10 hanzi with held-out
    gold, extra = [], []
    sources = [(config.gold, gold)] if config.gold else []
    for stem, into in sources + [(stem, extra) for stem in extra_stems]:
        kept, dropped = guard.split(read_marked(stem))
        into += kept
        counts[str(stem)] = {"kept": len(kept), "dropped": dropped}
        print(f"{stem}: {len(kept)} marked sentences kept, {dropped} dropped (sharing 10 "
              "hanzi with held-out ones)", file=sys.stderr, flush=True)
    seen = {(c, r) for rec in records for c, r in zip(rec["text"], rec["tone3"]) if r}
    seen |= {(s[at], r) for s, at, r in gold + extra}
    table = start[2] if start else ReadingTable.build(vocab.hanzi, seen)
    model = (start[0] if start else G2PModel(encoder, vocab, table)).train()
    max_len = encoder.config.max_len

    examples = [ex for rec in records for ex in record_examples(rec, vocab, table, max_len)]
    del records
    dev_records = _clauses(config.data_dir, "dev", config.sources, None)
    corpus_dev = spread([ex for rec in dev_records
                         for ex in record_examples(rec, vocab, table, max_len)],
                        config.eval_examples)
    eval_set = G2PDataset(corpus_dev)
    if gold:
        # Every k-th sentence is dev: CPP's files are sorted by hanzi, so a block would be
        # hanzi the training part never shows.
        dev_at = set(range(0, len(gold), max(1, len(gold) // config.gold_dev))
                     if config.gold_dev else ())
        gold_train, _ = marked_examples([g for i, g in enumerate(gold) if i not in dev_at],
                                        vocab, table, max_len)
        gold_dev, _ = marked_examples([g for i, g in enumerate(gold) if i in dev_at],
                                      vocab, table, max_len)
        examples += gold_train * config.gold_repeat
        # Two dev sets: the gold one (eval_dev_*) picks the best checkpoint.
        eval_set = {"dev": G2PDataset(gold_dev), "corpus": eval_set}
    if extra:
        extra_examples, skipped = marked_examples(extra, vocab, table, max_len)
        examples += extra_examples * config.gold_extra_repeat
        counts["extra_skipped"] = skipped  # a hanzi outside the vocabulary, or its reading
    for name, stems in sets.items():
        dev = spread(read_marked(stems["dev"]), config.eval_examples)
        dev_examples = marked_examples(dev, vocab, table, max_len)[0]
        if not isinstance(eval_set, dict):
            # Without --gold, the (first) data set's dev split picks the best checkpoint.
            eval_set = {"dev": G2PDataset(dev_examples), "corpus": eval_set}
            continue
        if gold:
            # The picker pools --gold's held-back part ("gold" alone) and as many sentences
            # of each data set's dev split: CPP's Wikipedia alone chose for Wikipedia only.
            eval_set.setdefault("gold", eval_set["dev"])
            eval_set["dev"] = G2PDataset(eval_set["dev"].examples
                                         + spread(dev_examples, len(gold_dev)))
        eval_set[name] = G2PDataset(dev_examples)
    if not examples:
        raise ValueError(f"{config.data_dir}: no G2P training examples"
                         + sources_hint(config.data_dir))

    def save(best, run_dir: Path, training: dict):
        save_g2p(best, vocab, table, run_dir / "model", training={**training, "gold": counts})

    return Recipe(model, G2PDataset(examples), eval_set, G2PCollator(), save)
