"""Microbenchmarks of the emulated device (docs/microbench.md): each returns a Result whose
`metrics` hold the achieved and the configured figure.

    from chipemu.kernels import microbench
    r = microbench.dimc_peak("corsair", mode="timing")

Modules: api (the six benchmarks), params (the tile parameter layouts), tile (Numba twin of
csrc/kernels/microbench/tile.c), calibration (the fit of the overhead energy term;
`python -m chipemu.kernels.microbench.calibration`).
"""
from chipemu.kernels.microbench.api import (MICROBENCHMARKS, d2d_bandwidth, dimc_peak, dram_stream,
                                            noc_bandwidth, noc_hotspot, ping_pong)
from chipemu.kernels.microbench.params import LAYOUTS
from chipemu.kernels.registry import Kernel

__all__ = ["dimc_peak", "noc_bandwidth", "noc_hotspot", "d2d_bandwidth", "dram_stream",
           "ping_pong", "MICROBENCHMARKS", "KERNEL"]

KERNEL = Kernel(name="microbench", doc="docs/microbench.md", commands=MICROBENCHMARKS,
                params=LAYOUTS)
