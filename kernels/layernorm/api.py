"""`layernorm`: y[r, :] = (x[r, :] - mean) * rsqrt(var + eps) * gamma + beta on the emulated
device, the hidden axis split over tiles with two cross-tile reductions (docs/layernorm.md).

    from chipemu.kernels import layernorm
    r = layernorm(x, gamma, beta)        # x float32 [rows, hidden], gamma, beta float32 [hidden]
    r.output, r.cycles, r.phases["compute"], r.energy_breakdown

The NumPy reference replaying the same order is kernels/layernorm/ref.py.
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import ShapeError
from chipemu.kernels.layer import LayerOp
from chipemu.kernels.layernorm import data as D
from chipemu.kernels.layernorm.plan import plan_layernorm
from chipemu.kernels.layernorm.ref import layernorm_float64, layernorm_reference
from chipemu.kernels.layernorm.tile import (LN_APPLY, LN_CENTER, LN_LOAD, LN_MEAN, LN_SUM,
                                            LN_VAR)
from chipemu.kernels.scaffold import (Run, as_device, check_data, check_mode,
                                     elementwise_metrics, gather_cols, shape_of, strict_keywords)

__all__ = ["layernorm", "run_layernorm", "events_of", "compute_phase", "OP"]


def events_of(plan) -> int:
    """Events of one call: load 3 per member + 1; sum 2 per member - 1 (the root sends
    nothing); mean T - 1 adds + 1 (+ the multicast); center 4 per member - 1; var T - 1 adds
    + 3 (+ the multicast); apply 2 + 2 rows per member."""
    t, cast = plan.tiles, int(plan.tiles > 1)
    return ((3 * t + 1) + (2 * t - 1) + (t + cast) + (4 * t - 1) + (t + 2 + cast)
            + t * (2 + 2 * plan.rows))


def compute_phase(run, plan, p) -> None:
    """The compute supersteps (the two reductions and the normalisation) on the members, inside
    the caller's phase; x, gamma, beta and the constants are in SRAM already."""
    tiles, rb = list(range(plan.tiles)), plan.rows * 4
    root = dict(events_per_tile=plan.tiles + 3, peers_per_tile=plan.tiles - 1,
                stage_bytes_per_tile=rb)
    run.launch(LN_SUM, tiles, p, events_per_tile=2, peers_per_tile=1, stage_bytes_per_tile=rb)
    run.launch(LN_MEAN, [plan.root], p, **root)
    run.launch(LN_CENTER, tiles, p, events_per_tile=4, peers_per_tile=1,
               stage_bytes_per_tile=rb)
    run.launch(LN_VAR, [plan.root], p, **root)
    run.launch(LN_APPLY, tiles, p, events_per_tile=2 + 2 * plan.rows, peers_per_tile=0,
               stage_bytes_per_tile=0)


@strict_keywords
def layernorm(x, gamma, beta, *, eps=1e-5, device=None, backend="c", mode="functional",
              network=None, progress=None):
    """LayerNorm of the rows of x [rows, hidden] with gamma, beta [hidden] -> Result.

    x, gamma, beta: float32/float16/bfloat16 arrays (converted to float32), or shape tuples in
    timing mode. eps: a finite number in [0, 1], used as float32. device: a Device, preset name
    or .toml path (None: corsair); backend "c" | "numba"; mode "functional" | "timing".
    Result.output is float32 [rows, hidden] (None in timing mode); phases "load" (host -> SRAM)
    and "compute", which is "mean" (row sums to the root, the negated means multicast),
    "variance" (sums of squared deviations to the root, the scales multicast) then "apply";
    metrics the elements, member tiles, elements per cycle.
    """
    eps = args.real("eps", eps, 0.0, 1.0)
    run = Run("layernorm", device, mode=mode, backend=backend, network=network,
              progress=progress)
    dev, timing = run.device, run.timing
    xs, xa = shape_of(x, "x", timing)
    gs, ga = shape_of(gamma, "gamma", timing)
    bs, ba = shape_of(beta, "beta", timing)
    if len(xs) != 2 or gs != xs[1:] or bs != xs[1:]:
        raise ShapeError(f"x must be [rows, hidden] and gamma, beta [hidden]; got x {xs}, "
                         f"gamma {gs}, beta {bs}")
    rows, hidden = xs
    plan = plan_layernorm(rows, hidden, dev)
    # refuse before any state: in functional mode x's float32 copy and its tile-ordered copy,
    # the host arena (grown 2x), every tile's SRAM and the output
    data = 0 if timing else (5 * rows * hidden + 8 * hidden) * 4 + dev.n_tiles * sum(
        plan.sram.values())
    mach = run.start(events=events_of(plan), host_bytes=data)
    names = ("x_host", "gamma_host", "beta_host", "consts_host")
    if timing:
        host = dict.fromkeys(names)
    else:
        host = {"x_host": D.x_by_tile(np.asarray(xa, np.float32), plan),
                "gamma_host": np.asarray(ga, np.float32), "beta_host": np.asarray(ba, np.float32),
                "consts_host": D.constants(hidden, eps)}
    sizes = {"x_host": rows * hidden * 4, "gamma_host": hidden * 4, "beta_host": hidden * 4,
             "consts_host": 12}
    bufs = {name: run.host(name, host[name], sizes[name]) for name in names}
    for name, nbytes in plan.sram.items():
        bufs[name] = mach.alloc_sram(name, nbytes)
    p = D.params(plan, dev.n_tiles, bufs)
    tiles = list(range(plan.tiles))
    with run.phase("load"):
        run.launch(LN_LOAD, tiles, p, events_per_tile=4, peers_per_tile=0,
                   stage_bytes_per_tile=0)
    with run.phase("compute"):
        first = mach.step
        compute_phase(run, plan, p)
    out = None if timing else gather_cols(mach, bufs["y"], plan.rows,
                                          map(plan.tile_cols, range(plan.tiles)))
    phases = dict(run.phases, mean=[first, first + 1], variance=[first + 2, first + 3],
                  apply=[first + 4])
    r = run.finish(output=out, plan=plan.to_dict(), phases=phases)
    return elementwise_metrics(r, rows * hidden, tiles=plan.tiles)


@strict_keywords
def run_layernorm(device=None, *, backend="c", mode="functional", progress=None, rows=16,
                  hidden=4096, seed=0):
    """LayerNorm of N(0,1) rows with gamma near 1 and beta near 0; functional mode checks it
    against the NumPy reference (bit for bit) and float64."""
    rows, hidden = (args.integer(name, v, 1, error=ShapeError)
                    for name, v in (("rows", rows), ("hidden", hidden)))
    seed = args.integer("seed", seed, 0)
    if check_mode(mode) == "timing":
        return layernorm((rows, hidden), (hidden,), (hidden,), device=device, backend=backend,
                         mode="timing", progress=progress)
    # x, the output, the reference's copies and the float64 yardstick (2 words each)
    check_data(f"run_layernorm rows={rows}, hidden={hidden}", (rows, hidden), (rows, hidden),
               (3, rows, hidden), (2, rows, hidden), (2, hidden))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, hidden), dtype=np.float32)
    gamma = (1 + 0.1 * rng.standard_normal(hidden)).astype(np.float32)
    beta = (0.1 * rng.standard_normal(hidden)).astype(np.float32)
    r = layernorm(x, gamma, beta, device=device, backend=backend, progress=progress)
    plan = plan_layernorm(rows, hidden, as_device(device))
    r.metrics["equal_to_reference"] = bool(np.array_equal(
        r.output.view(np.uint32), layernorm_reference(x, gamma, beta, plan).view(np.uint32)))
    exact = layernorm_float64(x, gamma, beta)
    r.metrics["max_abs_error_vs_float64"] = float(np.max(np.abs(r.output - exact)))
    return r


OP = LayerOp("layernorm", inputs=("x",), output="y", compute=compute_phase,
             constants=D.constant_data)
