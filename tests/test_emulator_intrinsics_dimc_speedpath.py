"""dimc_mvm's fast paths equal the NumPy reference bit for bit: the C kernel blocks the vectors
(CORE_DIMC_VB at a time, then 1-3 left over), pairs K rows for vpmaddwd (an odd last row padded)
and tiles 16 columns (an 8-column tail), so every such edge gets a case here; raw random codes
include the extremes (-128/127, -8/7 at 4 bits) that the quantizer never writes. The C backend
runs again with CHIPEMU_NO_SIMD=1, which forces the portable kernel."""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chipemu.emulator.intrinsics import core as K
from chipemu.emulator.numerics import layout
from chipemu.emulator.numerics.formats import get_format
from chipemu.emulator.reference import dimc as ref
from testkernels import tile as T
from runtime_helpers import Prog, machine

ROOT = Path(__file__).resolve().parents[1]
NVECS = (1, 2, 3, 5, 8, 17, 64, 257)


def _x_bytes(rng, fmt, nvec, k):
    """nvec rows of k random raw codes in the rows layout, extremes first, sane scales."""
    s = get_format(fmt)
    rows = rng.integers(0, 256, (nvec, layout.row_bytes(fmt, k)), dtype=np.uint8)
    ncode = (k * s.elem_bits + 7) // 8
    rows[:, :2] = [0x80, 0x7F] if s.elem_bits == 8 else [0x88, 0x77]
    if s.kind == K.KIND_INT_TENSOR:
        sc = (rng.standard_normal(nvec) * 0.01).astype(np.float32)
        rows[:, k:k + 4] = sc.view(np.uint8).reshape(nvec, 4)
    else:
        rows[:, ncode:] = rng.integers(110, 140, (nvec, rows.shape[1] - ncode))
        if nvec > 1:
            rows[1, ncode] = 255                  # a NaN block: canonical NaN out
    return rows.reshape(-1)


def _w_bytes(rng, fmt, k, nc):
    """k weight rows of nc random raw codes in the weights layout, sane scales."""
    s = get_format(fmt)
    w = rng.integers(0, 256, layout.weight_bytes(fmt, k, nc), dtype=np.uint8)
    w[:2] = [0x80, 0x7F] if s.elem_bits == 8 else [0x88, 0x77]
    if s.kind == K.KIND_INT_TENSOR:
        w[-4:] = np.array([0.37], np.float32).view(np.uint8)
        return w
    rb, bs = nc * s.elem_bits // 8, s.block_size
    for g in range(k // bs):
        at = g * (bs * rb + nc) + bs * rb
        w[at:at + nc] = rng.integers(110, 140, nc)
    return w


def _run(backend, fa, fw, k, nvecs, dimc_cols=64):
    """One tile: load k weight rows, then one dimc_mvm per nvec (odd ones accumulate onto y_old);
    every result is compared with the reference."""
    rng = np.random.default_rng([k, len(fa), len(fw), dimc_cols])
    m = machine(backend, sram_capacity_bytes=1 << 20, dimc_cols=dimc_cols)
    nc = layout.cols_eff(dimc_cols, 8, fw)
    wb = _w_bytes(rng, fw, k, nc)
    s_w = m.alloc_sram("w", wb.size)
    m.write(s_w, wb, tile=0)
    p = Prog().dimc_load(1, s_w, 0, 0, k, fw)
    cases = []
    for i, nvec in enumerate(nvecs):
        xb = _x_bytes(rng, fa, nvec, k)
        y_old = rng.standard_normal((nvec, nc)).astype(np.float32) if i % 2 else None
        s_x, s_y = m.alloc_sram(f"x{i}", xb.size), m.alloc_sram(f"y{i}", nvec * nc * 4)
        m.write(s_x, xb, tile=0)
        if y_old is not None:
            m.write(s_y, y_old, tile=0)
        p.dimc_mvm(0, 1, s_x, 0, s_y, 0, nvec, k, fa, int(y_old is not None))
        cases.append((nvec, xb, y_old, s_y))
    m.launch(T.PROGRAM, [0], p.params(), events_per_tile=len(nvecs) + 1)
    for nvec, xb, y_old, s_y in cases:
        y = m.read(s_y, tile=0, dtype=np.float32)
        want = ref.mvm_bytes(xb, fa, wb, fw, nvec, k, nc, y_old=y_old)
        assert y.view(np.uint32).tobytes() == want.view(np.uint32).tobytes(), (fa, fw, k, nvec)


@pytest.mark.parametrize("k", [32, 64])
@pytest.mark.parametrize("fa,fw", [("mxint8", "mxint8"), ("mxint8", "mxint4"), ("int8", "int8"),
                                   ("int8", "mxint4")])
@pytest.mark.parametrize("backend", ["c", "numba"])
def test_mvm_blocks_of_vectors(backend, fa, fw, k):
    _run(backend, fa, fw, k, NVECS)


@pytest.mark.parametrize("fa,fw,k", [("int8", "int8", 33), ("int8", "int8", 63),
                                     ("bfp16", "bfp12", 64), ("mxint4", "bfp16", 64)])
@pytest.mark.parametrize("backend", ["c", "numba"])
def test_mvm_odd_k_and_wide_blocks(backend, fa, fw, k):
    _run(backend, fa, fw, k, (1, 4, 7))


@pytest.mark.parametrize("fw", ["mxint8", "mxint4"])
@pytest.mark.parametrize("backend", ["c", "numba"])
def test_mvm_column_tails(backend, fw):
    """36 cells: 36 (padded to 40) or 72 columns, not a multiple of the 16-column tile."""
    _run(backend, "mxint8", fw, 64, (3, 5), dimc_cols=36)


def test_scratch_sizes_match_the_c_core():
    text = (ROOT / "csrc/intrinsics/core.h").read_text()
    assert int(re.search(r"#define CORE_DIMC_VB (\d+)", text).group(1)) == K.DIMC_VB


@pytest.mark.skipif(os.environ.get("CHIPEMU_NO_SIMD"), reason="already the portable kernel")
def test_portable_c_kernel_gives_the_same_bits():
    env = dict(os.environ, CHIPEMU_NO_SIMD="1")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__,
                        "-k", "c- or c]"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert " passed" in r.stdout and " failed" not in r.stdout
