#!/usr/bin/env bash
# Score a newly trained encoder as it would ship: stored in fp16 with a directory's language
# models (the shipped ones by default; their weights re-tuned for it on the mixed-domain dev
# set), exported to the int8 graph, then every benchmark file beside libime. Usage (from the
# repository root, on core 1):
#   bash dev/score_candidate.sh ENCODER OUT [LM_DIR] [DATA] [TUNE_SOURCES]
#   bash dev/score_candidate.sh runs/deep6/model runs/deep6_ship
#   bash dev/score_candidate.sh runs/modern/model runs/cand31 runs/lm_all runs/data_modern \
#     "$(cat runs/lm_all_sources.txt)"
# SCORE=0 skips the accuracy run (build and tune only).
set -euo pipefail
SRC=$1; OUT=$2
LMS=${3:-pinyin_hanzi/assets/default_model}
DATA=${4:-runs/data_all}
SOURCES=${5:-pd98,reviews,fiction,ted,hk,tatoeba,dictionary,manpages,lohelp,kernel}
PH=".venv/bin/pinyin-hanzi"
rm -rf "$OUT.tmp" "$OUT"
.venv/bin/python - "$SRC" "$OUT.tmp" "$LMS" <<'PY'
import json, sys
from pathlib import Path
from pinyin_hanzi.checkpoint import DECODE_FILE, NGRAM_FILE, WORDLM_FILE, load_model, save_model
src, out, lms = (Path(p) for p in sys.argv[1:4])
model, vocab = load_model(src)
save_model(model, vocab, out, precision="fp16",
           training=json.loads((src / "training.json").read_text()),
           extra_files=[lms / n for n in (NGRAM_FILE, WORDLM_FILE, DECODE_FILE)])
PY
mv "$OUT.tmp" "$OUT"
export OMP_NUM_THREADS=1
$PH lm --model "$OUT" --data "$DATA" --dev-clauses 300 --tune-only --sources "$SOURCES"
$PH export --model "$OUT"
rm -f "$OUT/model.onnx"  # only the int8 graph ships
du -sh "$OUT"
if [ "${SCORE:-1}" = 1 ]; then
  .venv/bin/python bench/accuracy.py --model "$OUT" --data "$DATA" --orders '' \
    --peers /tmp/peers --no-write
fi
