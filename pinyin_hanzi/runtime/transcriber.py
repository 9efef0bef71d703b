"""Transcriber: hanzi -> pinyin, the Converter's sibling.

    from pinyin_hanzi import Transcriber
    g2p = Transcriber.load()                      # the shipped default G2P model
    g2p.pinyin("银行行长")                         # -> ['yin2', 'hang2', 'hang2', 'zhang3']
    g2p.pinyin("重要", style="tone")               # -> ['zhòng', 'yào']

A hanzi with one reading gets it from the reading table; the model (g2p/model.py, run as the
exported int8 graph on onnxruntime, or in PyTorch if there is no export) decides the
polyphones of each run of hanzi, reading the whole run; a hanzi outside the model's
vocabulary gets pypinyin's reading. 一 and 不 are given their citation tones (yi1, bu4) unless
`sandhi=True`. What is not hanzi is handled by `errors`, as in pypinyin: "default" keeps each
run of it as one item, "ignore" drops it, "replace" writes its code points in hex, "strict"
raises PinyinError naming the first run of it that is not whitespace.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from ..checkpoint import INT8_FILE, ModelDirError, read_model_meta
from ..data.annotate import _TONE_DIGIT, annotate
from ..data.clean import HANZI_RUN
from ..files import read_arrays, save_arrays
from ..g2p.model_dir import FORMAT, read_table
from ..g2p.notation import STYLES, sandhi, styled
from ..pinyin import PinyinError
from ..vocab import in_gb2312

DEFAULT_G2P = Path(__file__).parents[1] / "assets" / "default_g2p"
READING_HEAD_FILE = "g2p.head.npz"
READING_HEAD_FORMAT = "pinyin-hanzi-reading-head/1"
ERRORS = ("default", "ignore", "replace", "strict")
CITATION = {"一": "yi1", "不": "bu4"}
MAX_TEXT_CHARS = 100_000
BATCH = 64
EDGE = 8  # a long run is read in windows; each hanzi takes the window it is furthest inside


class ReadingHead:
    """The reading output layer (float32 rows, one per reading, and a bias)."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray):
        if weight.ndim != 2 or bias.shape != (len(weight),):
            raise ValueError("a reading head is rows (n_readings, d_model) and a bias per row")
        self.weight = np.ascontiguousarray(weight, dtype=np.float32)
        self.bias = bias.astype(np.float32)

    def save(self, path: Path):
        save_arrays(path, READING_HEAD_FORMAT, {"weight": self.weight.astype(np.float16),
                                                "bias": self.bias})

    @classmethod
    def load(cls, path: Path, n_readings: int, d_model: int) -> "ReadingHead":
        with read_arrays(path, READING_HEAD_FORMAT, "reading head",
                         missing_hint=" (re-run `pinyin-hanzi export`)") as data:
            head = cls(np.asarray(data["weight"]), np.asarray(data["bias"]))
        if head.weight.shape != (n_readings, d_model):
            raise ValueError(f"{path}: reading head of shape {head.weight.shape}, the model "
                             f"has {n_readings} readings of width {d_model}")
        return head

    def slots(self, hidden: np.ndarray, choices: np.ndarray) -> np.ndarray:
        """(N, d) states, (N, K) reading ids (-1 padded) -> the best slot of each (N,)."""
        safe = np.maximum(choices, 0)
        logits = np.einsum("nd,nkd->nk", hidden, self.weight[safe]) + self.bias[safe]
        return np.where(choices < 0, -np.inf, logits).argmax(axis=1)


class Transcriber:
    def __init__(self, run_hidden, vocab, table, max_len: int, head: ReadingHead | None = None,
                 label: str = ""):
        """`run_hidden(ids, mask)`: hanzi indices (vocab.hanzi_id) -> hidden states, or None
        with a torch `head` given as the model itself (see `load`)."""
        self.run_hidden, self.head = run_hidden, head
        self.vocab, self.table, self.max_len, self.label = vocab, table, max_len, label
        self.choices = table.choice_array(vocab.hanzi)
        self._single = {c: table.readings[ids[0]] for c, ids in table.choices.items()
                        if len(ids) == 1}

    @classmethod
    def load(cls, model_dir: Path | None = None, backend: str = "auto",
             threads: int | None = None) -> "Transcriber":
        """A G2P model directory (default: the shipped one). backend "onnx" runs its
        model.int8.onnx, "torch" its model.safetensors, "auto" the first that exists."""
        model_dir = Path(model_dir) if model_dir else DEFAULT_G2P
        if backend not in ("auto", "onnx", "torch"):
            raise ValueError(f"backend must be auto, onnx or torch, got {backend!r}")
        if backend == "auto":
            backend = "onnx" if (model_dir / INT8_FILE).is_file() else "torch"
        if backend == "torch":
            return cls._load_torch(model_dir, threads)
        fields, vocab = read_model_meta(model_dir, INT8_FILE, READING_HEAD_FILE, format=FORMAT)
        table = read_table(model_dir)
        try:
            head = ReadingHead.load(model_dir / READING_HEAD_FILE, len(table.readings),
                                    int(fields["d_model"]))
        except ValueError as e:
            raise ModelDirError(str(e)) from None
        from .encoders import OnnxEncoder

        encoder = OnnxEncoder(model_dir / INT8_FILE, threads=threads or 1)
        return cls(encoder, vocab, table, int(fields["max_len"]), head,
                   label=f"{model_dir.name} (onnxruntime)")

    @classmethod
    def _load_torch(cls, model_dir: Path, threads: int | None) -> "Transcriber":
        import torch

        from ..g2p.model import load_g2p

        model, vocab, table = load_g2p(model_dir)
        if threads:
            torch.set_num_threads(threads)
        offset = model.hanzi_offset

        def run_hidden(ids, mask):
            with torch.inference_mode():
                return model.encoder.hidden(torch.from_numpy(ids + offset),
                                            torch.from_numpy(mask)).numpy()

        head = ReadingHead(model.head.weight.detach().numpy(), model.head.bias.detach().numpy())
        return cls(run_hidden, vocab, table, model.config.max_len, head,
                   label=f"{model_dir.name} (torch)")

    # -- the API -------------------------------------------------------------------------

    def pinyin(self, text: str, style: str = "tone3", sandhi: bool = False,
               errors: str = "default") -> list[str]:
        """One reading per hanzi of `text` (see the module docstring for the rest)."""
        return self.pinyin_many([text], style, sandhi, errors)[0]

    def pinyin_many(self, texts: list[str], style: str = "tone3", sandhi: bool = False,
                    errors: str = "default") -> list[list[str]]:
        """`pinyin` of each text, their runs of hanzi read in shared batches."""
        if style not in STYLES:
            raise ValueError(f"style must be one of {', '.join(STYLES)}, got {style!r}")
        if errors not in ERRORS:
            raise ValueError(f"errors must be one of {', '.join(ERRORS)}, got {errors!r}")
        if isinstance(texts, str):
            raise TypeError("pinyin_many takes a list of texts; pinyin takes one")
        texts = list(texts)  # a generator was read up by the checks below: no answers at all
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"text must be a string, got {type(text).__name__}")
            if len(text) > MAX_TEXT_CHARS:
                raise PinyinError(f"text of {len(text)} characters is longer than "
                                  f"{MAX_TEXT_CHARS}", MAX_TEXT_CHARS, text[MAX_TEXT_CHARS:][:20])
        pieces = [self._pieces(text, errors) for text in texts]
        runs = [p for ps in pieces for p in ps if p[0]]
        readings = self._read_runs([run for _, run in runs])
        for (_, run), got in zip(runs, readings):
            got[:] = self._finish(run, got, sandhi)
        found = iter(readings)
        out = []
        for ps in pieces:
            items: list[str] = []
            for is_hanzi, piece in ps:
                if is_hanzi:
                    items += [styled(r, style) for r in next(found)]
                elif errors == "default":
                    items.append(piece)
                elif errors == "replace":
                    items.append("".join(f"{ord(c):x}" for c in piece))
            out.append(items)
        return out

    # -- the work ------------------------------------------------------------------------

    @staticmethod
    def _pieces(text: str, errors: str) -> list[tuple[bool, str]]:
        """text -> [(is_hanzi_run, piece)] in order; "strict" refuses what is not hanzi."""
        out, at = [], 0
        for match in HANZI_RUN.finditer(text):
            if match.start() > at:
                out.append((False, text[at:match.start()]))
            out.append((True, match.group()))
            at = match.end()
        if at < len(text):
            out.append((False, text[at:]))
        if errors == "strict":
            bad = next((p for h, p in out if not h and p.strip()), None)
            if bad is not None:
                raise PinyinError(f"{bad[:20]!r} at {text.find(bad)} is not hanzi "
                                  f"(errors='strict')", text.find(bad), bad)
            return [(h, p) for h, p in out if h]  # whitespace is no error, and no item
        return [(h, p) for h, p in out if h or errors != "ignore"]

    def _finish(self, run: str, readings: list[str], spoken: bool) -> list[str]:
        readings = [CITATION.get(c, r) if r in ("yi2", "yi4", "bu2") else r
                    for c, r in zip(run, readings)]
        return sandhi(run, readings) if spoken else readings

    def _read_runs(self, runs: list[str]) -> list[list[str]]:
        """Each run's readings: the table's single readings, the model's choice for the
        polyphones, pypinyin's for hanzi outside the vocabulary. Traditional text is read
        through simplified stand-ins (`_stand_ins`)."""
        hanzi_id, single = self.vocab.hanzi_id, self._single
        owns, contexts = zip(*map(self._stand_ins, runs)) if runs else ((), ())
        out, windows = [], []  # windows: (run index, start, end, first kept, end kept)
        for r, (run, own) in enumerate(zip(runs, owns)):
            readings = [single.get(c) or single.get(o) for c, o in zip(run, own)]
            out.append(readings)
            if any(x is None and o in hanzi_id for x, o in zip(readings, own)):
                windows += self._windows(r, len(run))
        self._decide(owns, contexts, out, windows)
        for run, readings in zip(runs, out):
            missing = [i for i, x in enumerate(readings) if x is None]
            if missing:
                fallback = _pypinyin_readings(run)
                for i in missing:
                    readings[i] = fallback[i]
        return out

    def _stand_ins(self, run: str) -> tuple[str, str]:
        """(whose readings each hanzi of `run` takes, what the model reads there). The model
        learnt from simplified text: it read 銀行 as yin2 xing2 (银行: hang2) and 樂隊 as
        liao2 dui4. So each traditional form (vocab.traditional_forms: outside GB 2312,
        changed by OpenCC's table) is read as its simplified hanzi, one for one; and a
        polyphone among them takes that hanzi's readings when the two share two or more
        (長 as 长: chang2, zhang3), else keeps its own (閤 in 藏閤 is ge2; 合 is he2 or
        ge3). CPP dev in traditional script: 90.20 -> 98.77 % (dev/EXPERIMENTS.md, session
        19). Simplified text, GB 2312 throughout, is read as it is, without loading OpenCC."""
        if in_gb2312(run):
            return run, run
        single, choices, readings = self._single, self.table.choices, self.table.readings
        own, context = [], []
        for c in run:
            m = _simplified(c)
            context.append(m)
            shared = (m != c and c not in single and m in choices and
                      len({readings[i] for i in choices[m]} & _pypinyin_all(c)) >= 2)
            own.append(m if shared else c)
        return "".join(own), "".join(context)

    def _windows(self, r: int, n: int) -> list[tuple[int, int, int, int, int]]:
        L = self.max_len
        if n <= L:
            return [(r, 0, n, 0, n)]
        step = L - 2 * EDGE
        out = []
        for start in range(0, n - 2 * EDGE, step):
            start = min(start, n - L)
            keep_from = 0 if start == 0 else start + EDGE
            keep_to = n if start + L >= n else start + L - EDGE
            out.append((r, start, start + L, keep_from, keep_to))
            if start + L >= n:
                break
        return out

    def _decide(self, runs, contexts, out, windows):
        """Run the model over the windows of `contexts`, longest first in batches, and write
        the best reading of every polyphone of `runs` it kept."""
        hanzi_id, choices, readings = self.vocab.hanzi_id, self.choices, self.table.readings
        windows.sort(key=lambda w: w[2] - w[1])
        for b in range(0, len(windows), BATCH):
            batch = windows[b:b + BATCH]
            T = max(e - s for _, s, e, _, _ in batch)
            ids = np.zeros((len(batch), T), dtype=np.int64)
            own = np.zeros((len(batch), T), dtype=np.int64)  # the hanzi themselves
            mask = np.zeros((len(batch), T), dtype=np.int64)
            for row, (r, s, e, _, _) in enumerate(batch):
                ids[row, :e - s] = [hanzi_id.get(c, 0) for c in contexts[r][s:e]]
                own[row, :e - s] = [hanzi_id.get(c, 0) for c in runs[r][s:e]]
                mask[row, :e - s] = 1
            row_choices = choices[own]  # (B, T, K)
            want = (row_choices[..., 1] >= 0) & (mask > 0)
            for row, (r, s, _, k0, k1) in enumerate(batch):
                want[row, :k0 - s] = False
                want[row, k1 - s:] = False
            if not want.any():
                continue
            hidden = self.run_hidden(ids, mask)
            best = self.head.slots(hidden[want], row_choices[want])
            rows, cols = np.nonzero(want)
            picked = row_choices[rows, cols, best]
            for row, col, rid in zip(rows.tolist(), cols.tolist(), picked.tolist()):
                r, s = batch[row][0], batch[row][1]
                out[r][s + col] = readings[rid]


@functools.lru_cache(maxsize=4096)
def _simplified(char: str) -> str:
    """The simplified hanzi OpenCC writes for `char`; `char` itself when it is in GB 2312 or
    maps to more than one."""
    if in_gb2312(char):  # 乾 and 麽 are simplified hanzi too, which OpenCC would change
        return char
    mapped = _t2s().convert(char)
    return mapped if len(mapped) == 1 else char


@functools.lru_cache(maxsize=4096)
def _pypinyin_all(char: str) -> frozenset[str]:
    """Every reading pypinyin knows for `char` (tone3, neutral as 5)."""
    from pypinyin import Style, pinyin

    return frozenset(pinyin(char, style=Style.TONE3, heteronym=True,
                            neutral_tone_with_five=True)[0])


@functools.lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


def _pypinyin_readings(run: str) -> list[str]:
    """pypinyin's readings of a run, as `prepare` annotates (data/annotate.py); a hanzi no
    dictionary reads stays itself, as pypinyin's errors="default" keeps it."""
    _, tone3 = annotate(run)
    return [reading or char for char, reading in zip(run, tone3)]


class G2PAnnotator:
    """`prepare`'s annotator from a G2P model: clauses -> (toneless, tone3) per character, None
    where there is no reading, as data/annotate.annotate writes them. Picklable: the model is
    loaded in the process that first calls it (each `prepare` worker)."""

    def __init__(self, model_dir: Path | None = None):
        self.model_dir = Path(model_dir) if model_dir else DEFAULT_G2P
        self._transcriber: Transcriber | None = None

    def __getstate__(self):
        return {"model_dir": self.model_dir, "_transcriber": None}

    def __str__(self) -> str:
        return f"G2P model {self.model_dir}"

    def __call__(self, clauses: list[str]) -> list[tuple[list, list]]:
        if self._transcriber is None:
            self._transcriber = Transcriber.load(self.model_dir, threads=1)
        g2p = self._transcriber
        spans = [[m.span() for m in HANZI_RUN.finditer(c)] for c in clauses]
        runs = [c[a:b] for c, ss in zip(clauses, spans) for a, b in ss]
        read = iter(g2p._finish(run, got, False) for run, got in zip(runs, g2p._read_runs(runs)))
        out = []
        for clause, ss in zip(clauses, spans):
            tone3: list[str | None] = [None] * len(clause)
            for a, b in ss:
                for i, reading in enumerate(next(read), a):
                    # A hanzi no dictionary reads comes back as itself: no reading.
                    tone3[i] = reading if _TONE_DIGIT.search(reading) else None
            out.append(([None if r is None else _TONE_DIGIT.sub("", r) for r in tone3], tone3))
        return out
