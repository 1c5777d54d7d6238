"""A Llama/Mistral decoder block as a program: placed once on a card, called step after step.

    shape = BlockShape(hidden=4096, intermediate=14336, heads=32, kv_heads=8, head_dim=128)
    blk = place_block(card, shape, block_weights(shape, seed=0), batch=16, max_len=4112)
    with card.program() as p:
        y = block_step(p, blk, p.input(x))          # one decode step of the batch

The step: x2 = x + Wo attention(rope(Wq h), rope(Wk h), Wv h) with h = rmsnorm1(x), then
y = x2 + W2 (silu(W1 h2) * (W3 h2)) with h2 = rmsnorm2(x2); the KV cache grows by one token per
sequence. Weights are [in, out] (x @ W), q/k/v columns head by head (as Hugging Face's
q_proj.weight.T); RoPE uses each sequence's current length as the new token's position.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import ShapeError

__all__ = ["BlockShape", "PlacedBlock", "block_weights", "place_block", "block_step"]

WEIGHTS = ("wq", "wk", "wv", "wo", "w1", "w3", "w2")
# weights whose calls never overlap in a step share working buffers (q, k, v run side by side,
# as do w1 and w3): three pools serve a card's layers
SHARE_GROUP = {"wq": "a", "wo": "a", "w1": "a", "wk": "b", "w3": "b", "w2": "b", "wv": "c"}


@dataclass(frozen=True)
class BlockShape:
    """The shapes of one decoder block (Hugging Face config names in comments)."""
    hidden: int                    # hidden_size
    intermediate: int              # intermediate_size
    heads: int                     # num_attention_heads
    kv_heads: int                  # num_key_value_heads
    head_dim: int                  # head_dim
    rope_theta: float = 500000.0   # rope_theta
    eps: float = 1e-5              # rms_norm_eps

    def __post_init__(self):
        for name in ("hidden", "intermediate", "heads", "kv_heads", "head_dim"):
            args.integer(name, getattr(self, name), 1, error=ShapeError)
        if self.heads % self.kv_heads or self.head_dim % 2:
            raise ShapeError(f"heads={self.heads}, kv_heads={self.kv_heads}, head_dim="
                             f"{self.head_dim}; allowed: heads a multiple of kv_heads, an even "
                             f"head_dim")

    def weight_shapes(self) -> dict:
        h, i, q, kv = self.hidden, self.intermediate, self.heads * self.head_dim, \
            self.kv_heads * self.head_dim
        return {"wq": (h, q), "wk": (h, kv), "wv": (h, kv), "wo": (q, h), "w1": (h, i),
                "w3": (h, i), "w2": (i, h), "norm1": (h,), "norm2": (h,)}


def block_weights(shape: BlockShape, seed: int = 0) -> dict:
    """Random float32 weights of a block: N(0, 1/fan_in) matrices, norms' gamma near 1."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, s in shape.weight_shapes().items():
        if len(s) == 1:
            out[name] = (1 + 0.1 * rng.standard_normal(s)).astype(np.float32)
        else:
            out[name] = (rng.standard_normal(s) / np.sqrt(s[0])).astype(np.float32)
    return out


@dataclass(frozen=True, eq=False)
class PlacedBlock:
    """A block resident on a card: its placed weights and ops, its KV cache, its shape."""
    shape: BlockShape
    batch: int
    weights: dict                  # name -> PlacedWeight
    ops: dict                      # name -> PlacedOp
    cache: object                  # KVCache (device_inputs)
    prefix: str = "blk"            # the names' prefix on the card
    chunk: int = 1                 # tokens per sequence per step (1: decode; more: prefill)


def place_block(card, shape: BlockShape, weights: dict, *, batch: int, max_len: int,
                prefix: str = "blk", fmt: str = "mxint8", kv_fmt=None, k=None, v=None,
                lengths=None, share=None, rope_tables="auto", weight_fmt=None,
                max_replicas=8, slot_floor=0, chunk=1, kv_home="dimc") -> PlacedBlock:
    """Place a block's KV cache (first, so it gets whole slot layers), layer ops and weights on
    `card` for decode steps of `batch` sequences. weights: block_weights()'s names (float32
    arrays; shape tuples in timing mode). k, v: the cache's first keys and values [batch,
    kv_heads, L, head_dim] (None: an empty cache); max_len: keys the cache can hold.
    share: a tag; blocks placed under the same tag share their weights' and ops' SRAM working
    buffers (the layers of a model run one after another), so a card holds as many layers as
    its DIMC slots and caches allow. rope_tables: "auto" | "sram" | "dram" (the RoPE tables;
    in DRAM one copy serves every layer). weight_fmt: the weights' format (None: fmt, which
    is the activations'); max_replicas: weight copies per chiplet (1 leaves room for layers).
    slot_floor: the first DIMC slot the block's searches try (a model's layer i starts at i
    times the first layer's top slot, so every layer has the first one's layout, shifted).
    chunk: tokens of each sequence a step takes (a prefill chunk: batch x chunk rows, causal
    attention over the cache and the chunk; 1: decode). kv_home: the cache's K/V in the DIMC
    slots ("dimc") or in DRAM, streamed a block at a time ("dram": one block's slots per tile;
    docs/attention.md)."""
    chunk = args.integer("chunk", chunk, 1, error=ShapeError, why="tokens per sequence per step")
    floor = card.ledger.floor
    card.ledger.floor = args.integer("slot_floor", slot_floor, 0,
                                     card.device.tile.dimc.weight_slots - 1, error=ShapeError)
    try:
        return _place_block(card, shape, weights, batch, max_len, prefix, fmt, kv_fmt, k, v,
                            lengths, share, rope_tables, weight_fmt, max_replicas, chunk,
                            kv_home)
    finally:
        card.ledger.floor = floor


def _place_block(card, shape, weights, batch, max_len, prefix, fmt, kv_fmt, k, v, lengths,
                 share, rope_tables, weight_fmt, max_replicas, chunk, kv_home):
    batch = args.integer("batch", batch, 1, error=ShapeError)
    t, s, d = card.timing, shape, shape.head_dim
    if k is None:
        k = v = (batch, s.kv_heads, 0, d) if t else np.zeros((batch, s.kv_heads, 0, d),
                                                             np.float32)
    cache = card.kv_cache(f"{prefix}.kv", k, v, max_len=max_len, max_new=chunk, heads=s.heads,
                          share=None if share is None else f"{share}.kv",
                          fmt=fmt, kv_fmt=kv_fmt, lengths=lengths, device_inputs=True,
                          kv_home=kv_home)
    tag = (lambda n: None) if share is None else (lambda n: f"{share}.{SHARE_GROUP.get(n, n)}")
    rows = batch * chunk
    # the ops before the weights: they fail fast where SRAM is short, and the weights' row
    # chunks then shrink to what the ops leave
    h, q, kv = s.hidden, s.heads * d, s.kv_heads * d
    rope = dict(head_dim=d, theta=s.rope_theta, max_positions=max_len, tables=rope_tables)

    def op(n, kind, cols, **kw):
        return card.place_op(f"{prefix}.{n}", kind, rows=rows, cols=cols, share=tag(n), **kw)
    ops = {"norm1": op("norm1", "rmsnorm", h, gamma=weights["norm1"], eps=s.eps),
           "rope_q": op("rope_q", "rope", q, **rope),
           "rope_k": op("rope_k", "rope", kv, **rope),
           "res1": op("res1", "residual", h),
           "norm2": op("norm2", "rmsnorm", h, gamma=weights["norm2"], eps=s.eps),
           "act": op("act", "glu", s.intermediate, act="silu"),
           "res2": op("res2", "residual", h)}
    placed = {n: card.place(f"{prefix}.{n}", weights[n], fmt=fmt, rows=rows, share=tag(n),
                            weight_fmt=weight_fmt, max_replicas=max_replicas)
              for n in WEIGHTS}
    for pw in placed.values():          # their staging now: a step must not run out of SRAM
        card.staging(pw)
    return PlacedBlock(shape, batch, placed, ops, cache, prefix, chunk)


def block_step(p, blk: PlacedBlock, x):
    """One step of the block in program p: x [batch * chunk, hidden] (sequence by sequence,
    token by token) -> the same shape; a decode step when chunk is 1."""
    w, o = blk.weights, blk.ops
    # row b * chunk + i is token i of sequence b, at position length_b + i
    pos = (np.asarray(blk.cache.lengths, np.int64)[:, None]
           + np.arange(blk.chunk, dtype=np.int64)[None, :]).reshape(-1)
    h = p.op(o["norm1"], x)
    q = p.op(o["rope_q"], p.matmul(h, w["wq"]), positions=pos)
    k = p.op(o["rope_k"], p.matmul(h, w["wk"]), positions=pos)
    a = p.attention(q, k, p.matmul(h, w["wv"]), blk.cache, name=f"{blk.prefix}.attn")
    x2 = p.op(o["res1"], x, p.matmul(a, w["wo"]))
    h2 = p.op(o["norm2"], x2)
    y = p.op(o["act"], p.matmul(h2, w["w1"]), p.matmul(h2, w["w3"]))
    return p.op(o["res2"], x2, p.matmul(y, w["w2"]))
