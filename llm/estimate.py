"""A response at full size: time to first token, time per output token, energy, CO2e and water
of a model serving `batch` sequences on one or more cards, from timed programs (docs/llm.md).

    e = estimate(ModelConfig.preset("llama-3.1-8b"), batch=16, prompt=512, new_tokens=400,
                 cards=8, weight_fmt="mxint4", cache_lengths="blocks")
    e.ttft_s, e.tpot_s, e.j_per_token, e.co2e_g, e.water_ml, e.gpu

How it is timed (each point a timing-mode program on a corsair card, docs/programs.md):

- **A layer.** One decoder block is placed on a probe card exactly as a model places its layers
  (KV cache first, weights at `weight_fmt`, activations at `fmt`, one weight copy per chiplet,
  working buffers shared by the card's layers, RoPE tables in DRAM) and its decode step is
  timed at each cache length the response passes, from the end of its input's arrival. All
  layers have the same shapes and every layer of a card is placed as the first, in its own
  DIMC slots, so one layer's step stands for each: a step costs layers x that step (measured
  against cards running 2 and 3 such layers in one program: within 0.06 %; the layers barely
  overlap, each RMSNorm needing the previous layer's whole output).
- **The ends.** The embedding gather, final norm, LM head and argmax, one program on a second
  probe card. They sit on the last layer card when they fit beside its layers; else the LM
  head's columns are split over the layer cards (each computes its slice's logits and
  argmax, timed as a probe holding one slice, and the slices' maxima are compared: a tensor
  split); else they take one more card.
- **Cards.** Layers are split across cards in contiguous runs (pipeline order; a decode step
  crosses each card once), as many per card as its DIMC slots and SRAM hold (shared working
  buffers once, each layer's cache and constants each); the ends sit on the last card or one
  more (below). Between cards the activations [batch, hidden] float32 cross a card-to-card link.
  Every used card draws its static power for the whole response (a card waits while another
  computes).
- **Prefill** is fed a token per step through the same program (as `CardModel.generate`), so
  TTFT is the sum of the prompt's steps; a batched prefill is not modelled yet.

cache_lengths: "exact" times every cache length; "blocks" times the two ends of each run of
bk - 1 lengths between DIMC key blocks and each block boundary, and interpolates linearly in
between (a step's cycles and energy are affine in the length there; tests check it equal to
"exact"); an integer N times N lengths evenly and interpolates (an approximation: its error
against "exact" is in docs/llm.md).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import CapacityError, ShapeError
from chipemu.kernels.card import Card
from chipemu.kernels.program.block import block_step, place_block
from chipemu.llm.gpu import GpuEstimate, h200_estimate
from chipemu.llm.sites import site as as_site

__all__ = ["Server", "SERVER", "Estimate", "estimate", "MISTRAL"]


@dataclass(frozen=True)
class Server:
    """Cards joined by card-to-card links (a decode step's activations cross them)."""
    name: str
    cards: int
    link_bytes_per_s: float
    link_latency_s: float
    link_pj_per_bit: float
    source: str


SERVER = Server("corsair-server", 8, 256e9, 100e-9, 1.0,
                "8 cards per server (Hot Chips 2025); card-to-card bridge 256 GB/s, 1 pJ/bit, "
                "100 ns: assumed (hardware-numbers.md: no public figure)")

MISTRAL = {"tokens": 400, "co2e_g": 1.14, "water_ml": 45.0,
           "source": "Mistral AI LCA (July 2025, Carbone 4, ADEME): one 400-token Le Chat reply "
                     "of Mistral Large 2, location-based, cooling and hardware manufacturing "
                     "included, training not"}


@dataclass
class Estimate:
    """One response of `batch` sequences (times in s, energies in J for the whole batch unless
    'per response' (one sequence) or 'per token' (one output token))."""
    model: str
    batch: int
    prompt: int
    new_tokens: int
    cards: int
    layers_per_card: int
    fmt: str
    weight_fmt: str
    site: str
    ttft_s: float
    response_s: float
    energy_j: float
    static_j: float
    decode_j: float                     # the decode steps' share of energy_j
    co2e_g: float                       # per response
    water_ml: float                     # per response
    gpu: GpuEstimate
    gpu_co2e_g: float
    gpu_water_ml: float
    by_call_j: dict = field(default_factory=dict)       # one decode step at the last length
    by_component_j: dict = field(default_factory=dict)  # the same step
    cache_lengths: str = "exact"
    timed_points: int = 0
    wall_s: float = 0.0

    @property
    def tpot_s(self) -> float:
        n = self.new_tokens - 1
        return (self.response_s - self.ttft_s) / n if n else 0.0

    @property
    def tokens_per_s_user(self) -> float:
        return 1 / self.tpot_s if self.tpot_s else 0.0

    @property
    def tokens_per_s_total(self) -> float:
        return self.batch * self.tokens_per_s_user

    @property
    def j_per_token(self) -> float:
        return self.energy_j / (self.batch * self.new_tokens)

    @property
    def decode_j_per_token(self) -> float:
        """Energy of one decode step per sequence (no prompt): the marginal output token."""
        n = self.new_tokens - 1
        return self.decode_j / (self.batch * n) if n else 0.0

    @property
    def gpu_decode_j_per_token(self) -> float:
        n = self.new_tokens - 1
        return self.gpu.decode_j / (self.batch * n) if n else 0.0

    @property
    def j_per_response(self) -> float:
        return self.energy_j / self.batch

    @property
    def wh_per_response(self) -> float:
        return self.j_per_response / 3600

    @property
    def static_share(self) -> float:
        return self.static_j / self.energy_j if self.energy_j else 0.0

    @property
    def gpu_j_per_token(self) -> float:
        return self.gpu.energy_j / (self.batch * self.new_tokens)

    def as_dict(self) -> dict:
        keys = ("model", "batch", "prompt", "new_tokens", "cards", "layers_per_card", "fmt",
                "weight_fmt", "site", "ttft_s", "tpot_s", "response_s", "tokens_per_s_user",
                "tokens_per_s_total", "energy_j", "j_per_token", "decode_j_per_token",
                "gpu_decode_j_per_token", "j_per_response",
                "wh_per_response", "static_share", "co2e_g", "water_ml", "cache_lengths",
                "timed_points", "wall_s", "gpu_j_per_token", "gpu_co2e_g", "gpu_water_ml")
        out = {k: getattr(self, k) for k in keys}
        out.update(gpu_ttft_s=self.gpu.ttft_s, gpu_tpot_s=self.gpu.decode_s / max(
            self.new_tokens - 1, 1), gpu_fits=self.gpu.fits)
        return out


def _points(total: int, mode, bk: int) -> list:
    """The cache lengths (1..total) to time."""
    if mode == "exact":
        return list(range(1, total + 1))
    if mode == "blocks":
        pts = set()
        for lo in range(0, total, bk):
            pts.update(p for p in (lo + 1, lo + bk - 1, lo + bk) if 1 <= p <= total)
        return sorted(pts | {total})
    n = min(mode, total)
    return sorted({1 + round(i * (total - 1) / max(n - 1, 1)) for i in range(n)})


def _interpolate(timed: dict, total: int, mode, bk: int) -> np.ndarray:
    """[total, 2] (seconds, dynamic J) at every length 1..total from the timed ones."""
    xs = sorted(timed)
    out = np.zeros((total, 2))
    for L in range(1, total + 1):
        if L in timed:
            out[L - 1] = timed[L]
            continue
        if mode == "blocks":            # between the ends of L's run of lengths
            lo = (L - 1) // bk * bk
            a, b = lo + 1, min(lo + bk - 1, total)
        else:
            i = np.searchsorted(xs, L)
            a, b = xs[i - 1], xs[i]
        f = (L - a) / (b - a)
        out[L - 1] = (1 - f) * np.array(timed[a]) + f * np.array(timed[b])
    return out


def _layer_probe(cfg, dev, batch, total, fmt, wfmt, kv_fmt):
    """A card holding one layer: one weight copy per chiplet (the most layers per card), or
    more copies where one copy's working buffers (rows per tile) do not fit SRAM."""
    shape, why = cfg.block_shape(), None
    for reps in (1, 2, 4, 8):
        card = Card(dev, mode="timing")
        try:
            return card, place_block(card, shape, shape.weight_shapes(), batch=batch,
                                     max_len=total, prefix="l0", fmt=fmt, kv_fmt=kv_fmt,
                                     share="layers", rope_tables="dram", weight_fmt=wfmt,
                                     max_replicas=reps)
        except CapacityError as exc:
            why = exc
    raise CapacityError(f"one layer of {cfg.name} does not fit a {card.device.name} card at "
                        f"batch {batch} with {total} cached tokens ({why})")


def _time_layer(card, blk, batch, hidden, L):
    blk.cache.lengths = np.full(batch, L - 1, np.int64)    # timing mode: lengths only
    with card.program("layer") as p:
        block_step(p, blk, p.input((batch, hidden)))
    return p.result


def _ends_probe(cfg, dev, batch, fmt, wfmt, v=None):
    """A card with the embedding, final norm, LM head (its first v columns: a card's slice of
    a head split over cards) and argmax, and their program's Result."""
    card = Card(dev, mode="timing")
    h, v = cfg.hidden_size, v or cfg.vocab_size
    embed = card.place_op("embed", "embedding", rows=batch, cols=h, table=(v, h))
    norm = card.place_op("norm", "rmsnorm", rows=batch, cols=h, gamma=(h,),
                         eps=cfg.rms_norm_eps)
    head = card.place("lm_head", (h, v), fmt=fmt, rows=batch, weight_fmt=wfmt, max_replicas=1)
    pick = card.place_op("argmax", "argmax", rows=batch, cols=v)
    with card.program("ends") as p:
        x = p.op(embed, ids=np.zeros(batch, np.int64))
        p.op(pick, p.matmul(p.op(norm, x), head))
    return card, p.result


def _place_ends(cfg, device, batch, fmt, wfmt, layers, per_card, slots_card, slots_layer,
                sram_free, own):
    """(cards used, cards the LM head is split over, the ends' Result, head slots): the ends
    on the last layer card when they fit beside its layers, else the head's columns split over
    every layer card (each computes its slice's logits and argmax; the maxima are compared),
    else one more card."""
    ends_card, ends = _ends_probe(cfg, device, batch, fmt, wfmt)
    head = ends_card.ledger.used_slots
    used = -(-layers // per_card)
    last = layers - (used - 1) * per_card
    if head <= slots_card - last * slots_layer and \
            ends_card.machine.sram_bytes_used <= sram_free - last * own:
        return used, 1, ends, head
    if used > 1:
        sliced_card, sliced = _ends_probe(cfg, device, batch, fmt, wfmt,
                                          -(-cfg.vocab_size // used))
        if sliced_card.ledger.used_slots <= slots_card - per_card * slots_layer and \
                sliced_card.machine.sram_bytes_used <= sram_free - per_card * own:
            return used, used, sliced, head
    return used + 1, 1, ends, head


def _static_w(r) -> float:
    static = sum(k["static_fj"] for k in r.kernels.values())
    return static * 1e-15 / r.seconds


def _dynamic_j(r) -> float:
    return sum(k["dynamic_fj"] for k in r.kernels.values()) * 1e-15


def estimate(cfg, *, batch: int, prompt: int, new_tokens: int, cards=None, device="corsair",
             fmt="mxint8", weight_fmt="mxint4", kv_fmt=None, site="us-average",
             cache_lengths="exact", server: Server = SERVER, progress=None) -> Estimate:
    """The response estimate (see the module docstring). cards: the cards available (None:
    as many as the model needs; CapacityError when it needs more than given). progress:
    called with (points timed, points to time)."""
    t0 = time.perf_counter()
    batch = args.integer("batch", batch, 1, error=ShapeError)
    prompt = args.integer("prompt", prompt, 1, error=ShapeError)
    new_tokens = args.integer("new_tokens", new_tokens, 1, error=ShapeError)
    if cards is not None:
        cards = args.integer("cards", cards, 1, error=ShapeError)
    if not (cache_lengths in ("exact", "blocks") or (isinstance(cache_lengths, int) and
                                                     not isinstance(cache_lengths, bool)
                                                     and cache_lengths >= 2)):
        raise ShapeError(f"cache_lengths={args.show(cache_lengths)}; allowed: 'exact', "
                         f"'blocks' or an integer >= 2 (lengths timed, interpolated between)")
    place = as_site(site)
    site_name = site if isinstance(site, str) else "custom"
    total = prompt + new_tokens - 1                     # steps; the cache length after each
    card, blk = _layer_probe(cfg, device, batch, total, fmt, weight_fmt, kv_fmt)
    dev, h = card.device, cfg.hidden_size
    bk = dev.tile.dimc.rows
    pts = _points(total, cache_lengths, bk)
    timed, last = {}, None
    for i, L in enumerate(pts):
        r = _time_layer(card, blk, batch, h, L)
        # the layer alone: without the program's input from the host, which a model step
        # has once (its embedding), and which the layer's first calls wait for
        x = r.kernels["x"]
        timed[L] = (dev.seconds(r.cycles - x["end_cycle"]),
                    _dynamic_j(r) - x["dynamic_fj"] * 1e-15)
        last = r
        if progress is not None:
            progress(i + 1, len(pts))
    # cards: the card's slots and SRAM, the shared buffers once and each layer's own bytes
    slots_card = card.ledger.owner.size
    slots_layer = card.ledger.used_slots
    shared = card.sram_shared_bytes()
    own = card.machine.sram_bytes_used - shared
    cap = dev.sram_buffer_bytes
    per_card = min(slots_card // slots_layer, (cap - shared) // own, cfg.num_hidden_layers)
    if per_card < 1:
        raise CapacityError(f"one layer of {cfg.name} and the buffers it shares do not fit a "
                            f"{dev.name} card's SRAM at batch {batch} with {total} cached tokens")
    layers = cfg.num_hidden_layers
    used, split, ends, head_slots = _place_ends(cfg, device, batch, fmt, weight_fmt, layers,
                                                per_card, slots_card, slots_layer,
                                                cap - shared, own)
    if cards is not None and used > cards:
        raise CapacityError(
            f"{cfg.name} at {weight_fmt} weights, batch {batch} and {total} cached tokens needs "
            f"{used} {dev.name} cards ({per_card} of its {layers} layers per card, "
            f"{slots_layer} DIMC slots each; the LM head {head_slots}); cards={cards}")
    steps = _interpolate(timed, total, cache_lengths, bk)
    act = batch * h * 4                                 # float32 activations between cards
    hops = used - 1 + (1 if split > 1 else 0)           # a split head: x to all, maxima back
    hop_s = hops * server.link_latency_s + (used - 1) * act / server.link_bytes_per_s \
        + (split - 1) * batch * 8 / server.link_bytes_per_s
    hop_j = ((used - 1) * act + (split - 1) * (act + batch * 8)) * 8 \
        * server.link_pj_per_bit * 1e-12
    step_s = layers * steps[:, 0] + ends.seconds + hop_s
    step_dyn = layers * steps[:, 1] + _dynamic_j(ends) + hop_j
    static_w = used * _static_w(last)
    ttft, response = float(step_s[:prompt].sum()), float(step_s.sum())
    static_j = static_w * response
    energy = float(step_dyn.sum()) + static_j
    decode_j = float(step_dyn[prompt:].sum()) + static_w * (response - ttft)
    per_resp = energy / batch
    gpu = h200_estimate(cfg, batch=batch, prompt=prompt, new_tokens=new_tokens)
    by_call = {}
    for name, k in last.kernels.items():
        if name == "x":
            continue
        key = name.split(".", 1)[-1]
        by_call[key] = by_call.get(key, 0.0) + layers * k["dynamic_fj"] * 1e-15
    for name, k in ends.kernels.items():
        by_call[name] = by_call.get(name, 0.0) + k["dynamic_fj"] * 1e-15
    by_call["card links"] = hop_j
    by_call["static (all cards)"] = static_w * float(step_s[-1])
    comp = {c: layers * v * 1e-15 for c, v in last.energy_breakdown["component"].items()}
    return Estimate(
        cfg.name, batch, prompt, new_tokens, used, per_card, fmt, weight_fmt, site_name,
        ttft, response, energy, static_j, decode_j, place.co2e_g(per_resp),
        place.water_l(per_resp) * 1e3, gpu, place.co2e_g(gpu.energy_j / batch),
        place.water_l(gpu.energy_j / batch) * 1e3, by_call, comp,
        str(cache_lengths), len(pts), time.perf_counter() - t0)


def response_line(e: Estimate) -> str:
    """One line: a response's time, energy, CO2e and water (the demo's)."""
    return (f"{e.model}, batch {e.batch}, {e.prompt}+{e.new_tokens} tokens on {e.cards} card"
            f"{'s' if e.cards > 1 else ''}: TTFT {e.ttft_s * 1e3:.2f} ms, "
            f"{e.tpot_s * 1e3:.3f} ms/token, {e.j_per_response:.3g} J "
            f"({e.j_per_token * 1e3:.3g} mJ/token), {e.co2e_g * 1e3:.3g} mgCO2e, "
            f"{e.water_ml:.3g} mL water per response")
