"""A card: one device that keeps its state, and weights placed on it once (docs/programs.md).

    card = Card("tiny")
    wq = card.place("wq", w)                 # plans, loads the weights into DIMC slots once
    r = card.matmul(x, wq)                   # activations in, compute, no weight load
    wq.load                                  # the placement's Result (the one weight load)

The card owns one Machine for its lifetime (as a KV cache does, kernels/attention/cache.py):
SRAM buffers, DIMC slots and host buffers persist, and the log is cleared after every timed step
(`Machine.clear_log()`), so each Result is timed on its own from an idle device with the weights
resident. A call's output is bit-exact to `matmul(x, w, fmt=, region=placed.region)`'s and its
compute phase is the same supersteps on the same tiles.

A weight is planned for `rows` activation rows (default 1: decode): the matmul planner's layout
(groups, replicas) depends on M, so a call with another M works when the planner lays the
weights out the same for it and its buffers fit the placement's; otherwise ShapeError says to
place the weights for that M.
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.engine.result import Result
from chipemu.emulator.errors import CapacityError, ConfigError, ShapeError
from chipemu.emulator.runtime import budget
from chipemu.kernels.matmul import data as D
from chipemu.kernels.matmul.api import (alloc_sram, compute_phase, gather, load_phase,
                                        metrics, sizes, w_codes, x_codes)
from chipemu.kernels.matmul.params import MATMUL
from chipemu.kernels.matmul.plan import MAX_REPLICAS, plan_matmul
from chipemu.kernels.placement import (Ledger, PlacedWeight, capacity_error, cells,
                                       check_forced, first_fit)
from chipemu.kernels.region import resolve_region
from chipemu.kernels.scaffold import (Run, as_device, check_backend, check_mode, dimc_format,
                                     log_bytes, machine_for, shape_of, strict_keywords)

# per-call working buffers, rewritten by every call: a matmul's (kernels/matmul/plan.py,
# Card.staging) and argmax's partial maxima (kernels/argmax/plan.py)
SCRATCH = frozenset(("w", "xhome", "x", "y", "acc", "recv", "xf", "mparts", "gparts"))

__all__ = ["Card", "PlacedWeight"]

_R = MATMUL.R


def _with_field(p, tiles, field, value):
    """A copy of a parameter vector with record field `field` = value on `tiles`."""
    q = p.copy()
    for t in tiles:
        q[q[MATMUL.H.count + t] + field] = value
    return q


class Card:
    """One device and its Machine for the card's lifetime. device: a Device, preset name or
    .toml path (None: corsair); mode "functional" | "timing"; backend "c" | "numba"."""

    @strict_keywords
    def __init__(self, device=None, *, mode="functional", backend="c"):
        self.device = as_device(device)
        self.mode, self.backend = check_mode(mode), check_backend(backend)
        self.timing = self.mode == "timing"
        self.machine = machine_for(self.device, mode=self.mode, backend=self.backend)
        self.ledger = Ledger(self.device)
        self.placed: dict[str, PlacedWeight] = {}
        self.ops: dict = {}                 # name -> PlacedOp (kernels/program/ops.py)
        self.caches: dict = {}              # name -> KVCache (kernels/attention/placed.py)
        self._gen: dict = {}                # SRAM buffer -> write generation (programs)
        self._inputs: dict = {}             # (name, rows, cols) -> program input buffers
        self._staging: dict = {}            # weight name -> its float32 staging buffer
        self._tables: dict = {}             # key -> DRAM buffers of read-only tables
        self._shared: dict = {}             # (share tag, buffer name) -> [(buffer id, bytes)]
        self._program = None

    def __repr__(self):
        return (f"Card({self.device.name!r}, {len(self.placed)} weights, "
                f"{self.ledger.used_slots} of {self.ledger.owner.size} DIMC slots held)")

    # ---- placement ----
    @strict_keywords
    def place(self, name, w, *, fmt="mxint8", rows=1, region=None, share=None,
              weight_fmt=None, max_replicas=MAX_REPLICAS, sram_bytes=None) -> PlacedWeight:
        """Plan weights w [K, N] (a float array; a shape tuple in timing mode) for `rows`
        activation rows in `fmt` (activations; weights too unless weight_fmt, e.g. mxint4
        weights with mxint8 activations), find them a region (first fit, or `region`), and
        load them into its DIMC slots once. max_replicas: at most this many weight copies per
        chiplet (1 keeps slots for more weights; the planner's default buys speed with them).
        share: a tag; weights placed under the same tag use the same SRAM working buffers
        (weights that never run at the same time, such as one projection of successive
        layers: the engine then orders their calls by those buffers' hazards). sram_bytes: at
        most this much SRAM per tile for its working buffers (None: the planner's pick); they
        also shrink (smaller row chunks) to what the card has left. CapacityError when they do
        not fit (needed vs available, what would); ConfigError for a taken name or an
        overlapping region. A failed place changes nothing on the card."""
        dev, mach = self.device, self.machine
        self._check_name(name)
        fmt = dimc_format(fmt, "fmt", dev)
        wfmt = fmt if weight_fmt is None else dimc_format(weight_fmt, "weight_fmt", dev)
        reps = args.integer("max_replicas", max_replicas, 1, MAX_REPLICAS, error=ShapeError)
        if sram_bytes is not None:
            sram_bytes = args.integer("sram_bytes", sram_bytes, 1, error=ShapeError,
                                      why="SRAM bytes per tile for the working buffers")
        rows = args.integer("rows", rows, 1, error=ShapeError, why="activation rows per call")
        shape, arr = shape_of(w, "w", self.timing)
        if len(shape) != 2:
            raise ShapeError(f"w has shape {shape}; it must be [K, N] (2-D weights)")
        k, n = shape
        if region is not None:
            region = resolve_region(region, dev)
            plan = plan_matmul(rows, k, n, fmt, wfmt, dev, region=region, max_replicas=reps)
            occupied = check_forced(name, self.ledger, dev, plan, region)
        else:
            found = first_fit(self.ledger, dev, k, n, fmt, rows, wfmt, reps)
            if found is None:
                raise capacity_error(name, self.ledger, dev, k, n, wfmt, rows,
                                     mach.sram_bytes_used, dev.sram_buffer_bytes, fmt)
            region, plan = found
            occupied = check_forced(name, self.ledger, dev, plan, region)
        share = self._check_share(share)
        plan, budget_b = self._fit_sram(name, plan, share, rows, k, n, fmt, wfmt, region, reps,
                                        occupied, sram_bytes)
        sz = sizes(plan)
        events = len(sz.tiles) * (sz.ev_load + 1)
        budget.check(f"placing {name!r} on {dev.name!r}", events=events,
                     host_bytes=log_bytes(events) + (0 if self.timing else
                                                     12 * sz.kp * sz.np_ + 3 * sz.wsize))
        wdata = None if self.timing else w_codes(plan, arr, self.backend)
        run = Run("place", dev, machine=mach)
        self.machine.clear_log()
        bufs = {"w_host": run.host(f"{name}:w", wdata, sz.wsize),
                "x_host": run.host(f"{name}:x", None if self.timing else
                                   np.zeros(sz.xsize, np.uint8), sz.xsize)}
        bufs.update(alloc_sram(mach, plan) if share is None
                    else self.sram_buffers(name, share, plan.sram))
        p = D.params(plan, dev.n_tiles, bufs, sz.woffs, sz.blocks, sz.xoffs)
        # the weights only: no tile reads activations while placing
        load_phase(run, sz, _with_field(p, sz.tiles, _R.x_bytes, 0))
        load = run.finish(plan=plan.to_dict())
        mach.clear_log()
        self.ledger.take(name, occupied)
        pw = PlacedWeight(name, k, n, fmt, rows, region, plan, load, occupied, sz, bufs, self,
                          share, reps, budget_b)
        self.placed[name] = pw
        return pw

    def place_op(self, name, kind, *, rows, cols, share=None, **constants):
        """A layer op ("rmsnorm", "glu", ...) planned for [rows, cols], its buffers held and its
        constants (gamma=, eps=, act=, ...) written once -> PlacedOp (kernels/program/ops.py).
        share: a tag whose ops share their working buffers (not their constants; see place)."""
        from chipemu.kernels.program.ops import place_op
        self._check_name(name)
        op = place_op(self, name, kind, rows, cols, share=self._check_share(share),
                      **constants)
        self.ops[name] = op
        return op

    def kv_cache(self, name, k, v, *, region=None, share=None, **kwargs):
        """A KVCache on this card's Machine beside the placed weights, in `region` or the first
        free DIMC cells (first fit, (slot, tile, chiplet) order), its cells held in the ledger
        under `name`. kwargs: KVCache's (max_len, lengths, max_new, heads, fmt, kv_fmt,
        device_inputs: True for a cache a program feeds from the device, kv_home: "dimc" or
        "dram", K/V streamed from DRAM a block at a time). share: a tag whose caches share their
        working buffers (their state stays each cache's own; see place)."""
        from chipemu.kernels.attention.placed import place_kv_cache
        self._check_name(name)
        self.caches[name] = place_kv_cache(self, name, k, v, region=region,
                                           share=self._check_share(share), **kwargs)
        return self.caches[name]

    def program(self, name: str = "program"):
        """A Program recording kernel calls on this card into one timed log (docs/programs.md)."""
        from chipemu.kernels.program.recorder import Program
        return Program(self, name)

    def input_slot(self, name, rows, cols):
        """(host buffer, SRAM buffer, column ranges) of program input `name` of [rows, cols],
        allocated on first use."""
        from chipemu.kernels.program.tensor import column_split
        key = (name, rows, cols)
        if key not in self._inputs:
            ranges = column_split(rows, cols, self.device)
            width = max(n for _, n in ranges)
            self.check_sram(f"input {name}", -(-rows * width * 4 // 64) * 64)
            host = self.machine.alloc_host(f"in:{name}:{rows}x{cols}", nbytes=rows * cols * 4) \
                if self.timing else self.machine.alloc_host(f"in:{name}:{rows}x{cols}",
                                                            np.zeros(rows * cols, np.float32))
            sram = self.machine.alloc_sram(f"in:{name}:{rows}x{cols}", rows * width * 4)
            self._inputs[key] = (host, sram, ranges)
        return self._inputs[key]

    def staging(self, placed):
        """The float32 staging buffer of a placed weight's activation pieces in a program (the
        holders quantize from it), allocated on first use (shared under the weight's tag)."""
        if placed.name not in self._staging:
            p = placed.plan
            need = {"xf": p.rounds * p.pieces_per_tile * p.piece_rows * p.rows * 4}
            if placed.share is None:
                self.check_sram(f"{placed.name} staging", -(-need["xf"] // 64) * 64)
                buf = self.machine.alloc_sram(f"{placed.name}:xf", need["xf"])
            else:
                own = set(placed.bufs.values())         # not one of its own working buffers
                self.check_sram(f"{placed.name} staging",
                                self.sram_new_bytes(placed.share, need, own))
                buf = self.sram_buffers(placed.name, placed.share, need, own)["xf"]
            self._staging[placed.name] = buf
        return self._staging[placed.name]

    # ---- shared SRAM working buffers ----
    def sram_shared_bytes(self) -> int:
        """SRAM bytes per tile of the shared working buffers and the program inputs: what a
        card holding more layers of a model needs once (the rest is per layer)."""
        pools = sum(-(-n // 64) * 64 for entries in self._shared.values() for _, n in entries)
        inputs = sum(-(-rows * max(n for _, n in ranges) * 4 // 64) * 64
                     for (_, rows, _c), (_, _, ranges) in self._inputs.items())
        return pools + inputs

    def _check_share(self, share):
        if share is not None and (not isinstance(share, str) or not share):
            raise ConfigError(f"share={args.show(share)}; allowed: None or a non-empty tag")
        return share

    def _assign(self, share, sizes: dict, avoid=()) -> dict:
        """{buffer name: a pool buffer of tag `share` to reuse, or None}: largest first, each the
        smallest free pool buffer at least as large of its own name or, for per-call scratch
        (SCRATCH), of any scratch name: the ops of a pool never run at the
        same time. Other buffers keep to their name (an op's may hold what its placement
        wrote, the same for every op of the tag). avoid: buffers it must not take (the op's
        own, when its staging comes later)."""
        pool = sorted((n, buf, name) for (tag, name), entries in self._shared.items()
                      if tag == share for buf, n in entries) if share is not None else []
        out, taken = {}, set(avoid)
        for b, nbytes in sorted(sizes.items(), key=lambda kv: (-kv[1], kv[0])):
            fits = [(n, buf, name) for n, buf, name in pool if n >= nbytes and buf not in taken]
            pick = next((buf for n, buf, name in fits if name == b), None)
            if pick is None and b in SCRATCH:
                pick = next((buf for n, buf, name in fits if name in SCRATCH), None)
            out[b] = pick if nbytes else None
            taken.add(out[b])
        return out

    def sram_new_bytes(self, share, sizes: dict, avoid=()) -> int:
        """SRAM bytes per tile that sizes {buffer name: bytes} add under tag `share` (None:
        all of them): a free shared buffer at least as large is reused (_assign)."""
        pick = self._assign(share, sizes, avoid)
        return sum(-(-n // 64) * 64 for b, n in sizes.items() if pick[b] is None)

    def sram_buffers(self, owner, share, sizes: dict, avoid=()) -> dict:
        """{buffer name: id} for sizes under tag `share`: reused from the pool where one fits,
        else allocated (named after `owner`) and added to it. The caller checked capacity."""
        self.machine.reserve_sram(self.machine.sram_bytes_used
                                  + self.sram_new_bytes(share, sizes, avoid))
        out = self._assign(share, sizes, avoid)
        for b, nbytes in sizes.items():
            if out[b] is None:
                out[b] = self.machine.alloc_sram(f"{owner}:{b}", nbytes)
                self._shared.setdefault((share, b), []).append((out[b], nbytes))
        return out

    def dram_tables(self, key, make):
        """DRAM buffers (on chiplet 0's first channel) of the float32 arrays make() returns,
        written once per key (as a model's tables are written at start-up: not timed) and
        shared by every op that asks for the same key."""
        if key not in self._tables:
            arrays = make()
            bufs = []
            for i, a in enumerate(arrays):
                b = self.machine.alloc_dram(f"table:{key}:{i}", a.nbytes)
                if not self.timing:
                    self.machine.write(b, np.ascontiguousarray(a, np.float32))
                bufs.append(b)
            self._tables[key] = tuple(bufs)
        return self._tables[key]

    def _check_name(self, name):
        if not isinstance(name, str) or not name:
            raise ConfigError(f"name={args.show(name)}; allowed: a non-empty string")
        held = [*self.placed, *self.ops, *self.caches]
        if name in held:
            raise ConfigError(f"name={name!r} is already placed on this card; allowed: a new "
                              f"name (placed: {', '.join(held)})")

    def _fit_sram(self, name, plan, share, rows, k, n, fmt, wfmt, region, reps, occupied,
                  cap=None):
        """(plan, SRAM budget or None): the plan when its buffers stay within `cap` and its new
        buffers fit beside what is held, else the same layout re-planned with smaller row
        chunks under a budget that does (docs/programs.md); CapacityError (check_sram's) when
        none does."""
        free = self.device.sram_buffer_bytes - self.machine.sram_bytes_used
        new = self.sram_new_bytes(share, plan.sram)
        planned, first = None, new
        over = 0 if cap is None else sum(plan.sram.values()) - cap
        while new > free or over > 0:
            budget_b = max(1, sum(plan.sram.values()) - max(new - free, over))
            over = 0
            try:
                tight = plan_matmul(rows, k, n, fmt, wfmt, self.device, region=region,
                                    max_replicas=reps, sram_bytes=budget_b)
            except CapacityError:
                break
            if cells(tight) != occupied or sum(tight.sram.values()) >= sum(plan.sram.values()):
                break
            plan, new, planned = tight, self.sram_new_bytes(share, tight.sram), budget_b
        if new > free:
            self.check_sram(name, first)
        return plan, planned

    def check_sram(self, name, nbytes):
        """CapacityError unless nbytes more of SRAM per tile fit beside what is held."""
        used, have = self.machine.sram_bytes_used, self.device.sram_buffer_bytes
        if used + nbytes > have:
            raise CapacityError(
                f"cannot place {name!r}: its buffers need {nbytes} bytes of SRAM on every "
                f"tile, {have - used} of {have} are free ({used} held by {len(self.placed)} "
                f"placed weights, {len(self.ops)} placed ops and {len(self.caches)} KV caches)")

    # ---- calls ----
    def _call_plan(self, placed, m):
        """The plan of a call with m rows, if it lays the weights out as placed (ShapeError)."""
        plan = plan_matmul(m, placed.k, placed.n, placed.fmt, placed.plan.weight_fmt,
                           self.device, region=placed.region,
                           max_replicas=placed.max_replicas, sram_bytes=placed.sram_bytes)
        sz = sizes(plan)
        same = (plan.passes == 1 and sz.blocks == placed.sizes.blocks
                and sz.woffs == placed.sizes.woffs and sz.xsize <= placed.sizes.xsize
                and all(v <= placed.plan.sram.get(b, 0) for b, v in plan.sram.items()))
        if not same:
            raise ShapeError(
                f"x has {m} rows: the planner lays {placed.name!r} out differently for M={m} "
                f"than for the rows={placed.rows} it was placed for (or needs larger buffers); "
                f"allowed: M for which the plan is the placed one (e.g. M={placed.rows}), or "
                f"place the weights again with rows={m}")
        return plan, sz

    def matmul(self, x, placed) -> Result:
        """x [..., M, K] @ placed weights -> Result with phases "activations" (x onto the
        chiplets) and "compute"; no weight load. Output float32 [..., M, N] (None in timing)."""
        if not isinstance(placed, PlacedWeight) or placed.card is not self:
            raise ConfigError(f"placed={args.show(placed)}; allowed: a PlacedWeight returned by "
                              f"this card's place() (placed here: {', '.join(self.placed)})")
        dev, mach = self.device, self.machine
        shape, arr = shape_of(x, "x", self.timing)
        if len(shape) < 2 or shape[-1] != placed.k:
            raise ShapeError(f"x has shape {shape}; it must be [..., M, K] with K={placed.k} "
                             f"(the rows of {placed.name!r})")
        m = int(np.prod(shape[:-1], dtype=object))
        plan, sz = self._call_plan(placed, m)
        run = Run("matmul", dev, machine=mach)
        run.start(events=sz.events, host_bytes=0 if self.timing else 12 * m * sz.kp + 8 * m * sz.np_)
        mach.clear_log()
        if not self.timing:
            xdata = x_codes(plan, np.asarray(arr, np.float32).reshape(m, placed.k), self.backend)
            if xdata is not None:
                mach.write(placed.bufs["x_host"], np.concatenate(xdata))
        p = D.params(plan, dev.n_tiles, placed.bufs, sz.woffs, sz.blocks, sz.xoffs)
        # the activations only: the weights are in the slots already (k_run 0: no blocks read)
        load_phase(run, sz, _with_field(p, sz.tiles, _R.k_run, 0), name="activations")
        compute_phase(run, plan, sz, p)
        out = None if self.timing else gather(mach, plan, placed.bufs["y"], shape[:-1], m,
                                              placed.n)
        r = run.finish(output=out, plan=plan.to_dict())
        mach.clear_log()
        metrics(r, plan, dev)
        return r
