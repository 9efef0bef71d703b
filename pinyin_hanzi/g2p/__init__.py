"""Hanzi -> pinyin (G2P): the other direction of the articles' pinyin model.

    readings.py   each hanzi's readings with tone (tone3, 5 = neutral), the reading vocabulary
    model.py      the encoder read on hanzi, one reading out per polyphonic hanzi
    data.py       training examples: corpus labels (pypinyin + phrases) and gold marked sentences
    notation.py   tone3 -> pypinyin's other styles, tone sandhi of 一/不
The runtime object is runtime/transcriber.Transcriber.
"""
