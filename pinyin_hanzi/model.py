"""The Transformer: a bidirectional encoder over syllables with one hanzi out per syllable.

Pinyin -> hanzi is a 1:1 aligned tagging problem (one character per syllable), so the model is
an encoder (no decoder, no autoregression: one forward pass per clause, which is what keeps
input-method latency low). Inputs are token ids from vocab.py: syllables when converting, hanzi
and <mask> too when pretraining on raw text (objectives.py). Each position's output is a
distribution over the hanzi vocabulary, restricted to the candidates of that position's
syllable, so the model never writes a character that cannot be read that way.

    config -> embeddings (token + learned position) -> n_layer x [pre-LN attention, pre-LN MLP]
           -> final LayerNorm -> hanzi logits (weights tied with the hanzi input embeddings)
           -> mask to the syllable's candidates -> cross-entropy against the gold hanzi

`forward(input_ids, attention_mask, labels=None)` returns {"logits", "loss"} like nanoGPT and
Hugging Face models, so Trainer drives it unchanged.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from .vocab import IGNORE, Vocab


@dataclass
class ModelConfig:
    n_layer: int = 4
    """Transformer blocks."""
    n_head: int = 4
    """Attention heads; must divide d_model."""
    d_model: int = 256
    """Width of every position's vector."""
    d_ff: int = 1024
    """Width of the MLP inside each block."""
    max_len: int = 64
    """Longest input in syllables; longer inputs are split with overlap by the decoder."""
    dropout: float = 0.1
    input_size: int = 0
    """Number of input token ids (set from the vocabulary)."""
    n_hanzi: int = 0
    """Number of output hanzi, <unk> included (set from the vocabulary)."""

    def __post_init__(self):
        for name in ("n_layer", "n_head", "d_model", "d_ff", "max_len"):
            if getattr(self, name) < 1:
                raise ValueError(f"model {name} must be >= 1, got {getattr(self, name)}")
        if self.d_model % self.n_head:
            raise ValueError(f"model d_model={self.d_model} is not divisible by "
                             f"n_head={self.n_head}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"model dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json_string(self) -> str:
        """For Trainer's TensorBoard callback, which records the model config."""
        import json

        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model config fields: {sorted(unknown)}")
        return cls(**data)


PRESETS = {
    # For tests: trains in seconds.
    "tiny": dict(n_layer=2, n_head=2, d_model=32, d_ff=64),
    # The shipped default: about 5 M parameters, 2-core CPU friendly.
    "small": dict(n_layer=4, n_head=4, d_model=256, d_ff=1024),
    # For a GPU.
    "base": dict(n_layer=8, n_head=8, d_model=512, d_ff=2048),
}


class Block(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.n_head = c.n_head
        self.ln1 = nn.LayerNorm(c.d_model)
        self.qkv = nn.Linear(c.d_model, 3 * c.d_model)
        self.proj = nn.Linear(c.d_model, c.d_model)
        self.ln2 = nn.LayerNorm(c.d_model)
        self.mlp = nn.Sequential(nn.Linear(c.d_model, c.d_ff), nn.GELU(),
                                 nn.Linear(c.d_ff, c.d_model))
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=key_mask)  # no attention dropout: costly on CPU, no gain measured
        x = x + self.dropout(self.proj(y.transpose(1, 2).reshape(B, T, C)))
        return x + self.dropout(self.mlp(self.ln2(x)))


class PinyinHanziModel(nn.Module):
    def __init__(self, config: ModelConfig, vocab: Vocab):
        super().__init__()
        if config.input_size != vocab.input_size or config.n_hanzi != len(vocab.hanzi):
            raise ValueError(
                f"model config (input_size={config.input_size}, n_hanzi={config.n_hanzi}) does "
                f"not match the vocabulary ({vocab.input_size}, {len(vocab.hanzi)})")
        self.config = config
        self.hanzi_offset = vocab.hanzi_offset
        self.tok_emb = nn.Embedding(config.input_size, config.d_model)
        self.pos_emb = nn.Embedding(config.max_len, config.d_model)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.d_model)
        self.head_bias = nn.Parameter(torch.zeros(config.n_hanzi))
        # allowed[row(token), hanzi]: which hanzi a position may output. Row s < n_syllables is
        # syllable s; the last row (any non-syllable input: hanzi, <mask>) allows every hanzi.
        # Rebuilt from the vocabulary, never saved.
        n_syl = len(vocab.syllables)
        allowed = torch.zeros(n_syl + 1, config.n_hanzi, dtype=torch.bool)
        for s, syllable in enumerate(vocab.syllables):
            allowed[s, vocab.candidate_ids(syllable)] = True
        allowed[n_syl] = True
        self.register_buffer("allowed", allowed, persistent=False)
        # The same table as lists, for the training loss: candidates[s] are syllable s's hanzi,
        # and slot[s, h] is h's index among them (-1 if h is not one).
        self.candidates = [torch.tensor(vocab.candidate_ids(s), dtype=torch.long)
                           for s in vocab.syllables] + [torch.arange(config.n_hanzi)]
        slot = torch.full((n_syl + 1, config.n_hanzi), -1, dtype=torch.long)
        for s, ids in enumerate(self.candidates):
            slot[s, ids] = torch.arange(len(ids))
        self.register_buffer("slot", slot, persistent=False)
        row = torch.full((config.input_size,), n_syl, dtype=torch.long)
        row[vocab.syllable_offset:vocab.syllable_offset + n_syl] = torch.arange(n_syl)
        self.register_buffer("row_of_token", row, persistent=False)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight") or name.endswith("mlp.2.weight"):
                # GPT-2's scaled init of residual projections keeps early training stable.
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def num_parameters(self, exclude_embeddings: bool = False) -> int:
        """Parameter count (Trainer asks for it without embeddings to estimate FLOPs)."""
        return sum(p.numel() for name, p in self.named_parameters()
                   if not (exclude_embeddings and name.endswith("_emb.weight")))

    def hidden(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None
               ) -> torch.Tensor:
        """The encoder's last hidden states, shape (batch, time, d_model)."""
        B, T = input_ids.shape
        if T > self.config.max_len:
            raise ValueError(f"input of {T} tokens is longer than max_len={self.config.max_len}")
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        key_mask = attention_mask.bool()[:, None, None, :]  # (B, 1, 1, T): attend to real tokens
        pos = torch.arange(T, device=input_ids.device)
        x = self.drop(self.tok_emb(input_ids) + self.pos_emb(pos))
        for block in self.blocks:
            x = block(x, key_mask)
        return self.ln_f(x)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None) -> dict:
        """Logits (batch, time, n_hanzi), -inf where a hanzi cannot be read as the syllable;
        the mean cross-entropy over labelled positions if `labels` is given.

        In training mode only the loss is computed, and only at labelled positions: the
        output layer over every hanzi is the costliest matrix product, so padding and visible
        pretraining tokens skip it.
        """
        h = self.hidden(input_ids, attention_mask)
        logits = loss = None
        if labels is not None:
            # A label outside its syllable's candidates (rare in train, possible in dev) would
            # be an infinite loss: it counts as an error in metrics, but gives no gradient.
            rows = self.row_of_token[input_ids]
            labelled = labels != IGNORE
            reachable = self.allowed[rows, labels.clamp(min=0)]
            keep = labelled & reachable
            if keep.any():
                loss = self._candidate_loss(h[keep], rows[keep], labels[keep])
            else:
                loss = h.sum() * 0.0
        if not self.training or labels is None:
            logits = self._logits(h, self.row_of_token[input_ids])
        return {"loss": loss, "logits": logits}

    def _candidate_loss(self, h: torch.Tensor, rows: torch.Tensor, labels: torch.Tensor
                        ) -> torch.Tensor:
        """Mean cross-entropy of (N, d_model) states over their syllables' candidates only.

        Equal to the cross-entropy of the masked full logits (`_logits`), but a syllable has
        about 50 candidates (frequency-weighted) against 8,000 hanzi, so scoring each
        syllable's positions against its own candidates costs ~1/100 of the full output layer.
        """
        order, logits = self.candidate_logits(h, rows)
        targets = self.slot[rows[order], labels[order]].split([len(x) for x in logits])
        total = h.new_zeros((), dtype=torch.float32)
        for x, t in zip(logits, targets):
            total = total + F.cross_entropy(x, t, reduction="sum")
        return total / len(rows)

    def candidate_logits(self, h: torch.Tensor, rows: torch.Tensor
                         ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(N, d_model) states of positions reading syllable rows (N,) -> (order, logits):
        the positions sorted by syllable, and for each run of one syllable its states' float32
        logits over that syllable's candidates only (the training loss and the distillation
        loss of adapt.py)."""
        order = rows.argsort()
        groups, sizes = torch.unique_consecutive(rows[order], return_counts=True)
        groups, sizes = groups.tolist(), sizes.tolist()
        cands = [self.candidates[g] for g in groups]
        # One gather of every needed candidate row and one permutation of the states: indexing
        # per group would make autograd build a full-size gradient per group.
        all_cands = torch.cat(cands).to(h.device)
        emb = self.tok_emb.weight[self.hanzi_offset + all_cands].split([len(c) for c in cands])
        bias = self.head_bias[all_cands].split([len(c) for c in cands])
        return order, [F.linear(hs, e, b).float()
                       for hs, e, b in zip(h[order].split(sizes), emb, bias)]

    def _logits(self, h: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """Hidden states (..., d_model) -> hanzi logits (..., n_hanzi) masked to candidates."""
        hanzi_emb = self.tok_emb.weight[self.hanzi_offset:]
        logits = F.linear(h, hanzi_emb, self.head_bias).float()
        return logits.masked_fill(~self.allowed[rows], float("-inf"))
