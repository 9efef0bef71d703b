"""Data pipeline: sources -> clean -> dedup -> decontaminate -> annotate -> split (prepare.py runs
it and writes records.py's records). augment.py holds the noisy-typing rewrites (abbreviated,
fuzzy and unseparated pinyin) as pure functions; prepare does not run them."""
