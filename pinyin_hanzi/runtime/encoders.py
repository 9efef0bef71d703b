"""The two encoder backends a Converter runs; both hand the decoder the same thing: per
position, log-probs over that syllable's candidate hanzi only (`log_probs`).

`OnnxEncoder` runs the exported int8 graph (export.py) on onnxruntime, then the output layer
over each position's candidates only (`OutputHead`, compiled in _head.pyx): a syllable has ~50
of the 8,000 hanzi. It needs only onnxruntime and numpy: a service that runs it never imports
torch. `TorchEncoder` keeps the model's own full, masked logits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..checkpoint import HEAD_FILE, ModelDirError, int8_rows
from ..files import read_arrays, save_arrays
from ._head import candidate_log_probs
from .memory import release_code_pages

HEAD_FORMAT = "pinyin-hanzi-head/1"
# One clause at a time (a typing session, the service) converts no faster on two threads,
# and onnxruntime's second thread spins between calls: twice the CPU, and with the IBus
# daemon and the application on one core, keystrokes took twice as long (dev/EXPERIMENTS.md,
# session 19). Batches of clauses (the CLI's files, evaluation) ask for 2: 15 % faster.
DEFAULT_THREADS = 1


class OutputHead:
    """The output layer (the hanzi embeddings, tied, and a bias) as int8 rows with one scale
    each, applied to each position's candidates only."""

    def __init__(self, weight: np.ndarray, scale: np.ndarray, bias: np.ndarray):
        if (weight.dtype != np.int8 or weight.ndim != 2
                or not scale.shape == bias.shape == (len(weight),)):
            raise ValueError("an output head is int8 rows (n_hanzi, d_model) with a scale "
                             "and a bias per row")
        self.weight, self.scale = np.ascontiguousarray(weight), scale.astype(np.float32)
        self.bias = bias.astype(np.float32)

    @classmethod
    def quantize(cls, weight: np.ndarray, bias: np.ndarray) -> "OutputHead":
        """Symmetric per-row int8 (checkpoint.int8_rows): each hanzi's row keeps its own
        range."""
        return cls(*int8_rows(weight), bias)

    def save(self, path: Path):
        save_arrays(path, HEAD_FORMAT,
                    {"weight": self.weight, "scale": self.scale, "bias": self.bias})

    @classmethod
    def load(cls, path: Path, n_hanzi: int, d_model: int) -> "OutputHead":
        with read_arrays(path, HEAD_FORMAT, "output head",
                         missing_hint=" (re-run `pinyin-hanzi export`)") as data:
            head = cls(data["weight"], data["scale"], data["bias"])
        if head.weight.shape != (n_hanzi, d_model):
            raise ValueError(f"{path}: output head of shape {head.weight.shape}, the model "
                             f"has {n_hanzi} hanzi of width {d_model}")
        return head

    def log_probs(self, hidden: np.ndarray, candidates: list[np.ndarray]) -> np.ndarray:
        """(T, d_model) states and each position's candidate hanzi ids -> the log-softmax
        over each position's candidates, all positions' concatenated (float32)."""
        ids = (np.concatenate(candidates).astype(np.int64, copy=False) if len(candidates)
               else np.zeros(0, dtype=np.int64))
        starts = np.zeros(len(candidates) + 1, dtype=np.int64)
        np.cumsum([len(c) for c in candidates], out=starts[1:])
        return candidate_log_probs(self.weight, self.scale, self.bias,
                                   np.ascontiguousarray(hidden, dtype=np.float32), ids, starts)


def log_softmax_runs(x: np.ndarray, lengths: list[int]) -> np.ndarray:
    """Log-softmax within each run of `x` (consecutive, of these lengths), float32."""
    x = np.asarray(x, dtype=np.float32)
    lengths = np.asarray(lengths, dtype=np.int64)
    if not len(x):
        return x
    starts = np.r_[0, np.cumsum(lengths)[:-1]][lengths > 0]
    run = np.repeat(np.arange(len(starts)), lengths[lengths > 0])
    shifted = x - np.maximum.reduceat(x, starts)[run]
    return shifted - np.log(np.add.reduceat(np.exp(shifted), starts))[run]


class TorchEncoder:
    """The PyTorch model: full logits, masked to the candidates."""

    name = "torch"

    def __init__(self, model, threads: int | None = None):
        import torch

        self.model, self._torch = model, torch
        self.device = next(model.parameters()).device
        if threads:
            torch.set_num_threads(threads)  # process-wide: torch has no per-model setting

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(batch, time) -> hanzi logits (batch, time, n_hanzi)."""
        torch = self._torch
        with torch.inference_mode():
            out = self.model(torch.from_numpy(ids).to(self.device),
                             torch.from_numpy(mask).to(self.device))["logits"]
        return out.float().cpu().numpy()

    def log_probs(self, ids: np.ndarray, mask: np.ndarray,
                  candidates: list[list[np.ndarray]]) -> list[np.ndarray]:
        """Per batch row b, whose first len(candidates[b]) positions are real: the
        log-softmax over each position's candidate hanzi ids, concatenated (float32)."""
        logits = self(ids, mask)
        out = []
        for b, row in enumerate(candidates):
            lengths = [len(c) for c in row]
            at = np.repeat(np.arange(len(row)), lengths)
            cols = np.concatenate(row) if row else np.zeros(0, dtype=np.int64)
            out.append(log_softmax_runs(logits[b, at, cols], lengths))
        return out


class OnnxEncoder:
    """The exported graph on onnxruntime; the output layer (`head`) compiled (_head.pyx)."""

    name = "onnxruntime"

    def __init__(self, path: Path, threads: int | None = None, head: OutputHead | None = None,
                 memory_arena: bool = True):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or DEFAULT_THREADS
        options.inter_op_num_threads = 1
        # memory_arena=False (the service): onnxruntime's arena grows (by doubling) to the
        # largest batch it has run and never shrinks: +33 MB that stayed after issue 35's burst
        # of costly inputs; without it the heap's blocks go back with malloc_trim
        # (memory.return_freed_heap) and whole pinyin converts as fast (64 syllables 3.56 ms
        # against 3.41, nihao 0.79 against 0.82 ms; dev/EXPERIMENTS.md, session 17). One clause
        # at a time (the CLI, IBus) the arena keeps the peak 2 MB lower (99 against 101 MB).
        options.enable_cpu_mem_arena = memory_arena
        self.path, self.head = Path(path), head
        try:
            self.session = ort.InferenceSession(str(path), options,
                                                providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime's own errors (Fail, InvalidProtobuf, ...)
            raise ModelDirError(f"{path}: corrupt or not an ONNX graph (re-run `pinyin-hanzi "
                                f"export`): {str(e).splitlines()[0][:200]}") from None
        # Creating the session ran start-up code that inference never runs again.
        release_code_pages("onnxruntime")

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """(batch, time) -> last hidden states (batch, time, d_model)."""
        return self.session.run(["hidden"], {"input_ids": ids, "attention_mask": mask})[0]

    def log_probs(self, ids: np.ndarray, mask: np.ndarray,
                  candidates: list[list[np.ndarray]]) -> list[np.ndarray]:
        """As TorchEncoder.log_probs (the head over the hidden states)."""
        if self.head is None:
            raise ValueError(f"{self.path}: no output head given (export writes {HEAD_FILE})")
        hidden = self(ids, mask)
        return [self.head.log_probs(hidden[b, :len(c)], c) for b, c in enumerate(candidates)]
