"""Train a pinyin -> hanzi Transformer from scratch and serve it as a conversion engine.

`from pinyin_hanzi import Converter` is the inference API (runtime/converter.py), and
`Transcriber` its hanzi -> pinyin sibling (runtime/transcriber.py); the rest of
the package is the pipeline: data/ -> vocab -> model/objectives -> train -> lm/ -> decode/ ->
runtime/ (docs/ARCHITECTURE.md).
"""

__version__ = "0.1.0"


def __getattr__(name):
    # Lazy, so `import pinyin_hanzi` (and the CLI's --help) does not import torch.
    if name == "Converter":
        from .runtime.converter import Converter

        return Converter
    if name == "Transcriber":
        from .runtime.transcriber import Transcriber

        return Transcriber
    raise AttributeError(f"module 'pinyin_hanzi' has no attribute {name!r}")
