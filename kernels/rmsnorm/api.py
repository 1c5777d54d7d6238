"""`rmsnorm`: y[r, :] = x[r, :] * rsqrt(mean(x[r, :]^2) + eps) * gamma on the emulated device,
the hidden axis split over tiles with a cross-tile reduction (docs/rmsnorm.md).

    from chipemu.kernels import rmsnorm
    r = rmsnorm(x, gamma)                # x float32 [rows, hidden], gamma float32 [hidden]
    r.output, r.cycles, r.phases["compute"], r.energy_breakdown

The NumPy reference replaying the same order is kernels/rmsnorm/ref.py.
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import ShapeError
from chipemu.kernels.layer import LayerOp
from chipemu.kernels.rmsnorm import data as D
from chipemu.kernels.rmsnorm.plan import plan_rmsnorm
from chipemu.kernels.rmsnorm.ref import rmsnorm_float64, rmsnorm_reference
from chipemu.kernels.rmsnorm.tile import RMS_APPLY, RMS_LOAD, RMS_PARTIAL, RMS_REDUCE
from chipemu.kernels.scaffold import (Run, as_device, check_data, check_mode,
                                     elementwise_metrics, gather_cols, shape_of, strict_keywords)

__all__ = ["rmsnorm", "run_rmsnorm", "events_of", "compute_phase", "OP"]


def events_of(plan) -> int:
    """Events of one call: load 2 per member + 1, partial 3 per member - 1 (the root sends
    nothing), reduce T - 1 adds + 3 (+ the multicast), apply 1 + rows per member."""
    t = plan.tiles
    return (2 * t + 1) + (3 * t - 1) + (t - 1 + 3 + (t > 1)) + t * (1 + plan.rows)


def compute_phase(run, plan, p) -> None:
    """The compute supersteps (partial sums, the root's reduction, the scaling) on the members,
    inside the caller's phase; the inputs and constants are in SRAM already."""
    tiles, rb = list(range(plan.tiles)), plan.rows * 4
    run.launch(RMS_PARTIAL, tiles, p, events_per_tile=3, peers_per_tile=1,
               stage_bytes_per_tile=rb)
    run.launch(RMS_REDUCE, [plan.root], p, events_per_tile=plan.tiles + 3,
               peers_per_tile=plan.tiles - 1, stage_bytes_per_tile=rb)
    run.launch(RMS_APPLY, tiles, p, events_per_tile=1 + plan.rows, peers_per_tile=0,
               stage_bytes_per_tile=0)


@strict_keywords
def rmsnorm(x, gamma, *, eps=1e-5, device=None, backend="c", mode="functional", network=None,
            progress=None):
    """RMSNorm of the rows of x [rows, hidden] with weights gamma [hidden] -> Result.

    x, gamma: float32/float16/bfloat16 arrays (converted to float32), or shape tuples in timing
    mode. eps: a finite number in [0, 1], used as float32. device: a Device, preset name or .toml
    path (None: corsair); backend "c" | "numba"; mode "functional" | "timing". Result.output is
    float32 [rows, hidden] (None in timing mode); phases "load" (host -> SRAM) and "compute",
    which is "reduce" (partial sums, their sends, the root's sums and the multicast of the
    scales) then "apply" (the scaling); metrics the elements, member tiles, elements per cycle.
    """
    eps = args.real("eps", eps, 0.0, 1.0)
    run = Run("rmsnorm", device, mode=mode, backend=backend, network=network, progress=progress)
    dev, timing = run.device, run.timing
    xs, xa = shape_of(x, "x", timing)
    gs, ga = shape_of(gamma, "gamma", timing)
    if len(xs) != 2 or gs != xs[1:]:
        raise ShapeError(f"x must be [rows, hidden] and gamma [hidden]; got x {xs}, gamma {gs}")
    rows, hidden = xs
    plan = plan_rmsnorm(rows, hidden, dev)
    # refuse before any state: in functional mode x's float32 copy and its tile-ordered copy,
    # the host arena (grown 2x), every tile's SRAM and the output
    data = 0 if timing else (5 * rows * hidden + 4 * hidden) * 4 + dev.n_tiles * sum(
        plan.sram.values())
    mach = run.start(events=events_of(plan), host_bytes=data)
    if timing:
        host = {"x_host": None, "gamma_host": None, "consts_host": None}
    else:
        host = {"x_host": D.x_by_tile(np.asarray(xa, np.float32), plan),
                "gamma_host": np.asarray(ga, np.float32),
                "consts_host": D.constants(hidden, eps)}
    sizes = {"x_host": rows * hidden * 4, "gamma_host": hidden * 4, "consts_host": 8}
    bufs = {name: run.host(name, host[name], sizes[name]) for name in sizes}
    for name, nbytes in plan.sram.items():
        bufs[name] = mach.alloc_sram(name, nbytes)
    p = D.params(plan, dev.n_tiles, bufs)
    tiles = list(range(plan.tiles))
    with run.phase("load"):
        run.launch(RMS_LOAD, tiles, p, events_per_tile=3, peers_per_tile=0,
                   stage_bytes_per_tile=0)
    with run.phase("compute"):
        first = mach.step
        compute_phase(run, plan, p)
    out = None if timing else gather_cols(mach, bufs["y"], plan.rows,
                                          map(plan.tile_cols, range(plan.tiles)))
    # inside compute: the cross-tile reduction (partial sums to the root, its sums and the
    # multicast of the scales) and the scaling by scale and gamma
    phases = dict(run.phases, reduce=[first, first + 1], apply=[first + 2])
    r = run.finish(output=out, plan=plan.to_dict(), phases=phases)
    return elementwise_metrics(r, rows * hidden, tiles=plan.tiles)


@strict_keywords
def run_rmsnorm(device=None, *, backend="c", mode="functional", progress=None, rows=16,
                hidden=4096, seed=0):
    """RMSNorm of N(0,1) rows with gamma near 1; functional mode checks it against the NumPy
    reference (bit for bit) and float64."""
    rows, hidden = (args.integer(name, v, 1, error=ShapeError)
                    for name, v in (("rows", rows), ("hidden", hidden)))
    seed = args.integer("seed", seed, 0)
    if check_mode(mode) == "timing":
        return rmsnorm((rows, hidden), (hidden,), device=device, backend=backend, mode="timing",
                       progress=progress)
    # x, gamma, the output, the reference's copies and the float64 yardstick (2 words each)
    check_data(f"run_rmsnorm rows={rows}, hidden={hidden}", (rows, hidden), (rows, hidden),
               (rows, hidden), (2, rows, hidden), (hidden,))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, hidden), dtype=np.float32)
    gamma = (1 + 0.1 * rng.standard_normal(hidden)).astype(np.float32)
    r = rmsnorm(x, gamma, device=device, backend=backend, progress=progress)
    plan = plan_rmsnorm(rows, hidden, as_device(device))
    r.metrics["equal_to_reference"] = bool(np.array_equal(
        r.output.view(np.uint32), rmsnorm_reference(x, gamma, plan).view(np.uint32)))
    exact = rmsnorm_float64(x, gamma)
    r.metrics["max_rel_error_vs_float64"] = float(np.max(np.abs(r.output - exact)
                                                         / np.maximum(np.abs(exact), 1e-30)))
    return r


OP = LayerOp("rmsnorm", inputs=("x",), output="y", compute=compute_phase,
             constants=D.constant_data)
