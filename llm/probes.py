"""The probe cards of a response estimate (llm/estimate.py, docs/llm.md "What is timed"): one
layer placed as a model places each of its layers, the ends (embedding, final norm, LM head,
argmax), where the KV cache lives, how many layers a card holds, and a probe step's time and
energy.
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator.errors import CapacityError
from chipemu.kernels.attention.placed import kv_cells
from chipemu.kernels.attention.plan import default_kv_fmt, plan_cache
from chipemu.kernels.card import Card
from chipemu.kernels.program.block import block_step, place_block
from chipemu.kernels.scaffold import as_device

__all__ = ["layer_probe", "layout", "time_layer", "ends_probe", "place_ends", "holds",
           "layer_only", "static_w", "dynamic_j"]


def layer_probe(cfg, dev, batch, total, fmt, wfmt, kv_fmt, chunk=1, kv_home="dimc"):
    """A card holding one layer: one weight copy per chiplet (the most layers per card), or
    more copies where one copy's working buffers (rows per tile) do not fit SRAM."""
    shape, why = cfg.block_shape(), None
    for reps in (1, 2, 4, 8):
        card = Card(dev, mode="timing")
        try:
            # a full cache: every key block loaded, so a step may start at any length
            kv = (batch, shape.kv_heads, total, shape.head_dim)
            return card, place_block(card, shape, shape.weight_shapes(), batch=batch,
                                     max_len=total, prefix="l0", fmt=fmt, kv_fmt=kv_fmt,
                                     k=kv, v=kv,
                                     share="layers", rope_tables="dram", weight_fmt=wfmt,
                                     max_replicas=reps, chunk=chunk, kv_home=kv_home)
        except CapacityError as exc:
            why = exc
    raise CapacityError(f"one layer of {cfg.name} does not fit a {card.device.name} card at "
                        f"batch {batch} with {total} cached tokens ({why})")


def _cache_slots(cfg, dev, batch, total, fmt, kv_fmt, home) -> int:
    """DIMC slots one layer's KV cache holds on a fresh card (its plan only: cheap)."""
    s = cfg.block_shape()
    plan = plan_cache(batch, s.heads, s.kv_heads, s.head_dim, total, 1, fmt,
                      kv_fmt or default_kv_fmt(fmt), dev, kv_home=home)
    return sum(b - a for a, b in kv_cells(plan).values())


def layout(cfg, device, batch, total, fmt, wfmt, kv_fmt, kv_home, avail):
    """(KV home, probe card, its block, holds()). "auto" takes the DIMC home when its layers
    fit `avail` cards, else DRAM. It probes the likelier home first: the DIMC when its caches
    would hold at most 15 % of the cards' slots, else DRAM, whose probe predicts the DIMC's
    layers per card (its slots with one DIMC cache's instead of one DRAM cache's) so that the
    DIMC is probed only where it may fit."""
    layers = cfg.num_hidden_layers

    def attempt(home):
        try:
            card, blk = layer_probe(cfg, device, batch, total, fmt, wfmt, kv_fmt, kv_home=home)
        except CapacityError as exc:
            return exc
        return home, card, blk, holds(card, layers, card.device.sram_buffer_bytes)

    def fits(a):
        return not isinstance(a, Exception) and a[3][1] > 0 and -(-layers // a[3][1]) <= avail

    if kv_home != "auto":
        a = attempt(kv_home)
        if isinstance(a, Exception):
            raise a
        return a
    dev = as_device(device)
    dimc = _cache_slots(cfg, dev, batch, total, fmt, kv_fmt, "dimc")
    if dimc * -(-layers // avail) <= dev.n_tiles * dev.tile.dimc.weight_slots * 3 // 20:
        a = attempt("dimc")
        if fits(a):
            return a
        b = attempt("dram")
        if not isinstance(b, Exception):
            return b
        if isinstance(a, Exception):
            raise b
        return a
    a = attempt("dram")
    if isinstance(a, Exception):
        b = attempt("dimc")
        if isinstance(b, Exception):
            raise b
        return b
    slots = a[3][0] + dimc - _cache_slots(cfg, dev, batch, total, fmt, kv_fmt, "dram")
    if -(-layers // max(1, min(a[3][1], a[1].ledger.owner.size // slots))) > avail:
        return a
    b = attempt("dimc")
    return b if fits(b) else a


def time_layer(card, blk, rows, hidden, L, per_seq=None):
    """The probe's step that ends at cache length L (the rows' sequences hold L - 1 keys
    before a decode step; a chunk step starts at L - 1)."""
    blk.cache.lengths = np.full(per_seq or rows, L - 1, np.int64)    # timing mode: lengths
    with card.program("layer") as p:
        block_step(p, blk, p.input((rows, hidden)))
    return p.result


def ends_probe(cfg, dev, batch, fmt, wfmt, v=None, card=None):
    """A card with the embedding, final norm, LM head (its first v columns: a card's slice of
    a head split over cards) and argmax, and their program's Result. card: a layer card to put
    them on instead, their working buffers shared with the layers' (the ends run before the
    first layer and after the last, never beside one; argmax's with the LM head's pool,
    which it follows)."""
    card = card or Card(dev, mode="timing")
    tag = (lambda n: None) if not card.ledger.names else (lambda n: f"layers.{n}")
    h, v = cfg.hidden_size, v or cfg.vocab_size
    embed = card.place_op("embed", "embedding", rows=batch, cols=h, table=(v, h),
                          share=tag("embed"))
    norm = card.place_op("norm", "rmsnorm", rows=batch, cols=h, gamma=(h,),
                         eps=cfg.rms_norm_eps, share=tag("norm1"))
    head = card.place("lm_head", (h, v), fmt=fmt, rows=batch, weight_fmt=wfmt, max_replicas=1,
                      share=tag("a"))
    pick = card.place_op("argmax", "argmax", rows=batch, cols=v, share=tag("a"))
    with card.program("ends") as p:
        x = p.op(embed, ids=np.zeros(batch, np.int64))
        p.op(pick, p.matmul(p.op(norm, x), head))
    return card, p.result


def place_ends(cfg, card, batch, fmt, wfmt, layers, per_card, slots_layer, shared, own):
    """(cards used, cards the LM head is split over, the ends' Result, head slots): the ends
    on the last layer card when they fit beside its layers, else the head's columns split over
    every layer card (each computes its slice's logits and argmax; the maxima are compared),
    else one more card. `card`: the layer probe (one layer; its buffers shared `shared`, each
    layer's own `own` bytes); a split head's slice is placed on it, sharing the layers'
    working buffers, and what it adds is checked against what per_card layers leave."""
    dev = card.device
    cap, slots_card = dev.sram_buffer_bytes, card.ledger.owner.size
    used = -(-layers // per_card)
    last = layers - (used - 1) * per_card
    # the head's weight blocks, one copy: fewer slots than these left, it cannot fit there
    head = -(-cfg.hidden_size // dev.tile.dimc.rows) * -(-cfg.vocab_size // dev.cols_eff(wfmt))
    ends = None
    if head <= slots_card - last * slots_layer:
        ends_card, ends = ends_probe(cfg, dev, batch, fmt, wfmt)
        head = ends_card.ledger.used_slots
        if head <= slots_card - last * slots_layer and \
                ends_card.machine.sram_bytes_used <= cap - shared - last * own:
            return used, 1, ends, head
    if used > 1:
        slots0, sram0 = card.ledger.used_slots, card.machine.sram_bytes_used
        try:
            _, sliced = ends_probe(cfg, dev, batch, fmt, wfmt, -(-cfg.vocab_size // used),
                                   card=card)
        except CapacityError:
            sliced = None
        if sliced is not None and \
                card.ledger.used_slots - slots0 <= slots_card - per_card * slots_layer and \
                card.machine.sram_bytes_used - sram0 <= cap - shared - per_card * own:
            return used, used, sliced, head
    return used + 1, 1, ends or ends_probe(cfg, dev, batch, fmt, wfmt)[1], head


def static_w(r) -> float:
    static = sum(k["static_fj"] for k in r.kernels.values())
    return static * 1e-15 / r.seconds


def dynamic_j(r) -> float:
    return sum(k["dynamic_fj"] for k in r.kernels.values()) * 1e-15


def layer_only(dev, r):
    """(s, dynamic J) of a probe's layer step: without the program's input from the host,
    which a model step has once (its embedding), and which the layer's first calls wait for."""
    x = r.kernels["x"]
    return dev.seconds(r.cycles - x["end_cycle"]), dynamic_j(r) - x["dynamic_fj"] * 1e-15


def holds(card, layers, cap):
    """(DIMC slots of a layer, layers a card holds by slots and by SRAM: the shared working
    buffers once, each layer's own bytes each)."""
    slots = card.ledger.used_slots
    shared = card.sram_shared_bytes()
    own = card.machine.sram_bytes_used - shared
    return slots, min(card.ledger.owner.size // slots, (cap - shared) // own, layers), shared, own
