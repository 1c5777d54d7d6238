"""chipemu.kernels: the kernel library (planners, Numba and C tile kernels, NumPy references).

    from chipemu.kernels import matmul
    r = matmul(a, b, fmt="mxint8")                 # GEMM / GEMV / batched on the DIMC arrays
    r = attention(q, k, v, is_causal=True)         # prefill / decode, masks, GQA

`chipemu.kernels.microbench` holds the microbenchmarks (dimc_peak, noc_bandwidth, noc_hotspot,
d2d_bandwidth, dram_stream, ping_pong); `chipemu.kernels.calibration` fits the overhead term.
"""
# the functions; their modules stay importable by name (chipemu.kernels.matmul_plan, ...)
from .attention import attention  # noqa: F401
from .attention_cache import KVCache  # noqa: F401
from .matmul import matmul  # noqa: F401

__all__ = ["matmul", "attention", "KVCache"]
