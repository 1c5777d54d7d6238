"""Quantize / dequantize throughput: NumPy reference vs Numba vs C on 16 M float32 values.

Targets (issue: foundation): C and Numba each >= 10x the NumPy reference, and >= 1 GB/s of float32
input for quantize, on a 2-core machine.
"""
import numpy as np
import pytest

from chipemu.emulator import dequantize, quantize

N = 16 * 1024 * 1024
FORMATS = ["mxint8", "mxfp8_e4m3", "mxfp4_e2m1", "bfp16"]
BACKENDS = ["numpy", "numba", "c"]


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).standard_normal((N // 4096, 4096)).astype(np.float32)


def _rounds(backend):
    return dict(rounds=2, warmup_rounds=0) if backend == "numpy" else dict(rounds=5, warmup_rounds=1)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_quantize(benchmark, x, fmt, backend):
    benchmark.group = f"kernel: quantize {fmt} 16M"
    benchmark.extra_info.update(label=backend, baseline="numpy", bytes=x.nbytes)
    quantize(x[:8], fmt, backend=backend)                  # compile outside the timing
    q = benchmark.pedantic(quantize, args=(x, fmt), kwargs={"backend": backend}, **_rounds(backend))
    assert q.codes.shape == x.shape


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_dequantize(benchmark, x, fmt, backend):
    benchmark.group = f"kernel: dequantize {fmt} 16M"
    benchmark.extra_info.update(label=backend, baseline="numpy", bytes=x.nbytes)
    q = quantize(x, fmt)
    dequantize(quantize(x[:8], fmt), backend=backend)
    d = benchmark.pedantic(dequantize, args=(q,), kwargs={"backend": backend}, **_rounds(backend))
    assert d.shape == x.shape


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip(benchmark, x, fmt, backend):
    benchmark.group = f"kernel: quantize+dequantize {fmt} 16M"
    benchmark.extra_info.update(label=backend, baseline="numpy", bytes=x.nbytes)
    dequantize(quantize(x[:8], fmt, backend=backend), backend=backend)
    d = benchmark.pedantic(lambda: dequantize(quantize(x, fmt, backend=backend), backend=backend),
                           **_rounds(backend))
    assert d.shape == x.shape
