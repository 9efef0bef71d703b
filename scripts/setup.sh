#!/usr/bin/env bash
# Creates .venv with the pinned dependencies and the package, and fetches the poetry corpus
# (npm package chinese-poetry) into .cache/corpora. Safe to run again: it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch is pinned in requirements.txt: an unpinned torch would pull a multi-GB CUDA build.
.venv/bin/python -m pip install -q -r requirements-dev.txt
.venv/bin/python -m pip install -q --no-deps -e .

mkdir -p .cache/corpora
if [ ! -f .cache/corpora/chinese-poetry-2.0.1.tgz ]; then
  (cd .cache/corpora && npm pack --silent chinese-poetry@2.0.1 >/dev/null)
fi
echo "setup done: $(.venv/bin/python -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)')"
