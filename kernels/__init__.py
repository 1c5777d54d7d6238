"""chipemu.kernels: the kernel library (planners, Numba and C tile kernels, NumPy references).

    from chipemu.kernels import matmul, attention, KVCache
    r = matmul(a, b, fmt="mxint8")                 # GEMM / GEMV / batched on the DIMC arrays
    r = attention(q, k, v, is_causal=True)         # prefill / decode, masks, GQA

One folder per kernel (kernels/<name>/: api, plan, data, tile, ref; the C tile twin at
csrc/kernels/<name>/tile.c), registered once in `registry.REGISTERED`; the names below and the
`chipemu run` commands follow from each folder's `KERNEL`. `chipemu.kernels.microbench` holds the
microbenchmarks, `chipemu.kernels.microbench.calibration` fits the overhead term; docs/kernels.md
shows how to add a kernel.
"""
from chipemu.kernels import registry as _registry

__all__ = []
for _k in _registry.kernels().values():
    globals().update(_k.exports)
    __all__ += list(_k.exports)
del _k

from chipemu.kernels.card import Card, PlacedWeight  # noqa: E402  (placement: weights kept across calls)

__all__ += ["Card", "PlacedWeight"]
