#!/usr/bin/env bash
# Score a newly trained encoder as it would ship: stored in fp16 with the shipped language
# models (their weights re-tuned for it on the mixed-domain dev set), exported to the int8
# graph, then every benchmark file beside libime. Usage (from the repository root, on core 1):
#   sh dev/score_candidate.sh runs/deep6/model runs/deep6_ship
set -euo pipefail
SRC=$1; OUT=$2
PH=".venv/bin/pinyin-hanzi"
rm -rf "$OUT.tmp" "$OUT"
.venv/bin/python - "$SRC" "$OUT.tmp" <<'PY'
import json, sys
from pathlib import Path
from pinyin_hanzi.checkpoint import DECODE_FILE, NGRAM_FILE, WORDLM_FILE, load_model, save_model
from pinyin_hanzi.runtime.converter import DEFAULT_MODEL
src, out = Path(sys.argv[1]), Path(sys.argv[2])
model, vocab = load_model(src)
save_model(model, vocab, out, precision="fp16",
           training=json.loads((src / "training.json").read_text()),
           extra_files=[DEFAULT_MODEL / n for n in (NGRAM_FILE, WORDLM_FILE, DECODE_FILE)])
PY
mv "$OUT.tmp" "$OUT"
export OMP_NUM_THREADS=1
$PH lm --model "$OUT" --data runs/data_all --dev-clauses 300 --tune-only \
  --sources pd98,reviews,fiction,ted,hk,tatoeba,dictionary,manpages,lohelp,kernel
$PH export --model "$OUT"
rm -f "$OUT/model.onnx"  # only the int8 graph ships
du -sh "$OUT"
.venv/bin/python bench/accuracy.py --model "$OUT" --orders '' --peers /tmp/peers --no-write
