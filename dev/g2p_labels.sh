#!/usr/bin/env bash
# Issue 15's feedback: does a pinyin -> hanzi model trained on the G2P model's pinyin do better
# than one trained on pypinyin's? Prepares every source again with `prepare --g2p`, counts what
# changed, then fine-tunes the shipped model for the same steps, seed and clauses on each
# labelling and scores both with the shipped language models (decode weights unchanged) on
# the benchmarks, the held-out files and hsk_gold.tsv (HSK with its own pinyin, which neither
# annotator made). Usage, from the repository root: sh dev/g2p_labels.sh G2P_MODEL_DIR STEPS
set -euo pipefail
G2P=$1; STEPS=${2:-1500}
PH=".venv/bin/pinyin-hanzi"
SOURCES=pd98,reviews,lexicon,fiction,ted,hk,pd2013,tatoeba,dictionary,manpages,lohelp,kernel
EXCLUDE="--exclude runs/heldout/reserved.txt --exclude runs/heldout/debian_test.tsv --exclude runs/heldout/hsk_test.tsv"
[ -d runs/data_g2p ] || $PH prepare --out runs/data_g2p --sources $SOURCES $EXCLUDE --g2p "$G2P"
.venv/bin/python dev/label_diff.py runs/data_all runs/data_g2p
for labels in all g2p; do
  out=runs/labels_$labels
  [ -d $out/model ] || OMP_NUM_THREADS=1 taskset -c $([ $labels = all ] && echo 0 || echo 1) \
    $PH finetune --init pinyin_hanzi/assets/default_model --data runs/data_$labels --sources "" \
      --out $out --max-steps "$STEPS" --lr 1e-4 --warmup-steps 100 --eval-steps 500 \
      --patience 0 --seed 0 > $out.log 2>&1 &
done
wait
for labels in all g2p; do
  out=runs/labels_$labels
  .venv/bin/python - $out/model $out/ship <<'PY'
import sys, shutil
from pathlib import Path
from pinyin_hanzi.checkpoint import DECODE_FILE, NGRAM_FILE, WORDLM_FILE, load_model, save_model
from pinyin_hanzi.runtime.converter import DEFAULT_MODEL
src, out = Path(sys.argv[1]), Path(sys.argv[2])
shutil.rmtree(out, ignore_errors=True)
model, vocab = load_model(src)
save_model(model, vocab, out, precision="fp16",
           extra_files=[DEFAULT_MODEL / n for n in (NGRAM_FILE, WORDLM_FILE, DECODE_FILE)])
PY
  OMP_NUM_THREADS=1 $PH export --model $out/ship > /dev/null 2>&1
  echo "== trained on the pinyin of: $labels"
  OMP_NUM_THREADS=1 $PH evaluate --model $out/ship --threads 1 --data runs/heldout/hsk_gold.tsv \
    --data runs/heldout/hsk_test.tsv --data runs/heldout/debian_test.tsv \
    --data bench/data/pd98_test.tsv --data bench/data/reviews_test.tsv | grep -v "by length\|confusions"
done
