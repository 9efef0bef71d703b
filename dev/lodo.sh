#!/bin/sh
# Experiment driver (dev/EXPERIMENTS.md, session 8); run from the repository root.
# LM leave-one-domain-out with the shipped (pd98 + reviews) encoder
ALL="pd98 reviews fiction ted hk pd2013 tatoeba dictionary manpages lohelp kernel"
for X in fiction ted hk tatoeba; do
  TRAIN=$(for s in $ALL; do [ $s != $X ] && printf "%s," $s; done | sed 's/,$//')
  OMP_NUM_THREADS=1 .venv/bin/python dev/lm_sweep.py --model pinyin_hanzi/assets/default_model --train-sources $TRAIN --sources $X --variants c4w1p1 --grid "1.5:-4:0.5" --out runs/lodo.jsonl
done
OMP_NUM_THREADS=1 .venv/bin/python dev/lm_sweep.py --model pinyin_hanzi/assets/default_model --train-sources pd98,reviews,fiction,ted,hk,pd2013,tatoeba,dictionary,manpages,lohelp,kernel --sources fiction,ted,hk,tatoeba --variants c4w1p1 --grid "1.5:-4:0.5" --out runs/lodo.jsonl
