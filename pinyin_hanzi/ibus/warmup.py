"""Warming the converter at engine start, so that no key the user types is the first.

Measured on the shipped model, cold: the first key of a session took up to 160 ms, the first
key after a commit (the first conversion with a left context) 240-660 ms. Typing a few inputs
key by key through a throwaway Session, committing between them so the later ones convert
after a context, runs each of those paths once (about 1 s); bench/ibus.py measures the keys.
"""

from __future__ import annotations

import logging
import time

from ..pinyin import PinyinError
from ..runtime.converter import Converter
from ..runtime.session import Session
from ..spelling import InputOptions

log = logging.getLogger(__name__)

# Whole, unfinished and abbreviated pinyin, each typed after a commit but the first.
WARM_INPUTS = ("nihao", "zhongguorenmin", "zgrm", "women", "xian", "shijie")


def warm(converter: Converter, options: InputOptions) -> float:
    """Type WARM_INPUTS into a throwaway session; returns the seconds it took."""
    start = time.perf_counter()
    session = Session(converter, options=options)
    for text in WARM_INPUTS:
        for end in range(1, len(text) + 1):
            session.keys = text[:end]
            try:
                session.candidates()
            except PinyinError:
                pass
        if session.candidates():
            session.select(0)  # the whole input: a commit, so the next one has a context
        session.reset()
    seconds = time.perf_counter() - start
    log.info("converter warmed in %.2f s", seconds)
    return seconds
