"""How two preparations of the same text differ in their pinyin: share of hanzi whose toneless
(and toned) reading changed, and the most frequent changes. Records are compared in order;
the texts must match. python dev/label_diff.py DATA_A DATA_B [SPLIT]"""

import sys
from collections import Counter

from pinyin_hanzi.data.records import iter_records

a, b = sys.argv[1], sys.argv[2]
split = sys.argv[3] if len(sys.argv) > 3 else "train"
hanzi = toneless = toned = clauses = changed_clauses = 0
changes: Counter = Counter()
for ra, rb in zip(iter_records(a, split), iter_records(b, split)):
    if ra["text"] != rb["text"]:
        sys.exit(f"the preparations differ in text at clause {clauses}: "
                 f"{ra['text']!r} / {rb['text']!r}")
    clauses += 1
    differs = False
    for c, pa, pb, ta, tb in zip(ra["text"], ra["pinyin"], rb["pinyin"], ra["tone3"],
                                 rb["tone3"]):
        if pa is None:
            continue
        hanzi += 1
        toned += ta != tb
        if pa != pb:
            toneless += 1
            differs = True
            changes[(c, pa, pb)] += 1
    changed_clauses += differs
print(f"{split}: {clauses} clauses, {hanzi} hanzi; toneless reading changed for {toneless} "
      f"({100 * toneless / hanzi:.2f} %) in {changed_clauses} clauses "
      f"({100 * changed_clauses / clauses:.1f} %); toned for {toned} ({100 * toned / hanzi:.2f} %)")
print("most frequent (hanzi a>b):", ", ".join(f"{c} {x}>{y}×{n}"
                                            for (c, x, y), n in changes.most_common(20)))
