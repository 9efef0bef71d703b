#!/usr/bin/env bash
# Issue 5's measurements, end to end (dev/EXPERIMENTS.md "Adaptation"). Each step is skipped
# when its output exists, so running it again resumes where it stopped.
#
#   DATA=runs/data OUT=runs/exp5 bash dev/adaptation_experiments.sh [adapt|curve|all]
#
# adapt: a news-only starting model (People's Daily only: it has seen neither reviews nor
#        poetry), adapted to 1k / 10k reviews and to 5k Tang poems with full, freeze and lora,
#        80 % of every batch replayed from People's Daily (SHARE); every model scored on the
#        domain's test and on pd98_test. Then (session 4) 20k poems for 7,000 steps at half
#        replay, models interpolated toward the start (finetune --interpolate), and the whole
#        engine: each model with language models fitted on its training text.
# curve: pretraining (reviews + poetry raw text) vs none, fine-tuned on 1k .. all news clauses.
set -euo pipefail
DATA=${DATA:-runs/data}
OUT=${OUT:-runs/exp5}
BENCH=${BENCH:-bench/data}
STEPS=${STEPS:-600}  # adaptation steps
CURVE_STEPS=${CURVE_STEPS:-400}  # fine-tuning steps of each point of the curve
SHARE=${SHARE:-0.8}  # share of People's Daily in the adaptation batches
WHAT=${1:-all}
mkdir -p "$OUT/eval"

timed() {  # timed RUN_DIR command...: runs it unless RUN_DIR is done; wall seconds in RUN_DIR
  local run=$1; shift
  if [ -e "$run/wall_seconds" ]; then return; fi
  local start=$SECONDS
  "$@" > "$run.log" 2>&1
  echo $((SECONDS - start)) > "$run/wall_seconds"
}

score() {  # score NAME TEST.tsv MODEL_DIR [ADAPTER]: encoder-only beam, top-5
  local out="$OUT/eval/$1.$(basename "$2" .tsv).json"
  [ -e "$out" ] && return
  pinyin-hanzi evaluate --model "$3" ${4:+--adapter "$4"} --backend torch --data "$2" \
    --json "$out" > /dev/null
}

[ -e "$OUT/tang_test.tsv" ] || python dev/domain_texts.py "$DATA" "$OUT"

if [ "$WHAT" != curve ]; then
  mkdir -p "$OUT/news"
  timed "$OUT/news" pinyin-hanzi finetune --data "$DATA" --sources pd98 --out "$OUT/news" \
    --max-steps 3000 --warmup-steps 300 --eval-steps 500 --patience 0
  score news "$BENCH/pd98_test.tsv" "$OUT/news/model"
  score news "$BENCH/reviews_test.tsv" "$OUT/news/model"
  score news "$OUT/tang_test.tsv" "$OUT/news/model"
  declare -A LR=([full]=5e-4 [freeze]=1e-3 [lora]=2e-3)
  for text in reviews_1k.txt reviews_10k.txt tang_5k.jsonl; do
    test=$BENCH/reviews_test.tsv
    [ "${text%%_*}" = tang ] && test=$OUT/tang_test.tsv
    for method in full freeze lora; do
      run=$OUT/${text%.*}-$method
      mkdir -p "$run"
      timed "$run" pinyin-hanzi finetune --init "$OUT/news/model" --text "$OUT/$text" \
        --method "$method" --general "$DATA" --general-sources pd98 --general-share "$SHARE" \
        --out "$run" --max-steps "$STEPS" --warmup-steps 50 --eval-steps 200 --patience 0 \
        --lr "${LR[$method]}"
      if [ "$method" = lora ]; then
        score "$(basename "$run")" "$test" "$OUT/news/model" "$run/adapter"
        score "$(basename "$run")" "$BENCH/pd98_test.tsv" "$OUT/news/model" "$run/adapter"
      else
        score "$(basename "$run")" "$test" "$run/model"
        score "$(basename "$run")" "$BENCH/pd98_test.tsv" "$run/model"
      fi
    done
  done
  for test in "$BENCH/pd98_test.tsv" "$BENCH/reviews_test.tsv" "$OUT/tang_test.tsv"; do
    score shipped "$test" pinyin_hanzi/assets/default_model  # its LMs too: full decoding
  done

  # Poems need far more steps than 600: 20k poems, half of each batch replayed, 3,000 steps,
  # then 4,000 more from there at a lower lr.
  poems=(--text "$OUT/tang_20k.jsonl" --method full --general "$DATA" --general-sources pd98
         --general-share 0.5 --warmup-steps 100 --patience 0)
  run=$OUT/tang_20k-full
  mkdir -p "$run" "${run}2"
  timed "$run" pinyin-hanzi finetune --init "$OUT/news/model" "${poems[@]}" --out "$run" \
    --max-steps 3000 --eval-steps 500 --lr 5e-4
  timed "${run}2" pinyin-hanzi finetune --init "$run/model" "${poems[@]}" --out "${run}2" \
    --max-steps 4000 --eval-steps 1000 --lr 3e-4
  for name in tang_20k-full tang_20k-full2; do
    score $name "$OUT/tang_test.tsv" "$OUT/$name/model"
    score $name "$BENCH/pd98_test.tsv" "$OUT/$name/model"
  done

  # Distillation toward the start on the replayed news clauses (finetune --distill 1 and 3).
  for weight in 1 3; do
    run=$OUT/reviews_10k-full-distill${weight#1}
    mkdir -p "$run"
    timed "$run" pinyin-hanzi finetune --init "$OUT/news/model" --text "$OUT/reviews_10k.txt" \
      --method full --general "$DATA" --general-sources pd98 --general-share "$SHARE" \
      --out "$run" --max-steps "$STEPS" --warmup-steps 50 --eval-steps 200 --patience 0 \
      --lr "${LR[full]}" --distill "$weight"
    score "$(basename "$run")" "$BENCH/reviews_test.tsv" "$run/model"
    score "$(basename "$run")" "$BENCH/pd98_test.tsv" "$run/model"
  done

  # Distillation at weight 3 for twice the steps: the review gain grows, news holds.
  run=$OUT/reviews_10k-full-distill3-1200
  mkdir -p "$run"
  timed "$run" pinyin-hanzi finetune --init "$OUT/news/model" --text "$OUT/reviews_10k.txt" \
    --method full --general "$DATA" --general-sources pd98 --general-share "$SHARE" \
    --out "$run" --max-steps $((2 * STEPS)) --warmup-steps 50 --eval-steps 400 --patience 0 \
    --lr "${LR[full]}" --distill 3
  score "$(basename "$run")" "$BENCH/reviews_test.tsv" "$run/model"
  score "$(basename "$run")" "$BENCH/pd98_test.tsv" "$run/model"

  # Interpolated toward the start: what `finetune --interpolate W` saves, from the runs above.
  for spec in reviews_10k-full:0.5:reviews_test reviews_10k-full:0.7:reviews_test \
              reviews_10k-full:0.85:reviews_test reviews_10k-full-distill:0.85:reviews_test \
              tang_20k-full2:0.5:tang_test tang_20k-full2:0.7:tang_test; do
    IFS=: read -r name weight test <<< "$spec"
    blend=$OUT/wise/${name}_$weight
    [ -e "$blend/model.safetensors" ] || python dev/interpolate_models.py \
      "$OUT/news/model" "$OUT/$name/model" "$weight" "$blend"
    test=$BENCH/$test.tsv
    [ "$test" = "$BENCH/tang_test.tsv" ] && test=$OUT/tang_test.tsv
    score "wise_$(basename "$blend")" "$test" "$blend"
    score "wise_$(basename "$blend")" "$BENCH/pd98_test.tsv" "$blend"
  done

  # The whole engine, as an input method ships it: the encoder plus the character n-gram and
  # word model fitted (`lm`) on its own training text, People's Daily (+ the same 20k poems),
  # with the pypinyin/jieba word lists; full decoding.
  [ -e "$OUT/engine_data/manifest.json" ] || pinyin-hanzi prepare --sources pd98,lexicon \
    --text "$OUT/tang_20k.jsonl" --out "$OUT/engine_data" > "$OUT/engine_data.log" 2>&1
  for spec in news:news/model:pd98 tang:tang_20k-full2/model:pd98,user; do
    IFS=: read -r name model sources <<< "$spec"
    engine=$OUT/engine/$name
    if [ ! -e "$engine/decode.json" ]; then
      rm -rf "$engine" && mkdir -p "$OUT/engine" && cp -r "$OUT/$model" "$engine"
      pinyin-hanzi lm --model "$engine" --data "$OUT/engine_data" --sources "$sources" \
        > "$engine.lm.log" 2>&1
    fi
    score "engine_$name" "$OUT/tang_test.tsv" "$engine"
    score "engine_$name" "$BENCH/pd98_test.tsv" "$engine"
  done
fi

if [ "$WHAT" != adapt ]; then
  mkdir -p "$OUT/pretrain" "$OUT/curve"
  timed "$OUT/pretrain" pinyin-hanzi pretrain --data "$DATA" --sources reviews,tang,songci \
    --out "$OUT/pretrain" --max-steps 1000 --warmup-steps 100 --eval-steps 500
  for n in 1000 10000 100000 0; do
    for init in scratch pretrained; do
      run=$OUT/curve/$init-$n
      mkdir -p "$run"
      from=()
      [ "$init" = pretrained ] && from=(--init "$OUT/pretrain/model")
      timed "$run" pinyin-hanzi finetune --data "$DATA" --sources pd98 --train-examples "$n" \
        "${from[@]}" --out "$run" --max-steps "$CURVE_STEPS" --warmup-steps 40 --eval-steps 200 \
        --patience 0
    done
  done
fi
python bench/adaptation.py --out "$OUT"
