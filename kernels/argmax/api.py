"""`argmax`: greedy next token, y[r] = the id of the maximum of logits x[r, :] on the emulated
device, the vocabulary split over tiles with a cross-tile pick at a root (docs/argmax.md).

    from chipemu.kernels import argmax
    r = argmax(x)                        # x float32 [rows, vocab]
    r.output, r.cycles, r.phases["compute"], r.energy_breakdown

The NumPy reference replaying the same order is kernels/argmax/ref.py.
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import ShapeError
from chipemu.kernels.argmax import data as D
from chipemu.kernels.argmax.plan import plan_argmax
from chipemu.kernels.argmax.ref import argmax_exact, argmax_reference
from chipemu.kernels.argmax.tile import AMX_LOAD, AMX_LOCAL, AMX_PICK
from chipemu.kernels.layer import LayerOp
from chipemu.kernels.scaffold import (Run, as_device, check_data, check_mode,
                                     elementwise_metrics, shape_of, strict_keywords)

__all__ = ["argmax", "run_argmax", "events_of", "compute_phase", "OP"]


def events_of(plan) -> int:
    """Events of one call: load 2 per member; local 1 + rows per member and 2 sends per member
    but the root; the root's pick 1."""
    t = plan.tiles
    return 2 * t + t * (1 + plan.rows) + 2 * (t - 1) + 1


def compute_phase(run, plan, p) -> None:
    """The compute supersteps (local maxima and ids, the root's pick) on the members, inside the
    caller's phase; x and the column ids are in SRAM already."""
    tiles, rb = list(range(plan.tiles)), plan.rows * 4
    run.launch(AMX_LOCAL, tiles, p, events_per_tile=3 + plan.rows, peers_per_tile=2,
               stage_bytes_per_tile=2 * rb)
    run.launch(AMX_PICK, [plan.root], p, events_per_tile=1, peers_per_tile=0,
               stage_bytes_per_tile=0)


@strict_keywords
def argmax(x, *, device=None, backend="c", mode="functional", network=None, progress=None):
    """The id of the maximum of each row of logits x [rows, vocab] -> Result.

    x: a float32/float16/bfloat16 array (converted to float32), or a shape tuple in timing mode.
    device: a Device, preset name or .toml path (None: corsair); backend "c" | "numba"; mode
    "functional" | "timing". Result.output is int64 [rows] (None in timing mode), the int32 ids
    the root tile holds: the first (smallest) id of each row's maximum, -0 == +0; a row holding
    a NaN gives its first NaN's id (np.argmax's rule). Phases "load" (host -> SRAM) and
    "compute", which is "local" (each member's maxima and ids, sent to the root) then "pick".
    """
    run = Run("argmax", device, mode=mode, backend=backend, network=network, progress=progress)
    dev, timing = run.device, run.timing
    xs, xa = shape_of(x, "x", timing)
    if len(xs) != 2:
        raise ShapeError(f"x must be [rows, vocab]; got shape {xs}")
    rows, vocab = xs
    plan = plan_argmax(rows, vocab, dev)
    # refuse before any state: in functional mode x's float32 copy and its tile-ordered copy,
    # the ids, the host arena (grown 2x) and every tile's SRAM
    data = 0 if timing else (5 * rows * vocab + 3 * vocab) * 4 + dev.n_tiles * sum(
        plan.sram.values())
    mach = run.start(events=events_of(plan), host_bytes=data)
    if timing:
        host = {"x_host": None, "ids_host": None}
    else:
        host = {"x_host": D.x_by_tile(np.asarray(xa, np.float32), plan),
                "ids_host": D.column_ids(vocab)}
    sizes = {"x_host": rows * vocab * 4, "ids_host": vocab * 4}
    bufs = {name: run.host(name, host[name], sizes[name]) for name in sizes}
    for name, nbytes in plan.sram.items():
        bufs[name] = mach.alloc_sram(name, nbytes)
    p = D.params(plan, dev.n_tiles, bufs)
    tiles = list(range(plan.tiles))
    with run.phase("load"):
        run.launch(AMX_LOAD, tiles, p, events_per_tile=2, peers_per_tile=0,
                   stage_bytes_per_tile=0)
    with run.phase("compute"):
        first = mach.step
        compute_phase(run, plan, p)
    out = None if timing else mach.read(bufs["y"], tile=plan.root, nbytes=rows * 4,
                                        dtype=np.int32).astype(np.int64)
    phases = dict(run.phases, local=[first], pick=[first + 1])
    r = run.finish(output=out, plan=plan.to_dict(), phases=phases)
    return elementwise_metrics(r, rows * vocab, tiles=plan.tiles)


@strict_keywords
def run_argmax(device=None, *, backend="c", mode="functional", progress=None, rows=16,
               vocab=128256, seed=0):
    """Greedy next token: the argmax of rows of N(0, 1) logits; functional mode checks it
    against the NumPy reference and np.argmax (both exact)."""
    rows, vocab = (args.integer(name, v, 1, error=ShapeError)
                   for name, v in (("rows", rows), ("vocab", vocab)))
    seed = args.integer("seed", seed, 0)
    if check_mode(mode) == "timing":
        return argmax((rows, vocab), device=device, backend=backend, mode="timing",
                      progress=progress)
    # x, its tile-ordered copy and the reference's copy
    check_data(f"run_argmax rows={rows}, vocab={vocab}", (3, rows, vocab), (2, vocab))
    x = np.random.default_rng(seed).standard_normal((rows, vocab), dtype=np.float32)
    r = argmax(x, device=device, backend=backend, progress=progress)
    plan = plan_argmax(rows, vocab, as_device(device))
    r.metrics["equal_to_reference"] = bool(np.array_equal(r.output, argmax_reference(x, plan)))
    r.metrics["equal_to_np_argmax"] = bool(np.array_equal(r.output, argmax_exact(x)))
    return r


# the program interface: input x, the [rows, n_t] float32 column blocks on members 0 .. T-1;
# output y is NOT a column block: the int32 ids [rows] on the root tile (plan.root) only;
# constants: each member's int32 column ids in `ids` (float32 views of their bytes)
OP = LayerOp("argmax", inputs=("x",), output="y", compute=compute_phase,
             constants=D.constant_data)
