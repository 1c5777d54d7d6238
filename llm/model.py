"""A decoder-only model placed on one card and run token by token as programs.

    m = CardModel(ModelConfig.preset("tiny"), random_weights(cfg), batch=2, max_len=64)
    out = m.generate([[1, 2, 3], [4, 5]], new_tokens=8)       # greedy
    out.tokens, out.logits, out.results                       # per step: one program's Result

Each step is one program (kernels/program): the embedding gather of the step's token ids, every
layer's block (kernels/program/block.py), the final RMSNorm, the LM head (the embedding matrix
when tied) and argmax, the next ids read back. Prompts are fed one token per step (a sequence
still in its prompt takes its next prompt token, the others their last generated one), so
sequences of different lengths share the steps; a prefill of many tokens per step is not built
yet. All sequences' caches hold the same number of keys, so a token's position is the step.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import ShapeError
from chipemu.kernels.card import Card
from chipemu.kernels.program.block import block_step, place_block
from chipemu.llm.weights import layer_weights, tensor_shapes

__all__ = ["CardModel", "Generation", "feed"]


@dataclass
class Generation:
    """What generate() returns: tokens [batch, new_tokens] (int64), logits per step (float32
    [batch, vocab]; None in timing mode) and each step's Result."""
    tokens: np.ndarray
    logits: list = field(default_factory=list)
    results: list = field(default_factory=list)


def feed(prompts, new_tokens: int):
    """(batch, steps, prompt lengths): checked prompts (lists of token ids, each non-empty)."""
    if not isinstance(prompts, (list, tuple)) or not prompts:
        raise ShapeError(f"prompts={args.show(prompts)}; allowed: a non-empty list of token-id "
                         f"lists")
    lens = [len(p) for p in prompts]
    if min(lens) < 1:
        raise ShapeError("every prompt needs at least one token")
    new_tokens = args.integer("new_tokens", new_tokens, 1, error=ShapeError)
    return len(prompts), max(lens) - 1 + new_tokens, lens


class CardModel:
    """cfg (ModelConfig) with `weights` (Hugging Face names: llm/weights.py; shapes are enough
    in timing mode) placed on one card of `device` for `batch` sequences of up to max_len
    tokens. fmt: the activations' DIMC format (and the weights' unless weight_fmt, e.g. W4A8:
    weight_fmt="mxint4"); kv_fmt: the cache's (None: the attention default); kv_home: each
    layer's KV cache in the DIMC slots ("dimc") or streamed from DRAM ("dram",
    docs/attention.md). The layers share their SRAM working buffers and one set of RoPE tables
    in DRAM."""

    def __init__(self, cfg, weights, *, batch, max_len, device="corsair", fmt="mxint8",
                 weight_fmt=None, kv_fmt=None, backend="c", mode="functional",
                 kv_home="dimc"):
        self.cfg, self.batch = cfg, args.integer("batch", batch, 1, error=ShapeError)
        self.max_len = args.integer("max_len", max_len, 1, error=ShapeError)
        self.card = card = Card(device, mode=mode, backend=backend)
        timing = card.timing
        if timing:
            weights = {n: s for n, s in tensor_shapes(cfg).items()}
        w = weights
        h, shape = cfg.hidden_size, cfg.block_shape()
        emb = w["model.embed_tokens.weight"]
        self.embed = card.place_op("embed", "embedding", rows=batch, cols=h, table=emb)
        self.blocks = []
        for i in range(cfg.num_hidden_layers):
            lw = ({k: s for k, s in _layer_shapes(shape).items()} if timing
                  else layer_weights(w, i))
            self.blocks.append(place_block(card, shape, lw, batch=batch, max_len=max_len,
                                           prefix=f"l{i}", fmt=fmt, kv_fmt=kv_fmt,
                                           weight_fmt=weight_fmt, share="layers",
                                           rope_tables="dram", kv_home=kv_home))
        self.norm = card.place_op("norm", "rmsnorm", rows=batch, cols=h,
                                  gamma=w["model.norm.weight"], eps=cfg.rms_norm_eps)
        head = emb if cfg.tie_word_embeddings else w["lm_head.weight"]
        head = (head[1], head[0]) if timing else np.ascontiguousarray(head.T)
        self.head = card.place("lm_head", head, fmt=fmt, rows=batch, weight_fmt=weight_fmt)
        self.pick = card.place_op("argmax", "argmax", rows=batch, cols=cfg.vocab_size)

    def step(self, ids):
        """One decode step: token ids [batch] in -> (next ids [batch], logits [batch, vocab]
        (both None in timing mode), the step's Result)."""
        with self.card.program("step") as p:
            x = p.op(self.embed, ids=np.asarray(ids, np.int64))
            for blk in self.blocks:
                x = block_step(p, blk, x)
            logits = p.matmul(p.op(self.norm, x), self.head)
            scores = p.output(logits, "logits")
            nxt = p.output(p.op(self.pick, logits), "next")
        return (None if nxt is None else nxt[:, 0].astype(np.int64)), scores, p.result

    def generate(self, prompts, new_tokens: int) -> Generation:
        """Greedy generation of new_tokens after each prompt (see the module docstring)."""
        batch, steps, lens = feed(prompts, new_tokens)
        if batch != self.batch:
            raise ShapeError(f"{batch} prompts; the model was placed for batch={self.batch}")
        if steps > self.max_len:
            raise ShapeError(f"the longest prompt plus new_tokens needs {steps} positions; the "
                             f"caches hold max_len={self.max_len}")
        timing = self.card.timing
        last = np.array([p[0] for p in prompts], np.int64)
        out = np.zeros((batch, new_tokens), np.int64)
        gen = Generation(out)
        for t in range(steps):
            ids = np.array([prompts[b][t] if t < lens[b] else last[b] for b in range(batch)])
            nxt, logits, r = self.step(ids)
            gen.logits.append(logits)
            gen.results.append(r)
            if nxt is None:                 # timing mode: no data; feed the prompts' tokens
                nxt = ids
            for b in range(batch):
                k = t - (lens[b] - 1)       # generated token k of sequence b
                if 0 <= k < new_tokens:
                    out[b, k] = nxt[b]
            last = nxt
        if timing:
            gen.tokens = None
        return gen


def _layer_shapes(shape):
    return shape.weight_shapes()
