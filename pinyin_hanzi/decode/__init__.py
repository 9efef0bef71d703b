"""Per-position encoder scores -> ranked whole-clause candidates.

A decoder is built once from its vocabulary, language models and `DecodeConfig`, then
`decode(syllables, scores, top_k)` answers per clause: `BeamDecoder` (beam.py) over each
position's best hanzi, with the character n-gram fused when it has a weight; `LatticeDecoder`
(lattice.py, compiled search in _lattice.pyx) over a lattice of lexicon words and single hanzi
scored by the word model too. `make_decoder` picks the one a config asks for; tune.py chooses
the weights on dev text; hmm.py is the n-gram HMM baseline, which needs no encoder.
"""

from .config import Candidate, DecodeConfig
from .beam import BeamDecoder
from .lattice import LatticeDecoder


def make_decoder(vocab, config: DecodeConfig, word_lm=None, char_lm=None):
    """The decoder `config` asks for: over the word lattice when it weights the word model,
    else a beam search (fusing the character n-gram when it weights it)."""
    if config.word_weight:
        return LatticeDecoder(vocab, word_lm, char_lm, config)
    return BeamDecoder(vocab, char_lm, config)


__all__ = ["BeamDecoder", "Candidate", "DecodeConfig", "LatticeDecoder", "make_decoder"]
