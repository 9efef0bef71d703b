"""Converter: the one inference object behind the CLI, the evaluation and the server.

    from pinyin_hanzi import Converter
    conv = Converter.load()                 # the shipped default model
    conv.convert("ni hao", top_k=5)         # -> [Candidate(text='你好', score=-0.01), ...]

Input may be syllables separated by spaces or apostrophes, or run together (`nihao`,
`xi'an`); invalid pinyin raises `PinyinError` (a ValueError) naming the span and position.
Input with no letters (`""`, `"  "`) has no candidates: `convert("") == []`. An input has at
most MAX_INPUT_SYLLABLES (64) syllables, and `top_k` is at most MAX_TOP_K (20): the limits
of the CLI and the service too (segment.pieces cuts longer text, as `convert` on the CLI does).
Ambiguous splits (`fangan`: fan gan / fang an) are all scored and their candidates merged.
Inputs longer than the model's window are scored in overlapping windows (`windows`), each
position taking its scores from the window where it sits furthest from an edge, so nothing is
ever truncated. The scores are decoded as the model directory's decode.json says (decode/).

`convert` is safe to call from several threads at once: the model runs under `no_grad` in
eval mode and holds no per-call state.
"""

from __future__ import annotations

import functools
import numbers
from pathlib import Path

import numpy as np

from ..checkpoint import DECODE_FILE, HEAD_FILE, INT8_FILE, NGRAM_FILE, WORDLM_FILE
from ..decode import Candidate, DecodeConfig, make_decoder
from ..pinyin import PinyinError
from ..decode.readings import ReadingSearch
from ..segment import (ABBREVIATED, FULL, ParseOptions, Segmentation, clear_segment_cache,
                       interjection_by_chance, segment)
from ..spelling import InputOptions, is_erhua, syllable_sets
from .memory import return_freed_heap

DEFAULT_MODEL = Path(__file__).parents[1] / "assets" / "default_model"
WINDOW_OVERLAP = 16
MAX_SPLITS = 3  # alternative segmentations scored per input
# Candidates per input: the decoder's beam grows with it (10,000 on 64 syllables: 6.6 s, 857 MB).
MAX_TOP_K = 20
MAX_READINGS = 6  # readings scored per abbreviated, unfinished or fuzzy input
# ... and at most this many syllables of readings in all, so that no input costs the encoder
# and the decoder more than three whole-pinyin inputs of the longest (64 syllables): six
# readings of `z`*64 were 384 syllables at every keystroke. Clauses of up to 32 keep all six.
READING_SYLLABLES = 192
# Log-prob added per syllable a fuzzy pair reads otherwise than typed: the user more likely
# typed what they meant (chosen on dev clauses of kernel, tatoeba and ted: see EXPERIMENTS).
FUZZY_SWAP_COST = -2.0
# Log-prob added per bare r after a syllable read as the initial of a cut syllable (na r as
# na ren) rather than as erhua 儿 (na er): erhua wins a near tie.
CUT_R_COST = -2.0
# Input whose letters run from a cut syllable into a whole one (hel-lo: he l lo), and whose
# best candidate then scores below this log-prob a syllable on MIN_CUT_POSITIONS or more, is
# no Chinese anyone meant: `hello world` (荷兰咯我热烈的) scored -15.9. The score alone does
# not tell: 17 of 1,000 mix30 benchmark clauses (syllables apart, 30 % cut) that were converted
# right scored lower, and random 3-letter abbreviations fell below it 8 times in 300.
MIN_CUT_SCORE, MIN_CUT_POSITIONS = -14.5, 4
# Log-prob added when the last syllable, typed whole, is read as a longer one (xian as xiang)
# because the input may be unfinished: typed whole, it more likely is finished (EXPERIMENTS).
COMPLETION_COST = -5.0
# The reading search's per-word log-prob: less pull toward few long words than the decoder's
# (-4); on dev clauses -1 read mix30 input 0.8 points better on average, fuzzy 0.2 (EXPERIMENTS).
READING_WORD_BONUS = -1.0
PADDING, PADDING_SLACK = 1.5, 2  # how unlike the lengths batched together may be
PARSE_CACHE = 32  # parses remembered (each holds its syllable graph: keep few)
SETS_CACHE = 4096  # distinct syllable sets kept, each one object shared by every parse


class Converter:
    def __init__(self, encoder, vocab, max_len: int, config: DecodeConfig | None = None,
                 word_lm=None, char_lm=None, label: str = ""):
        """`encoder`: runtime.encoders.TorchEncoder or OnnxEncoder (`log_probs` per batch);
        the language models as `config` weights them (lm/words.py, lm/ngram.py)."""
        self.encoder, self.vocab, self.max_len = encoder, vocab, max_len
        self.config = config or DecodeConfig()
        self.word_lm, self.char_lm = word_lm, char_lm
        self.label = label
        self.decoder = make_decoder(vocab, self.config, word_lm, char_lm)
        self.reading_search = (ReadingSearch(word_lm, vocab, word_bonus=READING_WORD_BONUS)
                               if word_lm is not None else None)
        # A typing session asks about the same keys more than once per keystroke.
        self.parse = functools.lru_cache(PARSE_CACHE)(self._parse)
        # One object per distinct set of syllables: each parse of a long abbreviated input
        # held its own copy per position (`z`*64: 64 sets of 36), 5 of the 13 MB that issue
        # 35's costly inputs left in the caches, and the reading search's keys hold them too.
        self._with_hanzi = functools.lru_cache(SETS_CACHE)(self._with_hanzi_uncached)

    def with_config(self, config: DecodeConfig) -> "Converter":
        """The same encoder and language models, decoding as `config` says."""
        return Converter(self.encoder, self.vocab, self.max_len, config, self.word_lm,
                         self.char_lm, self.label)

    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "cpu", backend: str = "auto",
             threads: int | None = None, adapter: str | Path | None = None,
             script: str = "simplified", memory_arena: bool = True) -> "Converter":
        """Load a model directory (default: the shipped model), optionally with a LoRA
        adapter (a `finetune --method lora` run's adapter/ directory) merged into it.

        backend: "onnx" runs model.int8.onnx on onnxruntime (no torch import), "torch" runs
        model.safetensors, "auto" picks onnx when onnxruntime is installed, the directory has
        the int8 export and the device is the CPU. threads: the encoder's thread cap (default
        runtime.encoders.DEFAULT_THREADS for onnxruntime; torch's own setting otherwise).
        script: "simplified" keeps traditional and variant forms (國 of 国) out of the
        candidates; "any" offers every hanzi the model knows. memory_arena: False gives
        onnxruntime's buffers back after each batch (a long-running service, issue 35)."""
        from ..lm.ngram import CharNgram
        from ..lm.words import WordLM
        from .encoders import OnnxEncoder, OutputHead, TorchEncoder

        model_dir = Path(path) if path is not None else DEFAULT_MODEL
        if backend not in ("auto", "onnx", "torch"):
            raise ValueError(f"backend must be auto, onnx or torch, got {backend!r}")
        if script not in ("simplified", "any"):
            raise ValueError(f"script must be simplified or any, got {script!r}")
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                    or threads < 0):  # "2" failed deep in onnxruntime
            raise ValueError(f"threads must be a whole number >= 0 (0 or None: the default), "
                             f"got {threads!r}")
        if backend == "auto":
            backend = "onnx" if (device == "cpu" and (model_dir / INT8_FILE).is_file()
                                 and (model_dir / HEAD_FILE).is_file()
                                 and _has_onnxruntime() and adapter is None) else "torch"
        if backend == "onnx" and adapter is not None:
            raise ValueError("an adapter is merged into the PyTorch weights: use backend "
                             "'torch' (or export the merged model)")
        if backend == "onnx":
            from ..checkpoint import read_model_meta

            if not _has_onnxruntime():
                raise ValueError("backend 'onnx' needs onnxruntime (pip install onnxruntime)")
            fields, vocab = read_model_meta(model_dir, INT8_FILE, HEAD_FILE)
            head = OutputHead.load(model_dir / HEAD_FILE, fields["n_hanzi"], fields["d_model"])
            encoder = OnnxEncoder(model_dir / INT8_FILE, threads, head, memory_arena)
            max_len = fields["max_len"]
        else:
            from ..checkpoint import load_model

            model, vocab = load_model(model_dir, device)
            if adapter is not None:
                from ..adapt import load_adapter

                model = load_adapter(model, model_dir, adapter)
            encoder, max_len = TorchEncoder(model, threads), model.config.max_len
        if script == "simplified":
            vocab = vocab.simplified_only()
        config_file = model_dir / DECODE_FILE
        config = DecodeConfig.read(config_file) if config_file.is_file() else DecodeConfig()
        char_lm = CharNgram.load(model_dir / NGRAM_FILE) if config.lm_weight else None
        word_lm = WordLM.load(model_dir / WORDLM_FILE) if config.word_weight else None
        label = model_dir.name + (f" + adapter {Path(adapter).parent.name}" if adapter else "")
        converter = cls(encoder, vocab, max_len, config, word_lm, char_lm,
                        label=f"{label} ({encoder.name})")
        return_freed_heap()
        return converter

    def clear_caches(self):
        """Forget what is remembered between inputs (parses and their syllable sets, the
        reading search's paths and arcs, the word model's spans, segment's chunks): a burst
        of the costliest inputs fills them with ~20 MB that stays, and, spread through the
        heap, keeps more from going back to the system (dev/EXPERIMENTS.md, sessions 17 and
        18). The next inputs fill them again."""
        self.parse.cache_clear()
        self._with_hanzi.cache_clear()
        if self.reading_search is not None:
            self.reading_search.clear()
        if self.word_lm is not None:
            self.word_lm.span_words.cache_clear()
            self.word_lm.last_word.cache_clear()
        clear_segment_cache()

    def convert(self, text: str, top_k: int = 5, options: InputOptions | None = None,
                context: str = "") -> list[Candidate]:
        """Pinyin as typed -> up to `top_k` distinct hanzi candidates, best first. `context`
        is the text before the cursor: when it ends with hanzi, the input goes on from them
        (中国 already typed: renmin -> 人民 scores as 中国人民 would)."""
        return self.convert_many([text], top_k, options=options, contexts=[context])[0]

    def _parse(self, text: str, options: InputOptions
               ) -> tuple[Segmentation, tuple[frozenset, ...]]:
        """`parse(text, options)`: `text`'s best split and, per syllable, the ones it may
        stand for that this model has hanzi for (spelling.syllable_sets); the last
        PARSE_CACHE answers are remembered. Abbreviated syllables are tried only when `text`
        is not whole pinyin, or is only by an interjection among other syllables (`nhm` as
        n hm: segment.interjection_by_chance), and only with a word model to expand them."""
        cut = options.abbreviated and self.word_lm is not None
        try:
            seg = segment(text)
        except PinyinError:
            if not cut:
                raise
            seg = None
        if seg is None or (cut and interjection_by_chance(seg)):
            seg = segment(text, None, ParseOptions(abbreviated=True))
        sets = tuple(self._with_hanzi(group) for group in syllable_sets(seg, options))
        for group, syllable, (a, b) in zip(sets, seg.syllables, seg.spans):
            if not group:
                raise PinyinError(f"no hanzi in this model reads {syllable!r} "
                                  f"(at position {a}: {text[a:b]!r})", a, text[a:b])
        return seg, sets

    def _with_hanzi_uncached(self, group: frozenset[str]) -> frozenset[str]:
        """The syllables of `group` that this model has hanzi for."""
        return frozenset(x for x in group if self.vocab.candidates.get(x))

    def readings(self, text: str, options: InputOptions) -> list[tuple[str, ...]]:
        """The syllable sequences `text` is converted as: its best split and up to
        MAX_SPLITS - 1 others as long (`fangan`: fan gan, fang an) when it is whole pinyin
        read as typed; else (cut syllables, fuzzy pairs, the last syllable unfinished) the
        MAX_READINGS (at most READING_SYLLABLES syllables in all) the word model finds
        likeliest (decode.readings)."""
        seg, sets = self.parse(text, options)
        if not seg.syllables:
            return []  # no letters: nothing to convert
        if all(group == {s} for group, s in zip(sets, seg.syllables)):
            if len(seg.syllables) == seg.normalized.count("'") + 1:
                # One syllable per chunk (as in `ni hao`): any other split has more syllables.
                return [seg.syllables]
            splits = [s for s in seg.all_splits(limit=16) if len(s) == len(seg.syllables)
                      and all(self.vocab.candidates.get(x) for x in s)]
            return splits[:MAX_SPLITS]
        if all(len(group) == 1 for group in sets):  # one reading: `na r` is na er, 哪儿
            return [tuple(min(group) for group in sets)]
        if self.word_lm is None:
            raise ValueError("abbreviated, unfinished or fuzzy pinyin needs a model with a "
                             "word model (pinyin-hanzi lm)")
        most = min(MAX_READINGS, max(1, READING_SYLLABLES // len(sets)))
        found = self.reading_search.readings(sets, most)
        whole = [seg.syllables] if all(k == FULL and s in group for k, s, group
                                       in zip(seg.kinds, seg.syllables, sets)) else []
        return (whole + [r for r in found if r not in whole])[:most] or [
            tuple(sorted(group)[0] for group in sets)]

    def reading_costs(self, text: str, options: InputOptions, readings) -> list[float]:
        """Per reading of `text`, for each whole syllable typed that it reads otherwise:
        COMPLETION_COST when it is the last and read as a longer one it begins (xian as
        xiang), CUT_R_COST for a bare r after a syllable read otherwise than as erhua 儿,
        else FUZZY_SWAP_COST (the other of a fuzzy pair: zi read as zhi). 0 for readings
        that keep every whole syllable (other splits of whole pinyin, cut syllables
        completed)."""
        seg, _ = self.parse(text, options)
        erhua = [i for i in range(len(seg.syllables)) if is_erhua(seg, i)]
        if not options.fuzzy and not options.complete_last and not erhua:
            return [0.0] * len(readings)
        typed = [s if kind == FULL else None for s, kind in zip(seg.syllables, seg.kinds)]
        for i in erhua:
            typed[i] = "er"
        last = len(typed) - 1

        def cost(i, t, r):
            if t is None or t == r:
                return 0.0
            if i in erhua:
                return CUT_R_COST
            completed = options.complete_last and i == last and r.startswith(t)
            return COMPLETION_COST if completed else FUZZY_SWAP_COST

        return [sum(cost(i, t, r) for i, (t, r) in enumerate(zip(typed, reading)))
                if len(reading) == len(typed) else 0.0 for reading in readings]

    def convert_many(self, texts: list[str], top_k: int = 5, batch_size: int = 256,
                     options: InputOptions | None = None, contexts: list[str] | None = None
                     ) -> list[list[Candidate]]:
        """Many inputs at once (batched through the model); one candidate list per input,
        read as `options` say (spelling.InputOptions: abbreviations on, no fuzzy pairs),
        each after its text in `contexts` (as `convert`'s context; default none).
        Raises PinyinError on the first invalid input."""
        if not isinstance(texts, str):  # any iterable, read once (a generator had no len())
            texts = list(texts)
        contexts = None if contexts is None else list(contexts)
        _check_arguments(texts, top_k, options, contexts)
        options = options or InputOptions()
        splits_per_text = [self.readings(text, options) for text in texts]
        flat = [list(s) for splits in splits_per_text for s in splits]
        flat_contexts = [context for splits, context
                         in zip(splits_per_text, contexts or [""] * len(texts))
                         for _ in splits]
        scored = self.convert_syllables(flat, top_k, batch_size, flat_contexts)
        results, i = [], 0
        for text, splits in zip(texts, splits_per_text):
            merged: dict[str, float] = {}
            costs = self.reading_costs(text, options, splits)
            for cost, cands in zip(costs, scored[i:i + len(splits)]):
                for c in cands:
                    merged[c.text] = max(c.score + cost, merged.get(c.text, float("-inf")))
            i += len(splits)
            best = sorted(merged.items(), key=lambda kv: -kv[1])[:top_k]
            if best:
                self._check_likely(text, options, best[0])
            results.append([Candidate(t, s) for t, s in best])
        return results

    def _check_likely(self, text: str, options: InputOptions, best: tuple[str, float]):
        """Raise PinyinError when `text` was read with a cut syllable run into a whole one and
        even its best candidate is too unlikely to be what anyone meant (MIN_CUT_SCORE):
        English, say."""
        seg, sets = self.parse(text, options)
        if len(sets) < MIN_CUT_POSITIONS or best[1] / len(sets) >= MIN_CUT_SCORE:
            return
        kinds, syllables, spans = seg.kinds, seg.syllables, seg.spans
        if any(kinds[i] == ABBREVIATED and kinds[i + 1] == FULL and spans[i][1] == spans[i + 1][0]
               and set(syllables[i + 1]) & set("aeiouv") for i in range(len(kinds) - 1)):
            raise PinyinError(f"no likely reading as pinyin: cut syllables give at best "
                              f"{best[0]} ({best[1] / len(sets):.1f} a syllable)", 0, text)

    def convert_syllables(self, inputs: list[list[str]], top_k: int = 5,
                          batch_size: int = 256, contexts: list[str] | None = None
                          ) -> list[list[Candidate]]:
        """Already-segmented canonical syllables -> candidates, one list per input."""
        return [self.decode_scores(syllables, scores, top_k, context) for
                syllables, scores, context in zip(inputs, self.candidate_scores(
                    inputs, batch_size), contexts or [""] * len(inputs))]

    def decode_scores(self, syllables: list[str], scores: list[np.ndarray], top_k: int,
                      context: str = "") -> list[Candidate]:
        """One input's candidate scores (`candidate_scores`) -> its `top_k` candidates."""
        return self.decoder.decode(syllables, scores, top_k, context)

    def candidate_scores(self, inputs: list[list[str]], batch_size: int = 256
                         ) -> list[list[np.ndarray]]:
        """Per input, per syllable: the model's log-probs over that syllable's candidate
        hanzi (`vocab.candidate_array`), float32. Only candidates: an input method asks this on every
        keystroke, and a syllable has ~50 of the 8,000 hanzi."""
        vocab = self.vocab
        for syllables in inputs:
            _check_syllables(syllables, vocab.syllable_id)
        # Every input becomes one or more windows of at most max_len syllables.
        pieces, owners = [], []
        for syllables in inputs:
            spans = windows(len(syllables), self.max_len, WINDOW_OVERLAP)
            first = len(pieces)
            pieces.extend(syllables[a:b] for a, b in spans)
            owners.append([(first + w, off) for w, off in owner_of_positions(len(syllables),
                                                                              spans)])
        scores: list[list[np.ndarray]] = [None] * len(pieces)
        for batch in length_batches([len(p) for p in pieces], batch_size):
            T = max(len(pieces[i]) for i in batch)
            ids = np.zeros((len(batch), T), dtype=np.int64)
            mask = np.zeros((len(batch), T), dtype=np.int64)
            for row, i in enumerate(batch):
                ids[row, :len(pieces[i])] = [vocab.syllable_token(s) for s in pieces[i]]
                mask[row, :len(pieces[i])] = 1
            allowed = [[vocab.candidate_array(s) for s in pieces[i]] for i in batch]
            for i, cands, flat in zip(batch, allowed, self.encoder.log_probs(ids, mask, allowed)):
                ends = np.cumsum([len(c) for c in cands]).tolist()
                scores[i] = [flat[a:b] for a, b in zip([0] + ends, ends)]
        return [[scores[w][off] for w, off in owner] for owner in owners]


def _check_arguments(texts, top_k, options, contexts) -> None:
    """A TypeError or ValueError naming what is wrong with `convert_many`'s arguments: bytes
    were an AttributeError from deep in the parser, a string passed as the list was converted
    letter by letter, and top_k=1.5 was "slice indices must be integers"."""
    if isinstance(texts, str):
        raise TypeError("convert_many takes a list of texts; convert takes one")
    for name, values in (("pinyin", texts), ("context", contexts or ())):
        for value in values:
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral):
        raise TypeError(f"top_k must be a whole number, got {top_k!r}")
    if not 1 <= top_k <= MAX_TOP_K:
        raise ValueError(f"top_k must be 1 to {MAX_TOP_K}, got {top_k}")
    if options is not None and not isinstance(options, InputOptions):
        raise TypeError(f"options must be a spelling.InputOptions, got {type(options).__name__}")
    if contexts is not None and len(contexts) != len(texts):
        raise ValueError(f"{len(contexts)} contexts for {len(texts)} inputs")


def _check_syllables(syllables, known) -> None:
    """A ValueError naming what is wrong with one input of `candidate_scores`: "ni hao" for
    ["ni", "hao"] was KeyError 'i', a syllable the model does not know a bare KeyError, and an
    empty input an onnxruntime Reshape failure."""
    if isinstance(syllables, str) or not syllables:
        raise ValueError(f"an input is a list of one or more syllables, e.g. ['ni', 'hao']; "
                         f"got {syllables!r}")
    unknown = next((s for s in syllables if s not in known), None)
    if unknown is not None:
        raise ValueError(f"{unknown!r} is not a syllable this model knows (syllables are "
                         f"canonical, toneless: 'lv' for lü)")


def length_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Indices of `lengths`, shortest first, in batches of at most `batch_size` whose
    longest is at most PADDING times their shortest (plus PADDING_SLACK): every row is
    padded to the longest, and four clauses of 5 syllables padded to 30 cost more together
    than apart."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    for i in order:
        if (not batches or len(batches[-1]) == batch_size
                or lengths[i] > PADDING * lengths[batches[-1][0]] + PADDING_SLACK):
            batches.append([])
        batches[-1].append(i)
    return batches


def windows(n: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """Spans [start, end) of length <= size covering range(n), neighbours sharing `overlap`."""
    if n <= size:
        return [(0, n)]
    if not 0 <= overlap < size:
        raise ValueError(f"overlap must be in [0, {size}), got {overlap}")
    step = size - overlap
    spans = [(s, min(s + size, n)) for s in range(0, n - overlap, step)]
    if spans[-1][1] < n:
        spans.append((n - size, n))
    return spans


def owner_of_positions(n: int, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """For each position, (window index, offset in that window) of the window in which it is
    furthest from an edge: context on both sides is what the encoder needs."""
    owners = []
    for i in range(n):
        best = max(
            (min(i - a, b - 1 - i), w) for w, (a, b) in enumerate(spans) if a <= i < b)
        owners.append((best[1], i - spans[best[1]][0]))
    return owners


def _has_onnxruntime() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None
