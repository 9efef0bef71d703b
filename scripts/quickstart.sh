#!/usr/bin/env bash
# The main job on the built-in corpora, sized to finish in under 30 minutes on 2 CPU cores:
# prepare -> pretrain -> fine-tune -> decoding language models (character n-gram, word lexicon
# + bigram, weights tuned on dev) -> evaluate on the public benchmarks -> plot -> convert.
# The shipped default model was trained the same way with more steps (dev/EXPERIMENTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PH=.venv/bin/pinyin-hanzi
RUNS=${RUNS:-runs/quickstart}
BENCH=${PINYIN_HANZI_BENCH_DIR:-bench/data}
PRETRAIN_STEPS=${PRETRAIN_STEPS:-400}
FINETUNE_STEPS=${FINETUNE_STEPS:-1200}

[ -f "$RUNS/data/manifest.json" ] || $PH prepare --out "$RUNS/data"
$PH pretrain --data "$RUNS/data" --out "$RUNS/pretrain" --sources pd98,reviews \
  --max-steps "$PRETRAIN_STEPS" --eval-steps $(( (PRETRAIN_STEPS + 1) / 2 ))
$PH finetune --data "$RUNS/data" --out "$RUNS/finetune" --init "$RUNS/pretrain/model" \
  --max-steps "$FINETUNE_STEPS" --eval-steps $(( (FINETUNE_STEPS + 2) / 3 ))
$PH lm --model "$RUNS/finetune/model" --data "$RUNS/data" --dev-clauses "${DEV_CLAUSES:-300}"
if ls "$BENCH"/*.tsv >/dev/null 2>&1; then
  $PH evaluate --model "$RUNS/finetune/model" $(printf -- '--data %s ' "$BENCH"/*.tsv)
else
  echo "no benchmark files in $BENCH: evaluating on the held-out test split instead"
  .venv/bin/python -m pinyin_hanzi.data.export_tsv "$RUNS/data" test "$RUNS/test.tsv"
  $PH evaluate --model "$RUNS/finetune/model" --data "$RUNS/test.tsv"
fi
$PH plot "$RUNS/finetune"
echo "ni hao
wo men dou shi zhong guo ren
jin tian tian qi hen hao" | $PH convert --model "$RUNS/finetune/model" --top-k 3
