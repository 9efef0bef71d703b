"""`python -m pinyin_hanzi.ibus`: the engine process (main.py)."""

import sys

from .main import main

sys.exit(main())
