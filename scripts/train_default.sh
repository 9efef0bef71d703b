#!/usr/bin/env bash
# How the shipped default model (pinyin_hanzi/assets/default_model) is trained, end to end,
# on the built-in corpora with 2 CPU cores (about 2 hours; docs/EXPERIMENTS.md has the log).
# Phase 1 trains from scratch; phase 2 continues from it with a fresh, lower cosine schedule;
# then a character trigram is fitted on the same training split and fused with a weight tuned
# on the dev split; the weights are stored in fp16 (half the size, same accuracy).
set -euo pipefail
cd "$(dirname "$0")/.."
PH=.venv/bin/pinyin-hanzi
PHASE2_STEPS=${PHASE2_STEPS:-5000}

[ -f runs/data/manifest.json ] || $PH prepare --out runs/data
$PH finetune --data runs/data --out runs/small --preset small --sources pd98,reviews \
  --max-steps 7000 --warmup-steps 300 --eval-steps 500 --patience 0
$PH finetune --data runs/data --out runs/small2 --init runs/small/model --sources pd98,reviews \
  --max-steps "$PHASE2_STEPS" --lr 5e-4 --warmup-steps 200 --eval-steps 1000 --patience 0
.venv/bin/python bench/fusion.py --model runs/small2/model --data runs/data --order 3 \
  --prune 2 --weights 0,0.5,0.8,1.0,1.3 --install
.venv/bin/python - <<'PY'
from pinyin_hanzi.api import DEFAULT_MODEL
from pinyin_hanzi.checkpoint import load_model, save_model
import json
from pathlib import Path

src = Path("runs/small2/model")
model, vocab = load_model(src)
save_model(model, vocab, DEFAULT_MODEL, half=True,
           training=json.loads((src / "training.json").read_text()),
           extra_files=(src / "ngram.json", src / "decode.json"))
print(f"shipped {src} -> {DEFAULT_MODEL}")
PY
