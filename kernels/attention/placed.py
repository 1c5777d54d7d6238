"""A KV cache on a card, beside placed weights (docs/programs.md, docs/attention.md).

    cache = place_kv_cache(card, "kv0", k, v, max_len=4112, heads=32)     # first fit
    kv_cells(cache.plan)          # {global tile: (s0, s1)}: the DIMC slots the cache holds

A cache's plan (kernels/attention/plan.py `plan_cache`) in a region puts unit u's key blocks on
the region's positions u * members .. u * members + members - 1 and, on each, the slots
[s0, s0 + its blocks x (d_splits + v_splits)). `kv_cells` lists those cells, so a card's ledger
(kernels/placement.py) can hold them like a placed weight's; `place_kv_cache` picks a region
whose cells are free (first fit in (slot, tile, chiplet) order, as weights are placed) or
checks a given one, builds the cache on the card's Machine and enters its cells in the ledger.
The card is used through its `device`, `machine` and `ledger` (`owner`, `names`, `clash`,
`is_free`, `take`) only.
"""
from __future__ import annotations

from chipemu.emulator import args
from chipemu.emulator.errors import CapacityError, ConfigError
from chipemu.kernels.attention.cache import KVCache
from chipemu.kernels.region import Region

__all__ = ["kv_cells", "kv_first_fit", "place_kv_cache"]


def kv_cells(plan) -> dict:
    """{global tile: (s0, s1)}: the DIMC slots a cache's (DIMC path) plan keeps K^T and V in
    (homed in DRAM: the slots of the one block it streams through)."""
    if plan.path != "dimc":
        return {}
    return {plan.tile_of(u, m, r): (plan.slot_base, plan.slot_base + plan.slots_held(m))
            for r in range(plan.replicas) for u in range(plan.units)
            for m in range(plan.members) if len(plan.k_run(m))}


def _fits(plan_in, region):
    """The cache's layout plan in `region`, or None when it does not fit there."""
    try:
        plan = plan_in(region)
    except CapacityError:
        return None
    return plan if plan.path == "dimc" else None


def kv_first_fit(ledger, device, plan_in):
    """The first region, in (slot, tile, chiplet) order, in which the cache's layout plan
    (plan_in(region), e.g. KVCache's) keeps its K/V in free cells of `ledger`; None when there
    is none. A region is chiplets [c0, P) x local tiles [t0, T) x the slots [s0, s0 + the
    plan's slots per tile)."""
    P, T, S = device.n_chiplets, device.tiles_per_chiplet, device.tile.dimc.weight_slots
    for s0 in range(ledger.floor, S):
        for t0 in range(T):
            for c0 in range(P):
                if ledger.owner[c0 * T + t0, s0] >= 0:      # the plan's first tile would clash
                    continue
                wide = _fits(plan_in, Region.span(c0, P, t0, T, s0, S))
                if wide is None:            # fewer tiles (a later c0, t0) cannot fit either
                    break
                used = wide.slots_held(0)
                reg = Region.span(c0, P, t0, T, s0, s0 + used)
                plan = _fits(plan_in, reg)
                if plan is not None and ledger.is_free(kv_cells(plan)):
                    return reg
            else:
                continue
            if c0 == 0:
                break
    return None


class SharedSram:
    """A cache's SRAM buffers on a card under a share tag: its state (the shadows of the open
    key blocks, the softmax constants, the scale row) its own, its working buffers (queries,
    scores, partial sums, the new rows, the weights staging, the bias blocks, written every
    step) shared with the caches of the card's other layers (Card.sram_buffers)."""

    STATE = ("kshadow", "vshadow", "const", "qscale")

    def __init__(self, card, name, tag):
        self.card, self.name, self.tag = card, name, tag

    def _split(self, sizes):
        own = {b: n for b, n in sizes.items() if n and b in self.STATE}
        return own, {b: n for b, n in sizes.items() if n and b not in self.STATE}

    def check(self, sizes):
        own, work = self._split(sizes)
        self.card.check_sram(f"KV cache {self.name}", self.card.sram_new_bytes(None, own)
                             + self.card.sram_new_bytes(self.tag, work))

    def alloc(self, sizes) -> dict:
        own, work = self._split(sizes)
        mach = self.card.machine
        out = {b: mach.alloc_sram(f"{self.name}:{b}", n) for b, n in own.items()}
        out.update(self.card.sram_buffers(self.name, self.tag, work))
        return out


def place_kv_cache(card, name, k, v, *, region=None, share=None, **kwargs) -> KVCache:
    """A KVCache(k, v, **kwargs) on `card`'s Machine (its mode and backend), in `region` or the
    first free one (kv_first_fit), its cells then held in the card's ledger under `name`.
    ConfigError for a name the ledger holds or a region whose cells a placed weight holds (named
    with its tile and slot); CapacityError when no region is free. A refused cache changes
    nothing on the card (it is refused before anything is allocated)."""
    ledger, dev = card.ledger, card.device
    if not isinstance(name, str) or not name:
        raise ConfigError(f"name={args.show(name)}; allowed: a non-empty string")
    if name in ledger.names:
        raise ConfigError(f"name={name!r} is already placed on this card; allowed: a new name "
                          f"(placed: {', '.join(dict.fromkeys(ledger.names))})")

    def placer(plan_in):
        if region is not None:
            reg = region
            hit = ledger.clash(kv_cells(plan_in(reg)))
            if hit is not None:
                other, t, s = hit
                raise ConfigError(
                    f"region={reg.describe()} for KV cache {name!r} overlaps placed {other!r}: "
                    f"tile {t} slot {s} is held; allowed: a region whose cache cells are free")
            return reg
        reg = kv_first_fit(ledger, dev, plan_in)
        if reg is None:
            raise CapacityError(
                f"cannot place KV cache {name!r} on {dev.name!r}: no region of free DIMC slots "
                f"holds it ({ledger.free_slots} of {ledger.owner.size} slots are free); place it "
                f"before weights, give it fewer keys (max_len) or use another card")
        return reg

    pool = None if share is None else SharedSram(card, name, share)
    cache = KVCache(k, v, device=dev, machine=card.machine, placer=placer, sram_pool=pool,
                    **kwargs)
    ledger.take(name, kv_cells(cache.plan))
    return cache
