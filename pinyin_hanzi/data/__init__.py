"""Data pipeline: sources -> clean -> dedup -> decontaminate -> annotate -> split -> augment (prepare.py runs it)."""
