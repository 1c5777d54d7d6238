"""Where placed weights live on a card: a ledger of DIMC slots and a first-fit search (docs/programs.md).

    ledger = Ledger(device)
    region, plan = first_fit(ledger, device, k, n, fmt, rows)     # None when nothing fits
    ledger.take("wq", cells(plan))

A weight's matmul plan (kernels/matmul/plan.py) in a region uses some of the region's tiles and,
on each, the slots [s0, s0 + its blocks). The ledger records those cells (tile, slot) per name,
so two weights share a tile when their slot ranges are disjoint, and a region that contains
another weight's tiles is fine as long as its plan does not use that weight's cells.

The search is first-fit over (slot, tile, chiplet), in that order: the lowest free slot layer is
filled across tiles and chiplets before the next layer, so small weights land on different DIMC
engines (which can then run at the same time) before they stack on one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chipemu.emulator.errors import CapacityError, ConfigError
from chipemu.emulator.engine.result import Result
from chipemu.kernels.matmul.api import Sizes
from chipemu.kernels.matmul.plan import MAX_REPLICAS, MatmulPlan
from chipemu.kernels.matmul.plan import plan_matmul
from chipemu.kernels.region import Region

__all__ = ["Ledger", "PlacedWeight", "cells", "first_fit", "capacity_error"]


@dataclass(frozen=True, eq=False)
class PlacedWeight:
    """Weights resident in DIMC slots of a card: name, region, plan, the load's Result."""
    name: str
    k: int
    n: int
    fmt: str
    rows: int                   # activation rows the layout was planned for
    region: Region
    plan: MatmulPlan
    load: Result                # the one weight load (host -> SRAM -> DIMC slots)
    cells: dict                 # {global tile: (s0, s1)} DIMC slots held
    sizes: Sizes
    bufs: dict                  # buffer ids: w_host, x_host and the SRAM working buffers
    card: "Card"
    share: str | None = None    # the tag its SRAM working buffers are shared under
    max_replicas: int = MAX_REPLICAS    # the cap it was planned under (calls re-plan with it)
    sram_bytes: int | None = None       # the SRAM budget it was planned under (likewise)


def block_counts(plan) -> dict:
    """{global tile: weight blocks it holds} of a matmul plan (what matmul/data.py's block lists
    give, counted without listing them)."""
    out = {}
    for r in range(plan.replicas):
        for c in range(plan.chiplets_used):
            if plan.g == 1:
                for pos in range(min(plan.nb_count[c], plan.tiles_per_chiplet)):
                    nbs = len(range(pos, plan.nb_count[c], plan.tiles_per_chiplet))
                    out[plan.tile_of(c, r * plan.span + pos)] = nbs * plan.kb
            else:
                runs = [len(plan.k_run(m)) for m in range(plan.g)]
                for local in range(plan.nb_count[c]):
                    base = r * plan.span + local * plan.g
                    for m in range(plan.g):
                        if runs[m]:
                            out[plan.tile_of(c, base + m)] = runs[m]
    return out


def cells(plan) -> dict:
    """{global tile: (s0, s1)}: the DIMC slots a stationary plan's weights occupy on each tile."""
    # a streamed plan (passes > 1) cycles its blocks through all of the region's slots
    return {t: (plan.slot_base, plan.slot_base + min(n, plan.slots))
            for t, n in block_counts(plan).items()}


class Ledger:
    """The DIMC slots in use on every tile of a device, by the name of the weight holding them."""

    def __init__(self, device):
        self.n_tiles, self.slots = device.n_tiles, device.tile.dimc.weight_slots
        self.owner = np.full((self.n_tiles, self.slots), -1, np.int64)   # index into names
        self.names: list[str] = []
        self.floor = 0          # first-fit searches start at this slot

    @property
    def top_slot(self) -> int:
        """One past the highest slot held on any tile (0 when none is)."""
        held = np.nonzero((self.owner >= 0).any(axis=0))[0]
        return int(held[-1]) + 1 if len(held) else 0

    @property
    def free_slots(self) -> int:
        return int((self.owner < 0).sum())

    @property
    def used_slots(self) -> int:
        return self.owner.size - self.free_slots

    def is_free(self, occupied: dict) -> bool:
        if not occupied:
            return True
        tiles = np.fromiter(occupied, np.int64, len(occupied))
        lo, hi = np.array(list(occupied.values()), np.int64).T
        cols = np.arange(int(lo.min()), int(hi.max()))
        inside = (cols >= lo[:, None]) & (cols < hi[:, None])
        return not ((self.owner[tiles[:, None], cols] >= 0) & inside).any()

    def clash(self, occupied: dict):
        """(name, tile, slot) of the first cell of `occupied` already held, or None."""
        for t, (a, b) in sorted(occupied.items()):
            for s in range(a, b):
                if self.owner[t, s] >= 0:
                    return self.names[self.owner[t, s]], t, s
        return None

    def take(self, name: str, occupied: dict) -> None:
        """Mark `occupied` as held by `name` (the caller checked is_free)."""
        self.names.append(name)
        for t, (a, b) in occupied.items():
            self.owner[t, a:b] = len(self.names) - 1


def _plan(rows, k, n, fmt, device, region, wfmt=None, reps=MAX_REPLICAS):
    try:
        return plan_matmul(rows, k, n, fmt, wfmt or fmt, device, region=region,
                           max_replicas=reps)
    except CapacityError:            # too little SRAM in this region: try the next one
        return None


def first_fit(ledger: Ledger, device, k: int, n: int, fmt: str, rows: int,
              wfmt: str | None = None, reps: int = MAX_REPLICAS):
    """(region, plan) of the first region, in (slot, tile, chiplet) order, whose plan keeps the
    weights stationary (one pass) in free cells; None when there is none. A region is chiplets
    [c0, P) x local tiles [t0, T) x slots [s0, s0 + the plan's blocks per tile). wfmt: the
    weights' format (None: fmt); reps: at most this many weight copies per chiplet."""
    P, T, S = device.n_chiplets, device.tiles_per_chiplet, ledger.slots
    # a search starts at the ledger's floor: the slots below are another layer's (place_block)
    if -(-k // device.tile.dimc.rows) * -(-n // device.cols_eff(wfmt or fmt)) \
            > ledger.free_slots:
        return None                                      # more blocks than free slots
    for s0 in range(ledger.floor, S):
        for t0 in range(T):
            for c0 in range(P):
                if ledger.owner[c0 * T + t0, s0] >= 0:     # the plan's first tile would clash
                    continue
                wide = _plan(rows, k, n, fmt, device, Region.span(c0, P, t0, T, s0, S), wfmt,
                             reps)
                if wide is None or wide.passes != 1:
                    # fewer chiplets (and, from c0 = 0, fewer tiles) only need more slots per
                    # tile: the search moves on to the next slot layer rather than trying them
                    break
                # the same plan confined to the slots it uses: choices needing more slots only
                # get worse in the planner's estimate, so its pick stays (checked, not assumed)
                reg = Region.span(c0, P, t0, T, s0, s0 + wide.blocks_per_tile)
                plan = _plan(rows, k, n, fmt, device, reg, wfmt, reps)
                if plan is not None and plan.passes == 1 and ledger.is_free(cells(plan)):
                    return reg, plan
            else:
                continue
            if c0 == 0:
                break
    return None


def capacity_error(name, ledger, device, k, n, fmt, rows, sram_used, sram_cap,
                   afmt=None) -> CapacityError:
    """The CapacityError of a weight that finds no room: slots and SRAM needed and available,
    and what would fit (the weights at mxint4; the cards needed)."""
    from chipemu.emulator.numerics.formats import get_format
    R = device.tile.dimc.rows
    blocks = -(-k // R) * -(-n // device.cols_eff(fmt))
    whole = _plan(rows, k, n, afmt or fmt, device, None, fmt)
    sram = sum(whole.sram.values()) if whole is not None else None
    total = device.n_tiles * ledger.slots
    msg = (f"cannot place {name!r} ({k} x {n}, {fmt}, planned for rows={rows}) on "
           f"{device.name!r}: it needs {blocks} DIMC slots ({R} x {device.cols_eff(fmt)} "
           f"blocks) in one region, stationary; {ledger.free_slots} of {total} slots are free "
           f"({ledger.used_slots} held by {len(set(ledger.names))} placed weights)")
    if sram is not None:
        msg += (f"; its working buffers need {sram} bytes of SRAM per tile, "
                f"{max(sram_cap - sram_used, 0)} of {sram_cap} are free")
    if whole is not None and whole.passes > 1:
        msg += (f"; even an empty card cannot hold it stationary: its plan puts "
                f"{whole.blocks_per_tile} blocks on a tile, which has {ledger.slots} slots")
    elif blocks <= ledger.free_slots:
        msg += "; the free slots are too scattered for its plan (fragmentation)"
    alt = "mxint4"
    if (fmt != alt and alt in device.tile.dimc.formats
            and get_format(fmt).elem_bits > get_format(alt).elem_bits):
        b4 = -(-k // R) * -(-n // device.cols_eff(alt))
        fits = first_fit(ledger, device, k, n, afmt or alt, rows, alt) is not None
        msg += f". At {alt} it needs {b4} slots and {'fits' if fits else 'does not fit'} here"
    need = ledger.used_slots + blocks
    msg += (f". Cards needed for every weight placed so far and this one: at least "
            f"{-(-need // total)} ({need} slots, {total} per card)")
    if blocks > total:
        msg += f"; this weight alone spans {-(-blocks // total)} cards (split it by columns)"
    return CapacityError(msg)


def check_forced(name, ledger, device, plan, region) -> dict:
    """The cells of a plan in a region given by the caller, or CapacityError (the weights would
    stream: more blocks per tile than the region's slots) / ConfigError (a placed weight holds
    one of its cells)."""
    if plan.passes != 1:
        raise CapacityError(
            f"cannot place {name!r} in region {region.describe()}: its plan needs "
            f"{plan.blocks_per_tile} DIMC slots per tile, the region has {region.n_slots} (placed "
            f"weights stay in the slots; give a region with more slots or tiles)")
    occupied = cells(plan)
    hit = ledger.clash(occupied)
    if hit is not None:
        other, t, s = hit
        raise ConfigError(
            f"region={region.describe()} for {name!r} overlaps placed weight {other!r}: tile "
            f"{t} slot {s} is held; allowed: a region whose plan uses free slots only")
    return occupied
