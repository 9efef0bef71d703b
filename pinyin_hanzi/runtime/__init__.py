"""What serves a trained model: the encoder backends (encoders.py, compiled head in _head.pyx),
the `Converter` that loads a model directory and turns typed pinyin into candidates
(converter.py), the HTTP service and web input method (server.py, web/), and the fitting of a
model directory's language models (fit_lms.py). Only this package and cli.py load model
directories for inference."""
