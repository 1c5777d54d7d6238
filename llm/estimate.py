"""A response at full size: time to first token, time per output token, energy, CO2e and water
of a model serving `batch` sequences on one or more cards, from timed programs (docs/llm.md).

    e = estimate(ModelConfig.preset("llama-3.1-8b"), batch=16, prompt=512, new_tokens=400,
                 cards=8, weight_fmt="mxint4", cache_lengths="blocks")
    e.ttft_s, e.tpot_s, e.j_per_token, e.co2e_g, e.water_ml, e.gpu

How it is timed (each point a timing-mode program on a corsair card, docs/programs.md):

- **A layer.** One decoder block is placed on a probe card exactly as a model places its layers
  (KV cache first, in the DIMC slots or streamed from DRAM: `kv_home`, weights at
  `weight_fmt`, activations at `fmt`, one weight copy per chiplet, working buffers shared by
  the card's layers, RoPE tables in DRAM) and its decode step is
  timed at each cache length the response passes, from the end of its input's arrival. All
  layers have the same shapes and every layer of a card is placed as the first, in its own
  DIMC slots, so one layer's step stands for each: a step costs layers x that step (measured
  against cards running 2 and 3 such layers in one program: within 0.06 %; the layers barely
  overlap, each RMSNorm needing the previous layer's whole output).
- **The ends.** The embedding gather, final norm, LM head and argmax, one program on a second
  probe card. They sit on the last layer card when they fit beside its layers; else the LM
  head's columns are split over the layer cards (each computes its slice's logits and
  argmax, timed on the layer probe holding one slice beside its layer, its buffers shared
  with the layers', and the slices' maxima are compared: a tensor split); else they take one
  more card.
- **Cards.** Layers are split across cards in contiguous runs (pipeline order; a decode step
  crosses each card once), as many per card as its DIMC slots and SRAM hold (shared working
  buffers once, each layer's cache and constants each); the ends sit on the last card or one
  more (below). Between cards the activations [batch, hidden] float32 cross a card-to-card link.
  Every used card draws its static power for the whole response (a card waits while another
  computes).
- **Prefill** runs in chunks: a probe layer placed for batch x chunk rows (`place_block(
  chunk=)`: causal attention over the cache and the chunk) is timed at each chunk's start; the
  last chunk is timed whole (its padding counted). "auto" takes the largest chunk of 4, 16, 64
  (batch x chunk <= 64 rows) whose larger working buffers cost no card (the layers spread
  evenly over the cards decoding needs); when none does, the prompt is fed a token per step
  through the decode program (as `CardModel.generate` runs it). TTFT adds the ends once,
  after the last chunk.

cache_lengths (decode steps; prefill chunks are sampled likewise, "blocks" as 8 chunks):
"exact" times every cache length; "blocks" times the two ends of each run of
bk - 1 lengths between DIMC key blocks and each block boundary, and interpolates linearly in
between (a step's cycles and energy are affine in the length there; measured within 0.004 %
of "exact", a test holds it within 0.1 %); an integer N times N lengths evenly and
interpolates (an approximation: its error against "exact" is in docs/llm.md).
"""
from __future__ import annotations

import time
import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import CapacityError, ShapeError
from chipemu.llm.gpu import h200_estimate
from chipemu.llm.probes import (dynamic_j, holds, layer_only, layer_probe, layout,
                                place_ends, static_w, time_layer)
from chipemu.llm.response import MISTRAL, SERVER, Estimate, Server
from chipemu.llm.sites import site as as_site

__all__ = ["Server", "SERVER", "Estimate", "estimate", "response_line", "MISTRAL"]


def _runs(lo: int, hi: int, mode, bk: int) -> list:
    """[(a, b)]: the ranges of lengths lo..hi interpolated between timed ends a and b."""
    if mode == "exact":
        return [(L, L) for L in range(lo, hi + 1)]
    if mode == "blocks":            # block boundaries alone, the lengths between in runs
        out = []
        for start in range((lo - 1) // bk * bk, hi, bk):
            a, b = max(lo, start + 1), min(hi, start + bk - 1)
            if a <= b:
                out.append((a, b))
            if lo <= start + bk <= hi:
                out.append((start + bk, start + bk))
        return out
    n = min(mode, hi - lo + 1)
    xs = sorted({lo + round(i * (hi - lo) / max(n - 1, 1)) for i in range(n)})
    return list(zip(xs, xs[1:])) if len(xs) > 1 else [(lo, lo)]


def _points(lo: int, hi: int, mode, bk: int) -> list:
    """The cache lengths to time for lo..hi."""
    return sorted({x for run in _runs(lo, hi, mode, bk) for x in run})


def _interpolate(timed: dict, lo: int, hi: int, mode, bk: int) -> np.ndarray:
    """[hi - lo + 1, 2] (seconds, dynamic J) at lengths lo..hi from the timed ones: linear
    between the ends of each run."""
    out = np.zeros((hi - lo + 1, 2))
    for a, b in _runs(lo, hi, mode, bk):
        ta, tb = np.array(timed[a]), np.array(timed[b])
        for L in range(a, b + 1):
            f = (L - a) / (b - a) if b > a else 0.0
            out[L - lo] = (1 - f) * ta + f * tb
    return out


def _prefill(cfg, device, batch, prompt, total, fmt, wfmt, kv_fmt, chunk, mode, tick, need,
             kv_home):
    """(chunk, layers a card holds with its buffers, [chunks, 2] (s, dynamic J) per chunk
    step, points timed), or None when the prompt is fed a token per step (chunk 1, or no
    chunk fits). The chunk: `chunk`, or ("auto") the largest of 4, 16, 64 with batch x chunk
    <= 64 rows and chunk <= prompt whose layer fits and leaves a card `need` layers (its
    larger working buffers must not cost cards: the layers are spread over as many)."""
    if chunk == "auto":         # smallest first: a chunk that fails, a larger one fails too
        tries = [c for c in (4, 16, 64) if batch * c <= 64 and c <= prompt]
    else:
        tries = [chunk] if chunk > 1 else []
    best = None
    for c in tries:
        try:
            card, blk = layer_probe(cfg, device, batch, max(total, -(-prompt // c) * c), fmt,
                                    wfmt, kv_fmt, chunk=c, kv_home=kv_home)
        except CapacityError:
            if chunk != "auto":
                raise
            break
        held = holds(card, cfg.num_hidden_layers, card.device.sram_buffer_bytes)[1]
        if chunk != "auto" or held >= need:
            best = (c, card, blk, held)
        else:
            break
    if best is None:
        return None
    c, card, blk, held = best
    n = -(-prompt // c)                   # the last chunk is timed whole (padding counted)
    # chunks are sampled as lengths are, except "blocks", whose runs are key blocks: 8 chunks
    cmode = mode if mode == "exact" or isinstance(mode, int) else 8
    pts = _points(1, n, cmode, 1)
    timed = {}
    for j in pts:                         # chunk j starts with (j - 1) * c cached keys
        timed[j] = layer_only(card.device, time_layer(card, blk, batch * c, cfg.hidden_size,
                                                      (j - 1) * c + 1, per_seq=batch))
        tick()
    return c, held, _interpolate(timed, 1, n, cmode, 1), len(pts)


def estimate(cfg, *, batch: int, prompt: int, new_tokens: int, cards=None, device="corsair",
             fmt="mxint8", weight_fmt="mxint4", kv_fmt=None, site="us-average",
             cache_lengths="exact", prefill_chunk="auto", kv_home="auto",
             server: Server = SERVER, progress=None) -> Estimate:
    """The response estimate (see the module docstring). cards: the cards available (None:
    as many as the model needs; CapacityError when it needs more than given). prefill_chunk:
    prompt tokens per sequence per prefill step ("auto", or an integer; 1 feeds the prompt a
    token per step). kv_home: where each layer's KV cache lives: "dimc" (in the DIMC slots),
    "dram" (in the chiplets' DRAM, streamed a block at a time through one block's slots per
    tile) or "auto" (the DIMC when the layers fit the cards available - cards, or the server's
    - else DRAM). progress: called with (points timed, points to time so far)."""
    t0 = time.perf_counter()
    batch = args.integer("batch", batch, 1, error=ShapeError)
    prompt = args.integer("prompt", prompt, 1, error=ShapeError)
    new_tokens = args.integer("new_tokens", new_tokens, 1, error=ShapeError)
    if cards is not None:
        cards = args.integer("cards", cards, 1, error=ShapeError)
    kv_home = args.choice("kv_home", kv_home, ("auto", "dimc", "dram"))
    if prefill_chunk != "auto":
        prefill_chunk = args.integer("prefill_chunk", prefill_chunk, 1, error=ShapeError,
                                     why="or 'auto'")
    if not (cache_lengths in ("exact", "blocks") or (isinstance(cache_lengths, int) and
                                                     not isinstance(cache_lengths, bool)
                                                     and cache_lengths >= 2)):
        raise ShapeError(f"cache_lengths={args.show(cache_lengths)}; allowed: 'exact', "
                         f"'blocks' or an integer >= 2 (lengths timed, interpolated between)")
    place = as_site(site)
    site_name = site if isinstance(site, str) else "custom"
    total = prompt + new_tokens - 1                     # the cache length after the last step
    done = [0]

    def tick(todo=0):
        done[0] += 1
        if progress is not None:
            progress(done[0], max(todo, done[0]))
    home, card, blk, held = layout(cfg, device, batch, total, fmt, weight_fmt, kv_fmt,
                                     kv_home, cards or server.cards)
    dev, h, layers = card.device, cfg.hidden_size, cfg.num_hidden_layers
    slots_layer, per_card, shared, own = held
    # a prefill chunk may take layers per card as long as the layer cards stay as many
    need = -(-layers // -(-layers // per_card)) if per_card else layers
    pre = _prefill(cfg, device, batch, prompt, total, fmt, weight_fmt, kv_fmt, prefill_chunk,
                   cache_lengths, tick, need, home)
    bk = dev.tile.dimc.rows
    lo = 1 if pre is None else prompt + 1               # lengths decode steps end at
    pts = _points(lo, total, cache_lengths, bk) if lo <= total else []
    timed, last = {}, None
    for L in pts:
        last = time_layer(card, blk, batch, h, L)
        timed[L] = layer_only(dev, last)
        tick(done[0] + len(pts) - len(timed))
    if last is None:                                    # one new token: time one decode step
        last = time_layer(card, blk, batch, h, total)
    if pre is not None:
        per_card = min(per_card, pre[1])
    if per_card < 1:
        raise CapacityError(f"one layer of {cfg.name} and the buffers it shares do not fit a "
                            f"{dev.name} card's SRAM at batch {batch} with {total} cached tokens")
    used, split, ends, head_slots = place_ends(cfg, card, batch, fmt, weight_fmt, layers,
                                               per_card, slots_layer, shared, own)
    if cards is not None and used > cards:
        raise CapacityError(
            f"{cfg.name} at {weight_fmt} weights, batch {batch} and {total} cached tokens needs "
            f"{used} {dev.name} cards ({per_card} of its {layers} layers per card, "
            f"{slots_layer} DIMC slots each; the LM head {head_slots}); cards={cards}")
    hop_s, hop_j = _links(server, used, split, batch, h)
    watts = used * static_w(last)          # every used card, the whole response
    dec = _interpolate(timed, lo, total, cache_lengths, bk) if pts else np.zeros((0, 2))
    dec_s = layers * dec[:, 0] + ends.seconds + hop_s
    dec_dyn = layers * dec[:, 1] + dynamic_j(ends) + hop_j
    if pre is None:                                     # the prompt's steps are decode steps
        ttft, pre_dyn = float(dec_s[:prompt].sum()), float(dec_dyn[:prompt].sum())
        dec_s, dec_dyn = dec_s[prompt:], dec_dyn[prompt:]
        chunk = 1
    else:
        chunk, chunks = pre[0], pre[2]
        # a chunk step is every layer's; the first token needs the ends once, after the last
        ttft = float(layers * chunks[:, 0].sum() + len(chunks) * hop_s + ends.seconds)
        pre_dyn = float(layers * chunks[:, 1].sum() + len(chunks) * hop_j + dynamic_j(ends))
    response = ttft + float(dec_s.sum())
    static_j = watts * response
    energy = pre_dyn + float(dec_dyn.sum()) + static_j
    decode_j = float(dec_dyn.sum()) + watts * (response - ttft)
    per_resp = energy / batch
    gpu = h200_estimate(cfg, batch=batch, prompt=prompt, new_tokens=new_tokens)
    by_call = _by_call(last, ends, layers, hop_j, watts * float(dec_s[-1] if len(dec_s)
                                                                else ttft))
    # the layers' dynamic energy by component; static is every card's over the step
    comp = {c: layers * v * 1e-15 for c, v in last.energy_breakdown["component"].items()
            if c != "static"}
    comp["static (all cards)"] = by_call["static (all cards)"]
    return Estimate(
        cfg.name, batch, prompt, new_tokens, used, per_card, fmt, weight_fmt, site_name,
        ttft, response, energy, static_j, decode_j, place.co2e_g(per_resp),
        place.water_l(per_resp) * 1e3, gpu, place.co2e_g(gpu.energy_j / batch),
        place.water_l(gpu.energy_j / batch) * 1e3, by_call, comp,
        str(cache_lengths), done[0], time.perf_counter() - t0, chunk, home)


def _links(server, used, split, batch, h):
    """(s, J) a step spends on card-to-card links."""
    act = batch * h * 4                                 # float32 activations between cards
    hops = used - 1 + (1 if split > 1 else 0)           # a split head: x to all, maxima back
    hop_s = hops * server.link_latency_s + (used - 1) * act / server.link_bytes_per_s \
        + (split - 1) * batch * 8 / server.link_bytes_per_s
    hop_j = ((used - 1) * act + (split - 1) * (act + batch * 8)) * 8 \
        * server.link_pj_per_bit * 1e-12
    return hop_s, hop_j


def _by_call(last, ends, layers, hop_j, static_j):
    out = {}
    for name, k in last.kernels.items():
        if name != "x":
            key = name.split(".", 1)[-1]
            out[key] = out.get(key, 0.0) + layers * k["dynamic_fj"] * 1e-15
    for name, k in ends.kernels.items():
        out[name] = out.get(name, 0.0) + k["dynamic_fj"] * 1e-15
    out["card links"] = hop_j
    out["static (all cards)"] = static_j
    return out


def response_line(e: Estimate) -> str:
    """One line: a response's time, energy, CO2e and water (the demo's)."""
    return (f"{e.model}, batch {e.batch}, {e.prompt}+{e.new_tokens} tokens on {e.cards} card"
            f"{'s' if e.cards > 1 else ''}: TTFT {e.ttft_s * 1e3:.2f} ms, "
            f"{e.tpot_s * 1e3:.3f} ms/token, {e.j_per_response:.3g} J "
            f"({e.j_per_token * 1e3:.3g} mJ/token), {e.co2e_g * 1e3:.3g} mgCO2e, "
            f"{e.water_ml:.3g} mL water per response")
