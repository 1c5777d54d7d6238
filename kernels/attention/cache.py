"""`KVCache`: keys and values held in the DIMC arrays across decode steps (docs/attention.md).

    cache = KVCache(k, v, max_len=4096)                      # prefill's K/V, written once
    r = attention(q_new, k_new, v_new, cache=cache)           # Sq new tokens per sequence

The cache keeps K^T and V for up to `max_len` keys per sequence in the DIMC slots of its region
(default: the whole device) on its own Machine, or on a given one (a Card's: then it shares the
device with placed weights, kernels/attention/placed.py). A step appends the new tokens' keys
and values — rewriting only the rows they change: the K^T slot of their key block (a new key is
a column, so every row of the slot) and the block-scale group of V rows they fall in — then
attends over each sequence's keys so far (the new tokens causally). Blocks past a sequence's
length are skipped and cost nothing. Each step's Result is timed on its own, from an idle device
with the cache resident; `cache.fill` is the first write. With device_inputs, `step_on_device`
takes the new tokens from SRAM (kernels/attention/ingest.py).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import CapacityError, ConfigError, ShapeError
from chipemu.emulator.runtime import budget
from chipemu.kernels.attention import data as D
from chipemu.kernels.attention import ingest as I
from chipemu.kernels.attention import steps as S
from chipemu.kernels.attention import writes as W
from chipemu.kernels.attention.plan import default_kv_fmt, plan_cache
from chipemu.kernels.region import resolve_region
from chipemu.kernels.scaffold import (Run, as_device, dimc_format, log_bytes, machine_for,
                                     shape_of, strict_keywords)

__all__ = ["KVCache"]


class KVCache:
    """K/V of a batch resident on the device. k, v: [B, Hkv, L, D] arrays (or shape tuples in
    timing mode; L may be 0); lengths: valid keys per sequence, B integers in 0..L (default L
    for all); max_len: capacity in keys, an integer >= max(L, 1) (None: L); max_new: most new
    tokens per step, 1..max_len (None: min(16, max_len)); heads: query heads Hq, a multiple of
    Hkv (None: Hkv). backend (None: "c"), mode (None: "functional").
    machine: None (the cache makes its own Machine) or a Machine of `device` to live on (a
    Card's): mode and backend are then the machine's (None, or the same); the cache allocates
    its buffers there and clears the machine's log only around its own timed runs.
    region: a Region (kernels/region.py) holding the cache's tiles and DIMC slots (None: the
    whole device). placer: None, or a callable (a Card's, kernels/attention/placed.py) given
    plan(region) -> the cache's layout plan in a region (or CapacityError), returning the Region
    to use or raising to refuse; it replaces `region`.
    device_inputs: True keeps the buffers and float32 shadows of `step_on_device` (a step
    whose new queries, keys and values are in SRAM: kernels/attention/ingest.py).
    kv_home: "dimc" (K^T and V stay in the DIMC slots) or "dram" (their slot images live in
    the chiplets' DRAM, each tile holding one block in its slots at a time: every step reads
    and loads each block before using it; appends write the images; the outputs are the
    same bit for bit).
    Every argument is checked, the placer consulted, and the cache's host arrays and fill
    estimated against the run budget, before anything is allocated."""

    @strict_keywords
    def __init__(self, k, v, *, max_len=None, lengths=None, max_new=None, heads=None,
                 fmt="mxint8", kv_fmt=None, device=None, backend=None, mode=None, machine=None,
                 region=None, placer=None, device_inputs=False, sram_pool=None, kv_home="dimc"):
        self.device = dev = as_device(device)
        mode, self.backend = S.check_machine(machine, dev, mode, backend)
        self.timing = mode == "timing"
        self.fmt = dimc_format(fmt, "fmt", dev)
        self.kv_fmt = dimc_format(kv_fmt if kv_fmt is not None else default_kv_fmt(self.fmt),
                                  "kv_fmt", dev)
        ks, ka = shape_of(k, "k", self.timing, zero_ok=(2,))
        vs, va = shape_of(v, "v", self.timing, zero_ok=(2,))
        if len(ks) != 4 or ks != vs:
            raise ShapeError(f"k {ks} and v {vs} must be 4-D [B, Hkv, L, D] of the same shape")
        self.b, self.hkv, l0, self.d = ks
        self.kv_home = args.choice("kv_home", kv_home, ("dimc", "dram"))
        self._check_sizes(l0, max_len, max_new, heads)
        self.lengths = self._check_lengths(lengths, l0)
        self.region = self._region(region, placer)
        bk = dev.tile.dimc.rows
        self.plan = p = self._plan(self.region, status=self._status(self.max_new, bk))
        if p.path != "dimc":
            raise CapacityError(f"a KV cache of {self.max_len} keys x head_dim {self.d} for "
                                f"{p.units} (batch, kv head) pairs does not fit the DIMC arrays "
                                f"of {dev.name!r}{self._in_region()}; the cache keeps K/V in the "
                                f"arrays" + ("" if self.kv_home == "dram" else
                                             " (kv_home='dram' keeps them in DRAM)"))
        self.device_inputs = args.boolean("device_inputs", device_inputs)
        sram = dict(p.sram)
        if self.device_inputs:
            I.check_device_inputs(p)
            sram.update(I.sram_sizes(p, self.max_new))
        self.units = p.units
        self.tiles = D.tile_tables(p, self._keep(self.max_new))
        self.offs, sizes = S.offsets(p, self.tiles, p.blocks_per_tile)
        fill = 2 * (p.d_splits + p.v_splits) * p.blocks_per_tile * len(self.tiles)
        budget.check(f"a KV cache of max_len={self.max_len} on {dev.name!r}", events=fill,
                     host_bytes=self._copy_bytes() + S.host_bytes(p, dev, sizes, self.timing)
                     + log_bytes(fill) + (I.host_size(p, self.max_new) if sram != p.sram else 0))
        if sram_pool is None:
            S.check_sram(machine, sram, dev)
        else:                               # a card's layers share the working buffers
            sram_pool.check(sram)
        self._pool = sram_pool
        self.machine = mach = machine or machine_for(dev, mode=mode, backend=self.backend)
        if self.kv_home == "dram":
            S.alloc_dram(mach, p, self.offs, dev.chiplet.dram.channels, "kv_cache")
        if not self.timing:
            self._k = np.zeros((p.units, self.max_len, self.d), np.float32)
            self._v = np.zeros((p.units, self.max_len, self.d), np.float32)
            self._k[:, :l0] = np.asarray(ka, np.float32).reshape(p.units, l0, self.d)
            self._v[:, :l0] = np.asarray(va, np.float32).reshape(p.units, l0, self.d)
            for u in range(p.units):               # keys past a sequence's length do not exist
                self._k[u, self.lengths[u // self.hkv]:] = 0
                self._v[u, self.lengths[u // self.hkv]:] = 0
        self.bufs = S.alloc(mach, p, sizes, self.timing, sram_pool)
        self._qscale = float(1.0 / np.sqrt(self.d))         # the scale row loaded on the homes
        if self.device_inputs:
            I.alloc(self)
        self.fill = W.write_initial(self)

    # ---- argument checks, the region ----
    def _plan(self, region, status=None):
        return plan_cache(self.b, self.hq, self.hkv, self.d, self.max_len, self.max_new, self.fmt,
                          self.kv_fmt, self.device, region=region, status=status,
                          kv_home=self.kv_home)

    def _region(self, region, placer):
        """The region: given, None (the whole device) or the placer's pick."""
        if placer is None:
            return resolve_region(region, self.device)
        if region is not None:
            raise ConfigError(f"region={args.show(region)} with a placer: the placer picks the "
                              f"region; allowed: one of them")
        if not callable(placer):
            raise ConfigError(f"placer={args.show(placer)}; allowed: None or a callable")
        return resolve_region(placer(self._plan), self.device)

    def _in_region(self):
        return "" if self.region.is_whole(self.device) else f" (region: {self.region.describe()})"

    def _check_sizes(self, l0, max_len, max_new, heads):
        """heads, max_len and max_new checked (ShapeError / CapacityError naming them), then the
        host arrays they imply (the keep mask, the K/V copies) against the run budget."""
        self.hq = self.hkv if heads is None else args.integer("heads", heads, 1, error=ShapeError)
        if self.hq % self.hkv:
            raise ShapeError(f"heads={self.hq} is not a multiple of the cache's Hkv={self.hkv} "
                             f"(grouped-query attention needs Hq % Hkv == 0)")
        if max_len is None and l0 == 0:
            raise ShapeError("max_len=None with an empty prefill (L=0); allowed: an integer >= 1")
        self.max_len = l0 if max_len is None else args.integer("max_len", max_len, 1,
                                                               error=ShapeError)
        if l0 > self.max_len:
            raise CapacityError(f"k holds {l0} keys, beyond max_len={self.max_len}")
        self.max_new = (min(16, self.max_len) if max_new is None else
                        args.integer("max_new", max_new, 1, self.max_len, error=ShapeError,
                                     why="new tokens per step, at most max_len"))
        budget.check(f"a KV cache of max_len={self.max_len}, max_new={self.max_new}",
                     host_bytes=self._copy_bytes())

    def _copy_bytes(self):
        units, g = self.b * self.hkv, self.hq // self.hkv
        kv = 0 if self.timing else 2 * units * self.max_len * self.d * 4
        return 3 * units * g * self.max_new * self.max_len + kv

    def _check_lengths(self, lengths, l0):
        """lengths as int64 [B] in 0..l0 (default l0), or ShapeError."""
        if lengths is None:
            return np.full(self.b, l0, np.int64)
        try:
            arr = np.asarray(lengths)
        except Exception:
            arr = np.asarray(None)
        if (isinstance(lengths, np.ma.MaskedArray) or arr.dtype.kind not in "iu"
                or arr.shape != (self.b,)):
            shown = f"a {type(lengths).__name__} of {arr.dtype} {arr.shape}"
            raise ShapeError(f"lengths is {shown}; allowed: {self.b} integers (one per "
                             f"sequence) in 0..{l0}, as a list or a plain array")
        if (arr < 0).any() or (arr > l0).any():
            raise ShapeError(f"lengths={arr.tolist()} must lie in 0..{l0}")
        return arr.astype(np.int64)

    # ---- masks ----
    def _keep(self, sq, lengths=None):
        """bool [units, G*sq, max_len]: new token i of sequence b sees keys < len_b + i + 1."""
        lengths = self.lengths if lengths is None else lengths
        g = self.hq // self.hkv
        pos = np.arange(self.max_len)
        lim = lengths[:, None] + np.arange(sq)[None, :] + 1             # [B, sq]
        keep = pos[None, None, :] < lim[:, :, None]                       # [B, sq, L]
        keep = np.broadcast_to(keep[:, None, None], (self.b, self.hkv, g, sq, self.max_len))
        return keep.reshape(self.b * self.hkv, g * sq, self.max_len)

    def _status(self, sq, bk):
        return lambda mq, members, bpt, reps: D.mask_info(
            self._keep(sq), bk, -(-self.max_len // bk))(mq, members, bpt, reps)[0]

    # ---- a decode step ----
    def step(self, q, k_new, v_new, *, scale=None, network=None, progress=None):
        """Append the Sq new tokens' keys and values [B, Hkv, Sq, D], then attend with q
        [B, Hq, Sq, D] over each sequence's keys so far (the new tokens causally) -> Result with
        phases "append", "load" (queries) and "compute". scale: None (1/sqrt(D)) or a finite
        number. Called by attention(..., cache=self).

        Everything is checked and planned before the cache changes; should a launch still fail
        (the Machine's budget backstop), the step is undone, so a failed step leaves the cache
        as it was."""
        mach = self.machine
        run = Run("attention_decode", self.device, machine=mach, network=network,
                  progress=progress)
        sq, qa, ka, va = self._check_step(q, k_new, v_new)
        scale = self._scale(scale)
        plan, tiles = self._step_plan(sq)
        most = max(len(w) for w in W.append_writes(self, sq, refresh=False).values())
        run.start(events=(2 * most + 4 * self.device_inputs) * len(tiles)
                  + S.compute_events(plan, sorted(tiles)))
        mach.clear_log()                    # timed on its own, from an idle device
        step0 = mach.step
        try:
            return self._run_step(run, plan, tiles, sq, qa, ka, va, scale)
        except BaseException:
            self._undo(sq, step0)
            raise

    def step_on_device(self, sq, *, scale=None, network=None, progress=None):
        """A step of sq new tokens whose queries, keys and values are in SRAM already, float32
        on each unit's home (kernels/attention/ingest.py: input_blocks, write_inputs): quantized
        and written into the DIMC on the device -> Result with phases "load" (bias blocks, the
        scale row when it changed), "ingest" and "compute"; the output is bit for bit the host
        path's. Needs device_inputs=True. Checked and planned before the cache changes; a
        failed step is undone as step()'s."""
        plan, tiles, scale = self._device_step(sq, scale)
        mach = self.machine
        run = Run("attention_decode", self.device, machine=mach, network=network,
                  progress=progress)
        run.start(events=I.step_events(plan, self.lengths, sq, self.max_new, sorted(tiles))
                  + plan.units)
        mach.clear_log()
        step0 = mach.step
        try:
            I.run_device_step(run, self, plan, tiles, sq, scale)
            out = None if self.timing else S.gather(mach, plan, self.bufs["y"])
            r = run.finish(output=out, plan=plan.to_dict())
        except BaseException:
            self._undo(sq, step0, host=False)
            raise
        S.add_metrics(r, plan)
        r.metrics["lengths_before"] = self.lengths.tolist()
        mach.clear_log()
        self._advance(sq)
        return r

    def launch_on_device(self, run, sq, *, scale=None, phases=False):
        """For a program: the supersteps of step_on_device launched into `run` (a Run on the
        cache's machine; in the caller's phase unless phases), without clearing or timing the
        log. Returns the step's plan: ingest.output_blocks(plan, cache.bufs["y"]) is the output.
        The lengths advance once the launches succeeded."""
        plan, tiles, scale = self._device_step(sq, scale)
        I.run_device_step(run, self, plan, tiles, sq, scale, phases=phases)
        self._advance(sq)
        return plan

    def _device_step(self, sq, scale):
        """(plan, tiles, scale) of a step with device inputs, every argument checked."""
        if not self.device_inputs:
            raise ConfigError("step_on_device needs a cache made with device_inputs=True (its "
                              "input buffers and shadows)")
        sq = args.integer("sq", sq, 1, self.max_new, error=ShapeError,
                          why="new tokens per step, at most the cache's max_new")
        self._check_step((self.b, self.hq, sq, self.d), (self.b, self.hkv, sq, self.d),
                         (self.b, self.hkv, sq, self.d), shapes=True)
        return (*self._step_plan(sq), self._scale(scale))

    def _advance(self, sq):
        """The lengths after a device step, and the host copy of its keys and values (read back
        from the homes: bookkeeping for later host-path appends, not logged)."""
        if not self.timing:
            I.read_new_keys(self, sq)
        self.lengths = self.lengths + sq

    def _scale(self, scale):
        scale = S.check_scale(scale)
        return float(1.0 / np.sqrt(self.d) if scale is None else scale)

    def _step_plan(self, sq):
        """(plan, tiles) of a step of sq tokens: the cache's plan with this step's mask."""
        p0 = self.plan
        keep = self._keep(sq)
        status = D.mask_info(keep, p0.bk, p0.kb)(p0.mq, p0.members, p0.blocks_per_tile, 1)[0]
        nq = p0.group * sq                  # more rows than a chunk: several rounds
        plan = replace(p0, sq=sq, nq=nq, chunks=-(-nq // p0.mq), status=status)
        tiles = D.tile_tables(plan, keep)
        if max(len(t[4]) for t in tiles.values()) > max(1, p0.n_bias):
            raise CapacityError("this step needs more mask-bias blocks than the cache reserved")
        return plan, tiles

    def _check_step(self, q, k_new, v_new, shapes=False):
        """(sq, q, k, v arrays or None) of a step, or ShapeError / CapacityError."""
        qs, qa = shape_of(q, "q", self.timing or shapes)
        ks, ka = shape_of(k_new, "k", self.timing or shapes)
        vs, va = shape_of(v_new, "v", self.timing or shapes)
        b, hq, sq, d = qs if len(qs) == 4 else (None,) * 4
        want = (self.b, self.hkv, sq, self.d)
        if len(qs) != 4 or (b, hq, d) != (self.b, self.hq, self.d) or ks != want or vs != want:
            raise ShapeError(f"with a cache of B={self.b}, Hq={self.hq}, Hkv={self.hkv}, "
                             f"D={self.d}: q must be [B, Hq, Sq, D] and k, v [B, Hkv, Sq, D]; got "
                             f"q {qs}, k {ks}, v {vs}")
        if sq > self.max_new:
            raise ShapeError(f"Sq={sq} new tokens exceed the cache's max_new={self.max_new}")
        if (self.lengths + sq > self.max_len).any():
            raise CapacityError(f"appending {sq} tokens to lengths {self.lengths.tolist()} exceeds "
                                f"max_len={self.max_len}")
        return sq, qa, ka, va

    def _run_step(self, run, plan, tiles, sq, qa, ka, va, scale):
        p0, mach = self.plan, self.machine
        kk = vv = None
        if not self.timing:
            kk = np.asarray(ka, np.float32).reshape(p0.units, sq, self.d)
            vv = np.asarray(va, np.float32).reshape(p0.units, sq, self.d)
            for u in range(p0.units):
                lo = int(self.lengths[u // self.hkv])
                self._k[u, lo:lo + sq], self._v[u, lo:lo + sq] = kk[u], vv[u]
        with run.phase("append"):
            W.launch_writes(self, run, W.append_writes(self, sq))
            if self.device_inputs:          # the shadows follow the host path's appends
                I.launch_loads(run, self, I.sync_loads(self, plan, sq, kk, vv))
        if not self.timing:
            S.write_queries(mach, plan, tiles, self.offs, self.bufs,
                            D.q_units(qa, scale, plan, self.backend))
        par = D.params(plan, self.device.n_tiles, self.bufs, tiles, self.offs)
        S.run_compute(run, plan, par, sorted(tiles))
        out = None if self.timing else S.gather(mach, plan, self.bufs["y"])
        r = run.finish(output=out, plan=plan.to_dict())
        S.add_metrics(r, plan)
        r.metrics["lengths_before"] = self.lengths.tolist()
        mach.clear_log()
        self.lengths = self.lengths + sq
        return r

    def _undo(self, sq, step0, host=True):
        """Take back a failed step: the new keys and values (past the lengths, zero again),
        their host bytes (host path), the log and the superstep count. DIMC slots and shadow
        rows past the lengths may keep the failed step's data; they are masked (or not read)
        and rewritten before they are used."""
        if host and not self.timing:
            for u in range(self.plan.units):
                lo = int(self.lengths[u // self.hkv])
                self._k[u, lo:lo + sq] = 0
                self._v[u, lo:lo + sq] = 0
            W.append_writes(self, sq)           # the host bytes of those blocks, as before
        self.machine.clear_log()
        self.machine.step = step0
