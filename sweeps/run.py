"""One sweep point run where an executor puts it (this process, a worker process, a Dask
worker): its device built, its kernel's `chipemu run` command called, the Result turned into a
row of plain values (docs/sweeps.md "Columns"). Any error becomes the row's `error`."""
from __future__ import annotations

import math

import numpy as np

from chipemu import __version__
from chipemu.sweeps.spec import Point, device_hash

__all__ = ["run_point", "figures", "problem_bytes", "runners", "llm_response", "block_decode"]


def llm_response(device=None, *, backend="c", mode="timing", model="llama-3.2-1b", batch=1,
                 prompt=512, new_tokens=400, cards=None, fmt="mxint8", weight_fmt="mxint4",
                 kv_fmt=None, site="us-average", cache_lengths="blocks", prefill_chunk="auto",
                 kv_home="auto"):
    """A response of an LLM on cards of the device (chipemu.llm.estimate; docs/llm.md): a
    program, timed only (mode "timing", backend "c"). model: a preset name."""
    from chipemu.emulator.errors import ConfigError
    from chipemu.llm.config import ModelConfig
    from chipemu.llm.estimate import estimate
    if mode != "timing" or backend != "c":
        raise ConfigError(f"llm: mode={mode!r}, backend={backend!r}; an LLM response is "
                          f"estimated in timing mode with the C backend only")
    return estimate(ModelConfig.preset(model), batch=batch, prompt=prompt,
                    new_tokens=new_tokens, cards=cards, device=device, fmt=fmt,
                    weight_fmt=weight_fmt, kv_fmt=kv_fmt, site=site,
                    cache_lengths=cache_lengths, prefill_chunk=prefill_chunk, kv_home=kv_home)


def block_decode(device=None, *, backend="c", mode="timing", model=None, hidden=4096,
                 intermediate=14336, heads=32, kv_heads=8, head_dim=128, batch=16, cached=4096,
                 fmt="mxint8", weight_fmt="mxint4", kv_home="dimc", max_replicas=8, share=True,
                 seed=0):
    """One decode step of a decoder block placed on a card (kernels/program/block.py): batch
    sequences with `cached` keys each; the block's shapes from `model` (a preset) or given.
    max_replicas: weight copies per chiplet (fewer leave SRAM for larger batches); share: the
    calls that never overlap share working buffers (the placement a model's layers use).
    Functional mode draws random weights, cache and input (seed)."""
    from chipemu.kernels.card import Card
    from chipemu.kernels.program.block import (BlockShape, block_step, block_weights,
                                               place_block)
    if model is not None:
        from chipemu.llm.config import ModelConfig
        shape = ModelConfig.preset(model).block_shape()
    else:
        shape = BlockShape(hidden=hidden, intermediate=intermediate, heads=heads,
                           kv_heads=kv_heads, head_dim=head_dim)
    card = Card(device, backend=backend, mode=mode)
    kv = (batch, shape.kv_heads, cached, shape.head_dim)
    w = block_weights(shape, seed=seed)
    if mode == "timing":
        w, k, v, x = {n: a.shape for n, a in w.items()}, kv, kv, (batch, shape.hidden)
    else:
        rng = np.random.default_rng(seed)
        k, v = (rng.standard_normal(kv, dtype=np.float32) for _ in range(2))
        x = rng.standard_normal((batch, shape.hidden), dtype=np.float32)
    blk = place_block(card, shape, w, batch=batch, max_len=cached + 1, k=k, v=v, fmt=fmt,
                      weight_fmt=weight_fmt, kv_home=kv_home, max_replicas=max_replicas,
                      share="blk" if share else None)
    with card.program() as p:
        block_step(p, blk, p.input(x))
    return p.result


def runners() -> dict:
    """{name: fn(device, *, backend, mode, **params)}: every `chipemu run` command, and the
    programs a sweep can run besides them: "llm" (llm_response), "block" (block_decode)."""
    from chipemu.kernels.registry import commands
    return {**commands(), "llm": llm_response, "block": block_decode}


_LLM_SKIP = ("model", "batch", "prompt", "new_tokens", "fmt", "weight_fmt", "site", "wall_s",
             "cache_lengths")


def _llm_figures(e) -> dict:
    """An LLM response's row: the common columns (seconds: the response, energy: the batch's)
    and llm.<figure> for the rest of Estimate.as_dict (wall time left out: not a result)."""
    row = {"seconds": float(e.response_s), "energy_j": float(e.energy_j),
           "energy_fj": int(round(e.energy_j * 1e15)),
           "power_w": e.energy_j / e.response_s if e.response_s else math.nan}
    for key, value in e.as_dict().items():
        if key not in _LLM_SKIP:
            row[f"llm.{key}"] = value if not isinstance(value, (np.floating, np.integer)) \
                else value.item()
    return row


def problem_bytes(kernel: str, params: dict, device, weights: bool = True) -> float:
    """Bytes a kernel must at least move in and out (its operands at their formats' sizes), for
    the roofline's intensity: a matmul's activations, weights (weights=False: resident in the
    arrays, as in its compute phase) and float32 output. NaN for kernels without a rule here."""
    if kernel != "matmul":
        return math.nan
    from chipemu.emulator.numerics.formats import get_format
    m, k, n = (int(params.get(x, 4096)) for x in ("m", "k", "n"))
    fa = get_format(params.get("fmt", "mxint8"))
    fw = get_format(params.get("weight_fmt") or fa.name)
    bits_a = fa.elem_bits + fa.scale_bits / fa.block_size
    bits_w = fw.elem_bits + fw.scale_bits / fw.block_size
    return m * k * bits_a / 8 + (k * n * bits_w / 8 if weights else 0) + m * n * 4


def figures(r, kernel: str, params: dict) -> dict:
    """The output columns of one Result (energies in integer fJ and in J, utilization 0..1)."""
    row = {"cycles": int(r.cycles), "seconds": float(r.seconds), "energy_fj": int(r.energy_fj),
           "energy_j": r.energy_fj * 1e-15, "power_w": float(r.power_w),
           "binding": r.critical_path["binding"] or ""}
    for comp, fj in r.energy_breakdown["component"].items():
        row[f"energy.{comp}_fj"] = int(fj)
    for cls, u in r.utilization.items():
        row[f"util.{cls}"] = float(u)
    for p in r.phase_list:
        row[f"phase.{p.name}.cycles"] = int(p.cycles)
        row[f"phase.{p.name}.energy_fj"] = int(p.energy_fj)
    for name, call in r.kernels.items():          # a program's calls
        row[f"call.{name}.cycles"] = int(call["cycles"])
        row[f"call.{name}.energy_fj"] = int(call["energy_fj"])
    for key, value in sorted(r.metrics.items()):
        if isinstance(value, (bool, np.bool_)):
            continue
        if isinstance(value, (int, np.integer)):
            row[f"metric.{key}"] = int(value)
        elif isinstance(value, (float, np.floating)):
            row[f"metric.{key}"] = float(value)
    macs = r.metrics.get("macs")
    flops = 2.0 * macs if isinstance(macs, (int, np.integer)) else math.nan
    nbytes = problem_bytes(kernel, params, r.device)
    row["flops"] = flops
    row["bytes"] = nbytes
    row["intensity_flop_per_byte"] = flops / nbytes if nbytes == nbytes and nbytes else math.nan
    row["flop_per_s"] = flops / r.seconds if r.seconds > 0 else math.nan
    # the compute phase alone: the weights already in the arrays (a decode step's case)
    compute = {p.name: p for p in r.phase_list}.get("compute")
    resident = problem_bytes(kernel, params, r.device, weights=False)
    row["intensity_compute"] = flops / resident if resident == resident and resident else math.nan
    row["flop_per_s_compute"] = (flops / compute.seconds if compute is not None
                                 and compute.seconds > 0 else math.nan)
    return row


def run_point(point: Point) -> dict:
    """The row of one point: its inputs, the chipemu version and device hash, status "ok" with
    its figures, or status "error" with `error` = "<ErrorClass>: <message>"."""
    row = point.inputs()
    row.update(version=__version__, device_hash="", status="ok", error="")
    try:
        dev = point.build_device()
        row["device_hash"] = device_hash(dev)
        params = dict(point.params)
        r = runners()[point.kernel](dev, backend=point.backend, mode=point.mode, **params)
        row.update(_llm_figures(r) if point.kernel == "llm" else
                   figures(r, point.kernel, params))
    except Exception as exc:            # a bad point is a row, not the end of the sweep
        row.update(status="error", error=f"{type(exc).__name__}: {exc}")
    return row
