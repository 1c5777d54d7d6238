"""chipemu.kernels: the kernel library (planners, Numba and C tile kernels, NumPy references).

    from chipemu.kernels import matmul
    r = matmul(a, b, fmt="mxint8")                 # GEMM / GEMV / batched on the DIMC arrays

`chipemu.kernels.microbench` holds the microbenchmarks (dimc_peak, noc_bandwidth, noc_hotspot,
d2d_bandwidth, dram_stream, ping_pong); `chipemu.kernels.calibration` fits the overhead term.
"""
from .matmul import matmul  # noqa: F401  (the function; the module stays importable by name)

__all__ = ["matmul"]
