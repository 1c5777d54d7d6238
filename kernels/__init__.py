"""chipemu.kernels: the kernel library (planners, Numba and C tile kernels, NumPy references).

`chipemu.kernels.microbench` holds the microbenchmarks (dimc_peak, noc_bandwidth, noc_hotspot,
d2d_bandwidth, dram_stream, ping_pong); `chipemu.kernels.calibration` fits the overhead term.
"""
