"""`scale_rows`: y[r, :] = x[r, :] * s[r] on the emulated device, rows spread over tiles.

    from chipemu.kernels import scale_rows
    r = scale_rows(x, s)                 # x float32 [rows, cols], s float32 [rows]
    r.output, r.cycles, r.phases["compute"], r.energy_breakdown

The template kernel: small enough to read in one sitting, complete in every part a kernel has
(docs/kernels.md). The NumPy reference is kernels/scale_rows/ref.py.
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator.errors import ShapeError
from chipemu.kernels.scale_rows import data as D
from chipemu.kernels.scale_rows.plan import plan_scale_rows
from chipemu.kernels.scale_rows.tile import SR_LOAD, SR_SCALE
from chipemu.emulator import args
from chipemu.kernels.scaffold import (Run, check_data, check_mode, elementwise_metrics, shape_of,
                                     strict_keywords)

__all__ = ["scale_rows", "run_scale_rows"]


@strict_keywords
def scale_rows(x, s, *, device=None, backend="c", mode="functional", network=None,
               progress=None):
    """x [rows, cols] scaled row by row by s [rows] on the vector units -> Result.

    x, s: float32/float16/bfloat16 arrays (converted to float32), or shape tuples in timing mode.
    device: a Device, preset name or .toml path (None: corsair); backend "c" | "numba"; mode
    "functional" | "timing". Result.output is float32 [rows, cols] (None in timing mode);
    phases "load" (host -> SRAM) and "compute"; metrics the elements and elements per cycle.
    """
    run = Run("scale_rows", device, mode=mode, backend=backend, network=network,
              progress=progress)
    dev, timing = run.device, run.timing
    xs, xa = shape_of(x, "x", timing)
    ss, sa = shape_of(s, "s", timing)
    if len(xs) != 2 or ss != xs[:1]:
        raise ShapeError(f"x must be [rows, cols] and s [rows]; got x {xs}, s {ss}")
    plan = plan_scale_rows(xs[0], xs[1], dev)
    # refuse before any state: 3 events per tile; in functional mode x's float32 copy, the host
    # arena (grown 2x), every tile's SRAM and the output
    data = 0 if timing else 4 * (xs[0] * xs[1] + xs[0]) * 4 + dev.n_tiles * sum(plan.sram.values())
    mach = run.start(events=3 * plan.tiles, host_bytes=data)
    x_host = run.host("x_host", None if timing else np.asarray(xa, np.float32), xs[0] * xs[1] * 4)
    s_host = run.host("s_host", None if timing else np.asarray(sa, np.float32), xs[0] * 4)
    bufs = {"x_host": x_host, "s_host": s_host}
    for name, nbytes in plan.sram.items():
        bufs[name] = mach.alloc_sram(name, nbytes)
    p = D.params(plan, dev.n_tiles, bufs)
    tiles = list(range(plan.tiles))
    with run.phase("load"):
        run.launch(SR_LOAD, tiles, p, events_per_tile=2, peers_per_tile=0, stage_bytes_per_tile=0)
    with run.phase("compute"):
        run.launch(SR_SCALE, tiles, p, events_per_tile=1, peers_per_tile=0, stage_bytes_per_tile=0)
    out = None if timing else _gather(mach, plan, bufs["y"])
    r = run.finish(output=out, plan=plan.to_dict())
    return elementwise_metrics(r, plan.rows * plan.cols)


def _gather(mach, plan, ybuf):
    out = np.empty((plan.rows, plan.cols), np.float32)
    for t in range(plan.tiles):
        r0, n = plan.tile_rows(t)
        out[r0:r0 + n] = mach.read(ybuf, tile=t, nbytes=n * plan.cols * 4,
                                   dtype=np.float32).reshape(n, plan.cols)
    return out


@strict_keywords
def run_scale_rows(device=None, *, backend="c", mode="functional", progress=None, rows=4096,
                   cols=1024, seed=0):
    """Scale N(0,1) rows by N(0,1) factors; functional mode checks the result against NumPy."""
    rows, cols = (args.integer(name, v, 1, error=ShapeError) for name, v in (("rows", rows),
                                                                             ("cols", cols)))
    seed = args.integer("seed", seed, 0)
    if check_mode(mode) == "timing":
        return scale_rows((rows, cols), (rows,), device=device, backend=backend, mode="timing",
                          progress=progress)
    check_data(f"run_scale_rows rows={rows}, cols={cols}", (rows, cols), (rows,), (rows, cols),
               (rows, cols))                     # x, s, the output and NumPy's x * s
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, cols), dtype=np.float32)
    s = rng.standard_normal(rows, dtype=np.float32)
    r = scale_rows(x, s, device=device, backend=backend, progress=progress)
    r.metrics["equal_to_numpy"] = bool(np.array_equal(r.output, x * s[:, None]))
    return r
