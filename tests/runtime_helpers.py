"""Shared helpers of the runtime and intrinsics tests: the `tiny` device params, a builder for
the PROGRAM test kernel, and running one setup on several machines to compare them."""
import numpy as np

from chipemu.emulator.numerics import layout
from chipemu.emulator.events import VOPS
from chipemu.emulator.numerics.formats import get_format
from chipemu.emulator.native import ffi
from chipemu.emulator.runtime.machine import Machine
from testkernels import tile as T

N_TILES = 16
FP32 = 0


def tiny_params(**over):
    """chipemu_device_params fields of the `tiny` device, built by hand: 2x2 chiplets x 2x2 tiles,
    DIMC 64x64 cells of 8 bits, 2 slots, 1 engine, 64 KiB SRAM, 1 DRAM channel per chiplet."""
    d = {name: 0 for name, _ in ffi.typeof("chipemu_device_params").fields}
    d.update(version=1, n_chiplets=4, tile_rows=2, tile_cols=2, clock_ghz=1.0, dimc_rows=64,
             dimc_cols=64, dimc_slots=2, dimc_engines=1, dimc_cell_bits=8,
             sram_capacity_bytes=65536, dram_channels=1, links=[], dram_channel_tile=[0])
    d.update(over)
    return d


def fmt_code(fmt):
    return get_format(fmt).code


class Prog:
    """Builds the params of testkernels.tile.PROGRAM (tests/testkernels/tile.py): one method per
    intrinsic; tile=-1 runs the call on every tile, else on that tile only."""

    def __init__(self):
        self.ins = []
        self.lists = []

    def _add(self, code, tile, *args):
        """One instruction; an argument ("list", i) stands for the params offset of list i."""
        args = list(args) + [0] * (10 - len(args))
        assert len(args) == 10
        self.ins.append([code, tile] + [a if isinstance(a, tuple) else int(a) for a in args])
        return self

    def dimc_load(self, slot, src_buf, src_off, row0, nrows, fmt, tile=-1):
        return self._add(T.P_DIMC_LOAD, tile, slot, src_buf, src_off, row0, nrows, fmt_code(fmt))

    def dimc_mvm(self, engine, slot, x_buf, x_off, y_buf, y_off, nvec, k, fmt, acc=0, tile=-1):
        return self._add(T.P_DIMC_MVM, tile, engine, slot, x_buf, x_off, y_buf, y_off, nvec, k,
                         fmt_code(fmt), acc)

    def vec(self, op, *args, tile=-1):
        return self._add(T.P_VEC, tile, VOPS[op], *args)

    def vec_rows(self, op, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, n, row_len, tile=-1):
        """vec_add_rows (op "add") or vec_mul_rows ("mul")."""
        return self._add(T.P_VEC_ROWS, tile, VOPS[op], a_buf, a_off, b_buf, b_off, dst_buf,
                         dst_off, n, row_len)

    def vec_dot(self, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, rows_a, rows_b, row_len, acc=0,
                tile=-1):
        return self._add(T.P_VEC_DOT, tile, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, rows_a,
                         rows_b, row_len, acc)

    def vec_col_argmax(self, a_buf, a_off, b_buf, b_off, dst_buf, dst_off, n, row_len, tile=-1):
        return self._add(T.P_VEC_COL_ARGMAX, tile, a_buf, a_off, b_buf, b_off, dst_buf, dst_off,
                         n, row_len)

    def vec_convert_weights(self, src_buf, src_off, ld, lines, trans, dst_buf, dst_off, nrows,
                            ncols, fmt, tile=-1):
        return self._add(T.P_VEC_CONVERT_WEIGHTS, tile, src_buf, src_off, ld, lines, trans,
                         dst_buf, dst_off, nrows, ncols, fmt_code(fmt))

    def convert(self, src_buf, src_off, dst_buf, dst_off, n, row_len, fmt_to, fmt_from, tile=-1):
        return self.vec("convert", src_buf, src_off, dst_buf, dst_off, n, row_len,
                        fmt_code(fmt_to), fmt_code(fmt_from), tile=tile)

    def _ids(self, tiles):
        self.lists.append(list(tiles))
        return len(self.lists) - 1

    def send(self, dst, src_buf, src_off, dst_buf, dst_off, nbytes, tile=-1):
        """dst: a list of tile ids, or an int d meaning the one tile (tile + d) % n_tiles."""
        if isinstance(dst, int):
            return self._add(T.P_SEND, tile, 1, dst, 1, src_buf, src_off, dst_buf, dst_off, nbytes)
        return self._add(T.P_SEND, tile, 0, ("list", self._ids(dst)), len(dst), src_buf, src_off,
                         dst_buf, dst_off, nbytes)

    def dram_read(self, *a, tile=-1):
        return self._add(T.P_DRAM_READ, tile, *a)

    def dram_write(self, *a, tile=-1):
        return self._add(T.P_DRAM_WRITE, tile, *a)

    def host_read(self, *a, tile=-1):
        return self._add(T.P_HOST_READ, tile, *a)

    def barrier(self, group, tile=-1):
        """group: a list of tile ids, or an int d meaning {tile, (tile + d) % n_tiles}."""
        if isinstance(group, int):
            return self._add(T.P_BARRIER, tile, 1, group, 0)
        return self._add(T.P_BARRIER, tile, 0, ("list", self._ids(group)), len(group))

    def params(self):
        base = 1 + T.P_WIDTH * len(self.ins)
        offsets, at = [], base
        for lst in self.lists:
            offsets.append(at)
            at += len(lst)
        out = [len(self.ins)]
        for ins in self.ins:
            out += [offsets[a[1]] if isinstance(a, tuple) else a for a in ins]
        for lst in self.lists:
            out += lst
        return np.array(out, np.int64)


def f32(x):
    return np.asarray(x, np.float32)


def weights_bytes(rng, k, ncols, fmt, scale=1.0):
    """(float weights [k, ncols], their weights-layout bytes)."""
    w = (rng.standard_normal((k, ncols)) * scale).astype(np.float32)
    return w, layout.encode_weights(w, fmt)


def machine(backend="c", mode="functional", threads=None, **params):
    """A Machine of the tiny device (params override fields)."""
    return Machine(tiny_params(**params), mode=mode, backend=backend, threads=threads)


def assert_same_error(setup, build, cls, text, *, events=4):
    """The PROGRAM built by build(setup(m)) fails the same way on both twins in both modes: an
    exception of class `cls` naming kernel, tile and superstep and containing `text`, with the
    log and the superstep counter untouched."""
    import pytest
    errs = []
    for backend in ("c", "numba"):
        for mode in ("functional", "timing"):
            m = machine(backend, mode)
            b = setup(m)
            before = len(m.log)
            with pytest.raises(Exception) as ei:
                m.launch(T.PROGRAM, [0, 1], build(b).params(), events_per_tile=events)
            e = ei.value
            assert len(m.log) == before and m.step == 0
            assert type(e).__name__ == cls, (backend, mode, e)
            assert "kernel 'test_program', tile 0, superstep 0, " in str(e) and text in str(e), str(e)
            errs.append(str(e))
    assert len(set(errs)) == 1, errs


def state_bytes(m):
    """Everything a functional machine holds, as bytes, for exact comparison."""
    return dict(sram=m.state._sram.tobytes(), codes=m.state._codes.tobytes(), scales=m.state._scales.tobytes(),
                tscale=m.state._tscale.tobytes(), wfmt=m.state._wfmt.tobytes(), dram=m.state._dram.tobytes())


def log_bytes(m):
    log = m.log
    return log.events.tobytes(), log.peers.tobytes(), log.buffers.tobytes()


def scenario(m, rng_seed=0):
    """Two supersteps on every tile that use every intrinsic (both slots, W8A8 and W4A8,
    accumulate, every vector op, the row-broadcast ones and vec_dot, multicast, DRAM both ways, host
    reads, barriers). Returns the buffer ids by name."""
    rng = np.random.default_rng(rng_seed)
    nvec, k = 4, 64
    w0 = rng.standard_normal((k, 64)).astype(np.float32)
    w1 = rng.standard_normal((k, 128)).astype(np.float32)
    wb0, wb1 = layout.encode_weights(w0, "mxint8"), layout.encode_weights(w1, "mxint4")
    x = rng.standard_normal((N_TILES, nvec, k)).astype(np.float32)
    x[3, 1, 7] = np.nan
    b = {}
    if m.functional:
        b["h_w0"], b["h_w1"] = m.alloc_host("w0", wb0), m.alloc_host("w1", wb1)
        b["h_x"] = m.alloc_host("x", x)
    else:
        b["h_w0"] = m.alloc_host("w0", nbytes=wb0.size)
        b["h_w1"] = m.alloc_host("w1", nbytes=wb1.size)
        b["h_x"] = m.alloc_host("x", nbytes=x.nbytes)
    for name, size in [("w", 4608), ("x", 1024), ("xq", 512), ("y0", 1024), ("y1", 2048),
                       ("v", 1024), ("v2", 1024), ("r", 64), ("msg", 256), ("bf", 512), ("dot", 64)]:
        b[name] = m.alloc_sram(name, size)
    b["d_in"] = m.alloc_dram("d_in", 4096, channel=0)
    b["d_out"] = m.alloc_dram("d_out", N_TILES * 256, channel=1)
    if m.functional:
        m.write(b["d_in"], rng.standard_normal(1024).astype(np.float32))
        for t in range(N_TILES):
            m.write(b["v2"], rng.standard_normal(256).astype(np.float32), tile=t)
    p = Prog()
    p.host_read(b["h_w0"], 0, b["w"], 0, wb0.size).dimc_load(0, b["w"], 0, 0, k, "mxint8")
    for t in range(N_TILES):
        p.host_read(b["h_x"], t * 1024, b["x"], 0, 1024, tile=t)
    p.convert(b["x"], 0, b["xq"], 0, nvec * k, k, "mxint8", FP32)
    p.dimc_mvm(0, 0, b["xq"], 0, b["y0"], 0, nvec, k, "mxint8")
    p.host_read(b["h_w1"], 0, b["w"], 0, wb1.size)
    half = wb1.size // 2
    p.dimc_load(1, b["w"], 0, 0, 32, "mxint4").dimc_load(1, b["w"], half, 32, 32, "mxint4")
    p.dimc_mvm(0, 1, b["xq"], 0, b["y1"], 0, nvec, k, "mxint8")                 # W4A8
    p.dimc_mvm(0, 0, b["xq"], 0, b["y0"], 0, nvec, k, "mxint8", acc=1)
    p.vec("exp", b["y0"], 0, b["v"], 0, 256).vec("reciprocal", b["v"], 0, b["v"], 0, 256)
    p.vec("rsqrt", b["y1"], 0, b["v2"], 512, 128).vec("add", b["v"], 0, b["v2"], 0, b["v"], 0, 256)
    p.vec("mul", b["v"], 0, b["y0"], 0, b["v2"], 0, 256).vec("max", b["v2"], 0, b["y0"], 0, b["v"], 0, 256)
    p.vec("copy", b["y1"], 1024, b["v2"], 0, 200)
    p.vec("row_sum", b["y1"], 0, b["r"], 0, 512, 128).vec("row_max", b["y1"], 0, b["r"], 16, 512, 128)
    p.vec_rows("add", b["v2"], 0, b["r"], 0, b["v2"], 0, 256, 16)           # in place on a
    p.vec_rows("mul", b["y1"], 0, b["y0"], 0, b["v2"], 256, 128, 32)
    p.vec_dot(b["x"], 0, b["y0"], 0, b["dot"], 0, 4, 4, 64)                 # x . y0^T, 4 x 4
    p.vec_dot(b["x"], 0, b["x"], 0, b["dot"], 0, 4, 4, 64, acc=1)           # a = b, accumulate
    p.convert(b["y0"], 0, b["bf"], 0, 256, 64, "bf16", FP32)
    p.convert(b["bf"], 0, b["v2"], 0, 256, 64, FP32, "bf16")
    p.convert(b["y1"], 0, b["bf"], 0, 128, 32, "mxfp4_e2m1", FP32)
    p.send(1, b["v"], 0, b["msg"], 0, 256)
    p.send([0, 5, 9], b["r"], 0, b["msg"], 128, 32, tile=3)
    for t in range(N_TILES):
        p.dram_write(b["v"], 0, b["d_out"], t * 256, 256, tile=t)
    p.dram_read(b["d_in"], 512, b["v2"], 0, 512).barrier(1).barrier(list(range(N_TILES)))
    m.launch(T.PROGRAM, range(N_TILES), p.params(), events_per_tile=40)
    q = Prog()
    q.vec("copy", b["msg"], 0, b["v"], 0, 64)
    q.dram_read(b["d_out"], 0, b["v2"], 0, 1024, tile=2)
    q.send([1, 2, 3], b["v"], 0, b["msg"], 0, 16, tile=0)
    q.dimc_mvm(0, 1, b["xq"], 0, b["y1"], 0, 2, 64, "mxint8", acc=1)
    m.launch(T.PROGRAM, range(0, N_TILES, 2), q.params(), events_per_tile=8)
    return b
