"""The tile runtime's own speed: launch overhead and a dimc_mvm-heavy kernel, both backends.

- launch: an empty kernel on 2048 tiles (Corsair's 8 chiplets x 256 tiles); extra_info holds
  us_per_tile (target <= 1 us per tile per superstep). No NumPy baseline makes sense here.
- mvm: every tile runs dimc_mvm repeatedly (32 vectors x 64 x cols, accumulate); the baseline is
  NumPy's float32 matmul doing the same number of multiply-adds, measured in the same run.
"""
import numpy as np
import pytest

from chipemu.emulator.numerics import layout
from chipemu.emulator.numerics.formats import get_format
from chipemu.emulator.native import ffi
from chipemu.emulator.runtime.machine import Machine
from testkernels import tile as T

BACKENDS = ["c", "numba"]
NVEC, ITERS = 32, 4


def corsair_params():
    """The Corsair-sized fields the runtime reads (8 chiplets x 16 x 16 tiles, 64x64 DIMC)."""
    d = {name: 0 for name, _ in ffi.typeof("chipemu_device_params").fields}
    d.update(n_chiplets=8, tile_rows=16, tile_cols=16, dimc_rows=64, dimc_cols=64, dimc_slots=2,
             dimc_engines=1, dimc_cell_bits=8, sram_capacity_bytes=1 << 20, dram_channels=4)
    return d


@pytest.mark.parametrize("backend", BACKENDS)
def test_launch_empty_kernel(benchmark, backend):
    m = Machine(corsair_params(), backend=backend)
    tiles = np.arange(m.n_tiles)
    m.launch(T.EMPTY, tiles, events_per_tile=0)              # compile outside the timing
    benchmark.group = "kernel: launch empty, 2048 tiles"
    benchmark.extra_info.update(label=backend)
    benchmark.pedantic(m.launch, args=(T.EMPTY, tiles), kwargs=dict(events_per_tile=0),
                       rounds=20, warmup_rounds=2)
    if benchmark.stats:                                       # None under --benchmark-disable
        benchmark.extra_info["us_per_tile"] = benchmark.stats.stats.median * 1e6 / m.n_tiles
    assert m.step >= 2 and len(m.log) == 0


def _mvm_machine(backend, fa, fw):
    rng = np.random.default_rng(0)
    m = Machine(corsair_params(), backend=backend)
    nc = layout.cols_eff(64, 8, fw)
    wb = layout.encode_weights(rng.standard_normal((64, nc)).astype(np.float32), fw)
    xb = layout.encode_rows(rng.standard_normal((NVEC, 64)).astype(np.float32), fa)
    w, x, y = m.alloc_sram("w", wb.size), m.alloc_sram("x", xb.size), m.alloc_sram("y", NVEC * nc * 4)
    tiles = np.arange(m.n_tiles)
    m.write(w, wb, tile=tiles)
    m.write(x, xb, tile=tiles)
    load = [1, T.P_DIMC_LOAD, -1, 0, w, 0, 0, 64, get_format(fw).code, 0, 0, 0, 0]
    m.launch(T.PROGRAM, tiles, load, events_per_tile=1)
    params = [0, x, y, NVEC, 64, get_format(fa).code, ITERS]
    return m, tiles, params, m.n_tiles * ITERS * NVEC * 64 * nc


@pytest.mark.parametrize("backend", ["numpy"] + BACKENDS)
@pytest.mark.parametrize("fa,fw", [("mxint8", "mxint8"), ("mxint8", "mxint4")])
def test_mvm_heavy_kernel(benchmark, backend, fa, fw):
    benchmark.group = f"kernel: dimc_mvm {fa} x {fw} weights, 2048 tiles"
    benchmark.extra_info.update(label=backend, baseline="numpy")
    nc = layout.cols_eff(64, 8, fw)
    if backend == "numpy":
        rng = np.random.default_rng(0)
        a = rng.standard_normal((2048 * ITERS * NVEC, 64)).astype(np.float32)
        b = rng.standard_normal((64, nc)).astype(np.float32)
        benchmark.extra_info["macs"] = a.shape[0] * 64 * nc
        benchmark.pedantic(np.matmul, args=(a, b), rounds=5, warmup_rounds=1)
        return
    m, tiles, params, macs = _mvm_machine(backend, fa, fw)
    m.launch(T.MVM_LOOP, tiles, params, events_per_tile=ITERS)
    benchmark.extra_info["macs"] = macs
    benchmark.pedantic(m.launch, args=(T.MVM_LOOP, tiles, params),
                       kwargs=dict(events_per_tile=ITERS), rounds=5, warmup_rounds=1)
    if benchmark.stats:
        benchmark.extra_info["gmac_per_s"] = macs / benchmark.stats.stats.median / 1e9
