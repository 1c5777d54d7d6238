"""`glu`: y = act(gate) * up with act SiLU or GELU (tanh form) on the emulated device, the
columns split over tiles, elementwise (docs/glu.md).

    from chipemu.kernels import glu
    r = glu(gate, up, act="silu")        # gate, up float32 [rows, cols]
    r.output, r.cycles, r.phases["compute"], r.energy_breakdown

The NumPy reference replaying the same order is kernels/glu/ref.py.
"""
from __future__ import annotations

import numpy as np

from chipemu.emulator import args
from chipemu.emulator.errors import ShapeError
from chipemu.kernels.glu import data as D
from chipemu.kernels.layer import LayerOp
from chipemu.kernels.glu.params import ACTS
from chipemu.kernels.glu.plan import plan_glu
from chipemu.kernels.glu.ref import glu_float64, glu_reference
from chipemu.kernels.glu.tile import GLU_APPLY, GLU_LOAD
from chipemu.kernels.scaffold import (Run, check_data, check_mode, elementwise_metrics,
                                     gather_cols, shape_of, strict_keywords)

__all__ = ["glu", "run_glu", "events_of", "VEC_OPS", "compute_phase", "OP"]

VEC_OPS = {"silu": 6, "gelu": 10}       # vector ops of glu_apply per member tile


def events_of(plan, act: str) -> int:
    """Events of one call: 3 host reads and VEC_OPS[act] vector ops per member."""
    return plan.tiles * (3 + VEC_OPS[act])


def compute_phase(run, plan, p) -> None:
    """glu_apply on the members (the activation is the parameter vector's `act` word), inside
    the caller's phase; gate, up and the constants are in SRAM already."""
    act = ACTS[int(p[D.LAYOUT.H.act])]
    run.launch(GLU_APPLY, list(range(plan.tiles)), p, events_per_tile=VEC_OPS[act],
               peers_per_tile=0, stage_bytes_per_tile=0)


@strict_keywords
def glu(gate, up, *, act="silu", device=None, backend="c", mode="functional", network=None,
        progress=None):
    """act(gate) * up for gate, up [rows, cols] -> Result.

    gate, up: float32/float16/bfloat16 arrays (converted to float32) of one shape, or shape
    tuples in timing mode. act: "silu" (x sigmoid(x)) or "gelu" (the tanh form). device: a
    Device, preset name or .toml path (None: corsair); backend "c" | "numba"; mode "functional"
    | "timing". Result.output is float32 [rows, cols] (None in timing mode); phases "load"
    (host -> SRAM) and "compute"; metrics the elements, member tiles, elements per cycle.
    """
    act = args.choice("act", act, ACTS)
    run = Run("glu", device, mode=mode, backend=backend, network=network, progress=progress)
    dev, timing = run.device, run.timing
    gs, ga = shape_of(gate, "gate", timing)
    us, ua = shape_of(up, "up", timing)
    if len(gs) != 2 or us != gs:
        raise ShapeError(f"gate and up must both be [rows, cols]; got gate {gs}, up {us}")
    rows, cols = gs
    plan = plan_glu(rows, cols, dev)
    # refuse before any state: in functional mode both inputs' float32 and tile-ordered copies,
    # the host arena (grown 2x), every tile's SRAM and the output
    data = 0 if timing else 9 * rows * cols * 4 + dev.n_tiles * sum(plan.sram.values())
    mach = run.start(events=events_of(plan, act), host_bytes=data)
    if timing:
        host = {"gate_host": None, "up_host": None, "consts_host": None}
    else:
        host = {"gate_host": D.by_tile(np.asarray(ga, np.float32), plan),
                "up_host": D.by_tile(np.asarray(ua, np.float32), plan),
                "consts_host": D.constants()}
    sizes = {"gate_host": rows * cols * 4, "up_host": rows * cols * 4, "consts_host": 16}
    bufs = {name: run.host(name, host[name], sizes[name]) for name in sizes}
    for name, nbytes in plan.sram.items():
        bufs[name] = mach.alloc_sram(name, nbytes)
    p = D.params(plan, dev.n_tiles, bufs, ACTS.index(act))
    tiles = list(range(plan.tiles))
    with run.phase("load"):
        run.launch(GLU_LOAD, tiles, p, events_per_tile=3, peers_per_tile=0,
                   stage_bytes_per_tile=0)
    with run.phase("compute"):
        compute_phase(run, plan, p)
    out = None if timing else gather_cols(mach, bufs["y"], plan.rows,
                                          map(plan.tile_cols, range(plan.tiles)))
    r = run.finish(output=out, plan=dict(plan.to_dict(), act=act), phases=run.phases)
    return elementwise_metrics(r, rows * cols, tiles=plan.tiles)


@strict_keywords
def run_glu(device=None, *, backend="c", mode="functional", progress=None, rows=16, cols=14336,
            act="silu", seed=0):
    """act(gate) * up of N(0,1) gate and up (SiLU or GELU); functional mode checks it against
    the NumPy reference (bit for bit) and float64."""
    rows, cols = (args.integer(name, v, 1, error=ShapeError)
                  for name, v in (("rows", rows), ("cols", cols)))
    act = args.choice("act", act, ACTS)
    seed = args.integer("seed", seed, 0)
    if check_mode(mode) == "timing":
        return glu((rows, cols), (rows, cols), act=act, device=device, backend=backend,
                   mode="timing", progress=progress)
    # gate, up, the output, the reference's temporaries and the float64 yardstick (2 words)
    check_data(f"run_glu rows={rows}, cols={cols}", (rows, cols), (rows, cols), (rows, cols),
               (3, rows, cols), (2, rows, cols))
    rng = np.random.default_rng(seed)
    gate = rng.standard_normal((rows, cols), dtype=np.float32)
    up = rng.standard_normal((rows, cols), dtype=np.float32)
    r = glu(gate, up, act=act, device=device, backend=backend, progress=progress)
    r.metrics["equal_to_reference"] = bool(np.array_equal(
        r.output.view(np.uint32), glu_reference(gate, up, act).view(np.uint32)))
    exact = glu_float64(gate, up, act)
    r.metrics["max_abs_error_vs_float64"] = float(np.max(np.abs(r.output - exact)))
    return r


OP = LayerOp("glu", inputs=("gate", "up"), output="y", compute=compute_phase,
             constants=D.constant_data)
