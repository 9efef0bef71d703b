"""The G2P model: the project's encoder read on hanzi, one reading out per polyphonic hanzi.

    hanzi tokens -> encoder (model.PinyinHanziModel.hidden, pretrained on hanzi text)
                 -> reading logits, only over each hanzi's own readings (readings.py)

The encoder is the P2C model's, so a G2P model starts from a pretrained or converted one and
keeps its knowledge of which words go together. `labels` are slots: the index of the gold
reading among the hanzi's choices (IGNORE where there is nothing to decide).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..model import PinyinHanziModel
from ..vocab import IGNORE, Vocab
from .model_dir import FORMAT, READINGS_FILE, is_g2p_dir, read_table  # noqa: F401
from .readings import ReadingTable


class G2PModel(nn.Module):
    def __init__(self, encoder: PinyinHanziModel, vocab: Vocab, table: ReadingTable):
        super().__init__()
        self.encoder = encoder
        self.config = encoder.config
        self.hanzi_offset = vocab.hanzi_offset
        self.head = nn.Linear(self.config.d_model, len(table.readings))
        nn.init.normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)
        # choices[token, k]: the k-th reading of the hanzi a token is, -1 past its readings
        # and for every token that is not a hanzi. Rebuilt from the table, never saved.
        per_hanzi = torch.from_numpy(table.choice_array(vocab.hanzi))
        choices = torch.full((self.config.input_size, per_hanzi.shape[1]), -1, dtype=torch.long)
        choices[self.hanzi_offset:] = per_hanzi
        self.register_buffer("choices", choices, persistent=False)

    def num_parameters(self, exclude_embeddings: bool = False) -> int:
        return sum(p.numel() for name, p in self.named_parameters()
                   if not (exclude_embeddings and name.endswith("_emb.weight")))

    def slot_logits(self, h: torch.Tensor, choices: torch.Tensor) -> torch.Tensor:
        """(N, d) states and (N, K) reading ids -> (N, K) float32 logits, -inf at padding."""
        weight = self.head.weight[choices.clamp(min=0)]  # (N, K, d)
        logits = torch.einsum("nd,nkd->nk", h, weight) + self.head.bias[choices.clamp(min=0)]
        return logits.float().masked_fill(choices < 0, float("-inf"))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                labels: torch.Tensor | None = None) -> dict:
        """Slot logits (batch, time, K), computed at labelled positions (every polyphone when
        there are no labels) and 0 elsewhere; the mean cross-entropy if `labels` is given.
        In training mode only the loss is returned, as model.PinyinHanziModel does."""
        h = self.encoder.hidden(input_ids, attention_mask)
        choices = self.choices[input_ids]
        where = labels != IGNORE if labels is not None else choices[..., 1] >= 0
        logits = self.slot_logits(h[where], choices[where])
        loss = None
        if labels is not None:
            loss = (F.cross_entropy(logits, labels[where]) if where.any()
                    else h.sum() * 0.0)
        if self.training and loss is not None:
            return {"loss": loss, "logits": None}
        full = logits.new_zeros((*input_ids.shape, choices.shape[-1]))
        full[where] = logits
        return {"loss": loss, "logits": full}


def save_g2p(model: G2PModel, vocab: Vocab, table: ReadingTable, out_dir, training: dict | None
             = None, precision: str = "fp32"):
    """A G2P model directory, written atomically as checkpoint.save_model writes one, with
    its own format and readings.json: config.json, model.safetensors (encoder.* and head.*),
    vocab.json, readings.json, training.json."""
    from pathlib import Path

    from ..checkpoint import save_model

    save_model(model, vocab, Path(out_dir), training=training, precision=precision,
               format=FORMAT, write_more=lambda d: table.save(d / READINGS_FILE))


def load_g2p(model_dir) -> tuple[G2PModel, Vocab, ReadingTable]:
    """-> (model in eval mode, vocab, reading table); ModelDirError naming a bad file."""
    from pathlib import Path

    from ..checkpoint import build_encoder, load_weights, read_model_meta

    model_dir = Path(model_dir)
    fields, vocab = read_model_meta(model_dir, format=FORMAT)
    table = read_table(model_dir)
    model = G2PModel(build_encoder(model_dir, fields, vocab), vocab, table)
    load_weights(model, model_dir)
    return model.eval(), vocab, table
