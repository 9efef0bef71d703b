"""Language models the decoder fuses with the encoder: the character n-gram (ngram.py), the
word bigram over a pinyin-indexed lexicon (words.py), both stored as compact count tables
(csr.py); corpus.py reads their training text from a prepared data directory and priors.py
adds word frequencies from a larger corpus. Nothing here decodes or loads a model directory."""
