"""Train a pinyin -> hanzi Transformer from scratch and serve it as a conversion engine.

`from pinyin_hanzi import Converter` is the inference API (api.py); the rest of the package is
the pipeline: data/ -> vocab -> model/objectives -> train -> decode/evaluate (docs/ARCHITECTURE.md).
"""

__version__ = "0.1.0"


def __getattr__(name):
    # Lazy, so `import pinyin_hanzi` (and the CLI's --help) does not import torch.
    if name == "Converter":
        from .api import Converter

        return Converter
    raise AttributeError(f"module 'pinyin_hanzi' has no attribute {name!r}")
