"""Deterministic, hash-based train/dev/test assignment of whole documents.

The split depends only on the document id, the seed and the fractions, never on the order of
the input or the machine, so re-running `prepare` with more data keeps old documents in place.
"""

from __future__ import annotations

import hashlib

SPLITS = ("train", "dev", "test")


def assign_split(doc: str, seed: int = 0, dev_fraction: float = 0.01,
                 test_fraction: float = 0.01) -> str:
    digest = hashlib.blake2b(f"{seed}:{doc}".encode("utf-8"), digest_size=8).digest()
    u = int.from_bytes(digest, "big") / 2**64
    if u < dev_fraction:
        return "dev"
    if u < dev_fraction + test_fraction:
        return "test"
    return "train"
