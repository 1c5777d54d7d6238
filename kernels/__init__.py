"""chipemu.kernels: the kernel library (planners, Numba and C tile kernels, NumPy references)."""
