#!/usr/bin/env bash
# How the shipped default model (pinyin_hanzi/assets/default_model) is trained, end to end,
# on the built-in corpora with 2 CPU cores (about 12 hours over several sessions, each phase
# resumable with --resume; dev/EXPERIMENTS.md has the log).
# Phase 1 trains from scratch; phase 2 continues from it with a fresh, lower cosine schedule;
# phase 3 continues with the lexicon's words mixed in; phases 4-5 train on every source
# (phase 5 replaying the news and reviews); then `pinyin-hanzi lm` fits the
# decoding models on the same training split (a character trigram, and the word lexicon +
# bigram) and tunes their weights on the dev split (phase 6 refits them on the modern text
# too when CORPORA is set); the encoder weights are stored in fp16
# (half the size, same accuracy) and exported to int8 ONNX for onnxruntime.
# As run for the shipped model (dev/EXPERIMENTS.md): phases 1-2 read a runs/data prepared
# without the lexicon (vocab of pd98, reviews, tang, songci), phase 3 and `lm` a copy with it;
# this script prepares one runs/data with all five sources, so its vocabulary is a little
# larger.
set -euo pipefail
cd "$(dirname "$0")/.."
PH=.venv/bin/pinyin-hanzi
PHASE2_STEPS=${PHASE2_STEPS:-5000}

[ -f runs/data/manifest.json ] || $PH prepare --out runs/data
$PH finetune --data runs/data --out runs/small --preset small --sources pd98,reviews \
  --max-steps 7000 --warmup-steps 300 --eval-steps 500 --patience 0
$PH finetune --data runs/data --out runs/small2 --init runs/small/model --sources pd98,reviews \
  --max-steps "$PHASE2_STEPS" --lr 5e-4 --warmup-steps 200 --eval-steps 1000 --patience 0
$PH finetune --data runs/data --out runs/small3 --init runs/small2/model \
  --sources pd98,reviews,lexicon --max-steps 8000 --lr 5e-4 --warmup-steps 200 \
  --eval-steps 1000 --patience 0
# Phase 4 (session 7): every source but the poems, the reserved evaluation text kept out
# (bench/heldout.py), 9,000 steps.
.venv/bin/python bench/heldout.py
[ -f runs/data_all/manifest.json ] || $PH prepare --out runs/data_all \
  --sources pd98,reviews,lexicon,fiction,ted,hk,pd2013,tatoeba,dictionary,manpages,lohelp,kernel \
  --exclude runs/heldout/reserved.txt --exclude runs/heldout/debian_test.tsv \
  --exclude runs/heldout/hsk_test.tsv
$PH finetune --data runs/data_all --out runs/general --init runs/small3/model \
  --sources pd98,reviews,lexicon,fiction,ted,hk,pd2013,tatoeba,dictionary,manpages,lohelp,kernel \
  --max-steps 9000 --lr 5e-4 --warmup-steps 200 --eval-steps 1000 --patience 0
# Phase 5 (session 8): 12,000 more steps over every source with pd98 + reviews replayed as 35 %
# of each batch (so the news and review lead stays), then the LMs on the same text (the shipped
# LMs were fit beside the phase-4 encoder and their weights re-tuned with `lm --tune-only` for
# this one: the LMs do not depend on the encoder, so this is the same result in one step).
$PH finetune --data runs/data_all --out runs/mix --init runs/general/model \
  --sources pd98,reviews,lexicon,fiction,ted,hk,pd2013,tatoeba,dictionary,manpages,lohelp,kernel \
  --general runs/data_all --general-sources pd98,reviews --general-share 0.35 \
  --max-steps 12000 --lr 3e-4 --warmup-steps 100 --eval-steps 1000 --patience 0
$PH lm --model runs/mix/model --data runs/data_all --dev-clauses 300 \
  --sources pd98,reviews,fiction,ted,hk,tatoeba,dictionary,manpages,lohelp,kernel \
  --prune 4 --word-prune 1 --prior-weight 1
.venv/bin/python - <<'PY'
from pinyin_hanzi.checkpoint import DECODE_FILE, NGRAM_FILE, WORDLM_FILE, load_model, save_model
from pinyin_hanzi.runtime.converter import DEFAULT_MODEL
import json
from pathlib import Path

src = Path("runs/mix/model")
model, vocab = load_model(src)
extra = [src / name for name in (NGRAM_FILE, WORDLM_FILE, DECODE_FILE) if (src / name).is_file()]
save_model(model, vocab, DEFAULT_MODEL, precision="fp16",
           training=json.loads((src / "training.json").read_text()), extra_files=extra)
print(f"shipped {src} -> {DEFAULT_MODEL}")
PY
$PH export --model pinyin_hanzi/assets/default_model
rm pinyin_hanzi/assets/default_model/model.onnx  # only the int8 graph ships (size budget)

# Phase 6 (session 16, issue 31): the language models refit on today's text too. CORPORA is
# the folder holding the modern-text folders (docs/DATA.md says where each comes from); the
# encoder stays (an encoder trained on ten of these sources did worse on the two it never
# saw, dev/EXPERIMENTS.md), the character 3-gram keeps 3-grams seen 7 times and the word
# bigram those seen twice, so the process stays under 100 MB.
if [ -n "${CORPORA:-}" ]; then
  MODERN=weibo_rumor_comments,weibo_hot_search,zhihu_hot_questions,tv_subtitles_dgk,xinwenlianbo
  MODERN=$MODERN,lit_essays,msdocs_zh_cn,wangdoc_javascript,kdconv,crosswoz
  OLD=pd98,reviews,lexicon,fiction,ted,hk,pd2013,tatoeba,dictionary,manpages,lohelp,kernel
  [ -f runs/data_modern/manifest.json ] || $PH prepare --out runs/data_modern \
    --sources $OLD,$MODERN --corpora "$CORPORA" --exclude runs/heldout/reserved.txt \
    --exclude runs/heldout/debian_test.tsv --exclude runs/heldout/hsk_test.tsv
  $PH lm --model pinyin_hanzi/assets/default_model --data runs/data_modern --dev-clauses 300 \
    --sources pd98,reviews,fiction,ted,hk,tatoeba,dictionary,manpages,lohelp,kernel,$MODERN \
    --prune 7 --word-prune 2 --prior-weight 1
fi
