"""The SPMD tile runtime (emulator/runtime/machine.py, state.py, superstep.py <-> csrc/runtime/superstep.c):
buffers and capacity, BSP supersteps, the log's order, bounds, threads, caching, host helpers."""
import os
from pathlib import Path

import numpy as np
import pytest

from chipemu.emulator import ChipemuError
from chipemu.emulator.numerics import layout
from chipemu.emulator.errors import BackendError, CapacityError, ConfigError, ShapeError
from chipemu.emulator.events import OPS
from chipemu.emulator.reference import dimc as ref
from chipemu.emulator.reference import vecmath as ref_vm
from chipemu.emulator.runtime.machine import Machine, TileKernel
from testkernels import tile as T
from runtime_helpers import (FP32, N_TILES, Prog, log_bytes, machine, scenario, state_bytes,
                             tiny_params)

BACKENDS = ["c", "numba"]


# ---- configuration and buffers ----

def test_params_dict_and_device_objects():
    m = Machine(tiny_params())
    assert (m.n_tiles, m.rows, m.cols, m.cols_max, m.blocks_max, m.n_channels) == (16, 64, 64, 128, 2, 4)

    class Dev:
        def engine_params(self):
            return tiny_params(n_chiplets=1)
    assert Machine(Dev()).n_tiles == 4
    try:
        from chipemu.emulator.device.config import Device
        dev = Device.preset("tiny")
    except Exception as exc:                      # the device model is another issue's work
        pytest.skip(f"Device.preset('tiny') unavailable: {exc}")
    assert Machine(dev).n_tiles == 16


@pytest.mark.parametrize("bad,match", [
    (dict(dimc_rows=0), "params\\['dimc_rows'\\]=0 is out of range; allowed: 1 <= dimc_rows"),
    (dict(dimc_cell_bits=6), "dimc_cell_bits=6 must be a multiple of 4"),
    (dict(dimc_engines=300), "dimc_engines'\\]=300 is out of range; allowed: 1 <= dimc_engines <= 255"),
    (dict(sram_capacity_bytes=1.5), "sram_capacity_bytes"),
])
def test_bad_params(bad, match):
    with pytest.raises(ConfigError, match=match):
        Machine(tiny_params(**bad))


def test_bad_machine_arguments():
    p = tiny_params()
    del p["dimc_slots"]
    with pytest.raises(ConfigError, match="params lacks dimc_slots"):
        Machine(p)
    with pytest.raises(ConfigError, match="mode='fast'"):
        Machine(tiny_params(), mode="fast")
    with pytest.raises(BackendError, match="backend='numpy'"):
        Machine(tiny_params(), backend="numpy")
    with pytest.raises(ConfigError, match="params must be a dict"):
        Machine([1, 2])


def test_sram_allocation_and_capacity_error():
    m = machine("c")
    a, b = m.alloc_sram("a", 100), m.alloc_sram("b", 1000)
    t = m.buffer_table()
    assert (t[a]["base"], t[b]["base"], t[b]["size"]) == (0, 128, 1000)
    assert m.sram_bytes_used == 1128 and m.state._sram.shape[0] == N_TILES
    with pytest.raises(CapacityError) as ei:
        m.alloc_sram("big", 65000)
    msg = str(ei.value)
    for part in ("'big'", "65000 bytes", "1152", "tiles 0..15", "sram_capacity_bytes=65536"):
        assert part in msg, msg
    assert len(m.buffers) == 2 and m.sram_bytes_used == 1128          # nothing allocated
    m.alloc_sram("rest", 65536 - 1152)                                # exactly fits
    with pytest.raises(ShapeError, match="nbytes=0"):
        m.alloc_sram("zero", 0)


def test_dram_and_host_buffers():
    m = machine("c")
    d0, d1 = m.alloc_dram("d0", 10, channel=3), m.alloc_dram("d1", 10, channel=3)
    t = m.buffer_table()
    assert (t[d0]["where"], t[d0]["base"], t[d1]["base"]) == (3, 0, 64)
    with pytest.raises(ShapeError, match=r"channel=4 is out of range; allowed: an integer in \[0, 3\]"):
        m.alloc_dram("x", 8, channel=4)
    h = m.alloc_host("h", np.arange(5, dtype=np.int16))
    assert m.read(h).view(np.int16).tolist() == [0, 1, 2, 3, 4]
    m.write(d1, b"abc", offset=7)
    assert bytes(m.read(d1, offset=7)) == b"abc"
    with pytest.raises(ShapeError, match="pass tile=None"):
        m.read(d1, tile=0)
    s = m.alloc_sram("s", 16)
    with pytest.raises(ShapeError, match="pass tile="):
        m.write(s, b"x")
    with pytest.raises(ShapeError, match="outside buffer 's'"):
        m.write(s, np.zeros(5, np.float32), tile=1)
    m.write(s, np.ones(4, np.float32), tile=[1, 2])
    assert m.read(s, tile=2, dtype=np.float32).tolist() == [1, 1, 1, 1]
    assert m.read(s, tile=3, dtype=np.float32).tolist() == [0, 0, 0, 0]


def test_timing_mode_holds_no_data():
    m = machine("c", "timing")
    s = m.alloc_sram("s", 60000)
    h = m.alloc_host("h", nbytes=1 << 20)
    m.alloc_dram("d", 1 << 20)
    assert m.state._sram.size == 0 and m.state._host.size == 0 and m.state._dram.size == 0
    with pytest.raises(ChipemuError, match="timing-mode machine holds no data"):
        m.read(s, tile=0)
    with pytest.raises(ChipemuError, match="holds no data"):
        m.corrupt_weight(0, 0, 0, 0, 1)
    assert m.buffer_table()[h]["size"] == 1 << 20
    with pytest.raises(ShapeError, match="alloc_host needs data"):
        machine("c").alloc_host("h")


# ---- launching ----

@pytest.mark.parametrize("backend", BACKENDS)
def test_bsp_send_and_dram_write_are_visible_next_superstep(backend):
    m = machine(backend)
    src, box, early, late = (m.alloc_sram(n, 16) for n in ("src", "box", "early", "late"))
    d = m.alloc_dram("d", 16)
    m.write(src, np.full(4, 5, np.float32), tile=0)
    p = Prog().send([1], src, 0, box, 0, 16, tile=0).dram_write(src, 0, d, 0, 16, tile=0)
    p.vec("copy", box, 0, early, 0, 4, tile=1).dram_read(d, 0, late, 0, 16, tile=1)
    m.launch(T.PROGRAM, [0, 1], p.params(), events_per_tile=4)          # tile 0 runs before tile 1
    assert m.read(early, tile=1, dtype=np.float32).tolist() == [0] * 4   # not visible in step 0
    assert m.read(late, tile=1, dtype=np.float32).tolist() == [0] * 4
    assert m.read(box, tile=1, dtype=np.float32).tolist() == [5] * 4     # delivered at its end
    q = Prog().vec("copy", box, 0, early, 0, 4, tile=1).dram_read(d, 0, late, 0, 16, tile=1)
    m.launch(T.PROGRAM, [1], q.params(), events_per_tile=2)
    assert m.read(early, tile=1, dtype=np.float32).tolist() == [5] * 4   # visible in step 1
    assert m.read(late, tile=1, dtype=np.float32).tolist() == [5] * 4
    # a send reads its source when issued: writing the source later in the step changes nothing
    r = Prog().send([2], src, 0, box, 0, 16, tile=0).vec("copy", late, 0, src, 0, 4, tile=0)
    m.write(late, np.full(4, 9, np.float32), tile=0)
    m.launch(T.PROGRAM, [0], r.params(), events_per_tile=2)
    assert m.read(box, tile=2, dtype=np.float32).tolist() == [5] * 4


@pytest.mark.parametrize("backend", BACKENDS)
def test_log_order_steps_and_peers(backend):
    m = machine(backend)
    s = m.alloc_sram("s", 64)
    p = Prog().barrier(3).send(1, s, 0, s, 32, 8).vec("copy", s, 0, s, 16, 2)
    m.launch(T.PROGRAM, [9, 2, 5], p.params(), events_per_tile=3)       # unsorted: run ascending
    m.launch(T.PROGRAM, [0, 15], p.params(), events_per_tile=3)
    ev, peers = m.log.events, m.log.peers
    assert list(zip(ev["step"], ev["tile"])) == [(0, 2)] * 3 + [(0, 5)] * 3 + [(0, 9)] * 3 + \
        [(1, 0)] * 3 + [(1, 15)] * 3
    assert list(ev["op"][:3]) == [OPS["barrier"], OPS["send"], OPS["vec"]]
    got = [sorted(peers[e["peer_first"]:e["peer_first"] + e["peer_count"]].tolist()) for e in ev]
    assert got[:6] == [[2, 5], [3], [], [5, 8], [6], []]
    assert got[12:15] == [[2, 15], [0], []]
    assert m.step == 2 and len(peers) == 15


@pytest.mark.parametrize("backend", BACKENDS)
def test_event_bound_error_leaves_the_log_intact(backend):
    m = machine(backend)
    s = m.alloc_sram("s", 64)
    m.launch(T.PROGRAM, [0], Prog().vec("copy", s, 0, s, 32, 1).params(), events_per_tile=1)
    before = log_bytes(m)
    p = Prog().vec("copy", s, 0, s, 32, 1).send(1, s, 0, s, 0, 4).vec("copy", s, 0, s, 32, 1, tile=6)
    with pytest.raises(CapacityError) as ei:
        m.launch(T.PROGRAM, range(16), p.params(), events_per_tile=2)
    assert str(ei.value).startswith("kernel 'test_program', tile 6, superstep 1, vec_copy: issued "
                                    "more than events_per_tile=2 events")
    assert log_bytes(m) == before and m.step == 1
    m.launch(T.PROGRAM, range(16), p.params(), events_per_tile=3)
    assert len(m.log) == 1 + 16 * 2 + 1 and m.step == 2


def test_launch_argument_errors():
    m = machine("c")
    for tiles, match in [([], "non-empty"), ([3, 3], "tile 3 appears twice"),
                         ([16], "tile 16 is out of range"),
                         ([-1], "tile -1"), ("ab", "integer tile ids")]:
        with pytest.raises(ShapeError, match=match):
            m.launch(T.EMPTY, tiles, events_per_tile=0)
    with pytest.raises(ShapeError, match="params must be integers"):
        m.launch(T.EMPTY, [0], ["x"], events_per_tile=0)
    with pytest.raises(ShapeError, match="events_per_tile=-1"):
        m.launch(T.EMPTY, [0], events_per_tile=-1)
    with pytest.raises(ShapeError, match="kernel must be a TileKernel"):
        m.launch(T.empty, [0], events_per_tile=0)
    with pytest.raises(BackendError, match="no C twin"):
        m.launch(TileKernel("x", numba=T.empty), [0], events_per_tile=0)
    with pytest.raises(BackendError, match="has no function 'chipemu_nope'"):
        m.launch(TileKernel("x", c="chipemu_nope"), [0], events_per_tile=0)
    with pytest.raises(BackendError, match="no Numba twin"):
        machine("numba").launch(TileKernel("x", c="chipemu_kernel_test_empty"), [0], events_per_tile=0)


def _scenario_with_threads(backend, threads):
    if backend == "numba":
        import numba
        old = numba.get_num_threads()
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        m = machine(backend, threads=threads)
        scenario(m)
        return state_bytes(m), log_bytes(m)
    finally:
        if backend == "numba":
            numba.set_num_threads(old)


@pytest.mark.parametrize("backend", BACKENDS)
def test_thread_count_changes_nothing(backend):
    one = _scenario_with_threads(backend, 1)
    assert _scenario_with_threads(backend, 2) == one
    assert _scenario_with_threads(backend, 5) == one


def test_numba_launcher_is_compiled_once_and_cached():
    from chipemu.emulator.runtime import superstep
    m = machine("numba")
    m.launch(T.EMPTY, [0, 1], events_per_tile=0)
    s = m.alloc_sram("s", 64)
    m.launch(T.PROGRAM, [0], Prog().vec("copy", s, 0, s, 32, 1).params(), events_per_tile=1)
    assert len(superstep.launch_tiles.signatures) == 1             # one launcher for every kernel
    assert type(superstep.launch_tiles._cache).__name__ == "_ChipemuCache"
    assert type(T.program._cache).__name__ == "_ChipemuCache"
    stamp = superstep.launch_tiles._cache._impl.locator.get_source_stamp()
    assert any(name == os.path.join("intrinsics", "dma.py") for name, *_ in stamp[1])  # kernels go stale with intrinsics


# ---- DIMC host helpers, corrupt_weight, the GEMV kernel ----

def _two_slot_setup(m, rng):
    w0 = rng.standard_normal((64, 64)).astype(np.float32)
    w1 = rng.standard_normal((64, 128)).astype(np.float32)
    b0, b1 = layout.encode_weights(w0, "mxint8"), layout.encode_weights(w1, "mxint4")
    x = rng.standard_normal((3, 64)).astype(np.float32)
    hs = [m.alloc_host(n, v) for n, v in (("w0", b0), ("w1", b1), ("x", x))]
    w = m.alloc_sram("w", max(b0.size, b1.size))
    xs, xq = m.alloc_sram("x", x.nbytes), m.alloc_sram("xq", 3 * 66)
    y0, y1 = m.alloc_sram("y0", 3 * 64 * 4), m.alloc_sram("y1", 3 * 128 * 4)
    p = Prog().host_read(hs[0], 0, w, 0, b0.size).dimc_load(0, w, 0, 0, 64, "mxint8")
    p.host_read(hs[1], 0, w, 0, b1.size).dimc_load(1, w, 0, 0, 64, "mxint4")
    p.host_read(hs[2], 0, xs, 0, x.nbytes).convert(xs, 0, xq, 0, 192, 64, "mxint8", FP32)
    m.launch(T.PROGRAM, range(16), p.params(), events_per_tile=6)
    run = Prog().dimc_mvm(0, 0, xq, 0, y0, 0, 3, 64, "mxint8").dimc_mvm(0, 1, xq, 0, y1, 0, 3, 64, "mxint8")
    return (b0, b1), xq, (y0, y1), run


@pytest.mark.parametrize("backend", BACKENDS)
def test_corrupting_one_weight_changes_exactly_its_block_of_outputs(backend):
    m = machine(backend)
    (b0, b1), xq, (y0, y1), run = _two_slot_setup(m, np.random.default_rng(4))
    st = m.dimc_state(5, 1)
    want_codes, want_scales = layout.unpack_weights(b1, "mxint4", 64, 128)
    assert st["fmt"] == "mxint4" and np.array_equal(st["codes"], want_codes)
    assert np.array_equal(st["scales"], want_scales)
    m.launch(T.PROGRAM, range(16), run.params(), events_per_tile=2)
    before = {(t, y): m.read(y, tile=t, dtype=np.float32).copy() for t in range(16) for y in (y0, y1)}
    row, col = 37, 101
    old = int(st["codes"][row, col])
    m.corrupt_weight(5, 1, row, col, 7 if old != 7 else -7)
    m.launch(T.PROGRAM, range(16), run.params(), events_per_tile=2)
    for (t, y), was in before.items():
        now = m.read(y, tile=t, dtype=np.float32)
        if (t, y) != (5, y1):
            assert now.tobytes() == was.tobytes()
            continue
        changed = np.argwhere(now.reshape(3, 128) != was.reshape(3, 128))
        xcodes, _ = layout.unpack_rows(m.read(xq, tile=5), "mxint8", 3, 64)
        assert set(changed[:, 1].tolist()) == {col}                    # only column col ...
        assert changed[:, 0].tolist() == np.flatnonzero(xcodes[:, row]).tolist()   # ... where x_row != 0
        assert len(changed) >= 1
    with pytest.raises(ShapeError, match=r"code=8 is out of range; allowed: an integer in \[-8, 7\] \(codes of mxint4\)"):
        m.corrupt_weight(5, 1, row, col, 8)
    with pytest.raises(ChipemuError, match="holds no weights"):
        machine(backend).corrupt_weight(0, 0, 0, 0, 1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_new_format_reformats_the_slot(backend):
    m = machine(backend)
    _two_slot_setup(m, np.random.default_rng(1))
    w8 = layout.encode_weights(np.ones((32, 64), np.float32), "int8")
    h = m.alloc_host("w8", w8)
    s = m.alloc_sram("w8", w8.size)
    p = Prog().host_read(h, 0, s, 0, w8.size).dimc_load(0, s, 0, 0, 32, "int8")
    m.launch(T.PROGRAM, [2], p.params(), events_per_tile=2)
    st = m.dimc_state(2, 0)
    assert st["fmt"] == "int8" and (st["codes"][:32] == 127).all() and (st["codes"][32:] == 0).all()
    assert st["scales"] == np.float32(1 / 127)
    assert m.dimc_state(3, 0)["fmt"] == "mxint8" and m.dimc_state(2, 1)["fmt"] == "mxint4"


@pytest.mark.parametrize("backend", BACKENDS)
def test_gemv_kernel_end_to_end(backend):
    rng = np.random.default_rng(9)
    k, nvec, fw, fa = 64, 2, "mxint4", "mxint8"
    w = rng.standard_normal((k, 128)).astype(np.float32) * np.float32(0.2)
    x = rng.standard_normal((N_TILES, nvec, k)).astype(np.float32)
    wb = layout.encode_weights(w, fw)
    m = machine(backend)
    hw, hx = m.alloc_host("w", wb), m.alloc_host("x", x)
    xq_bytes = layout.row_bytes(fa, k) * nvec
    bufs = [m.alloc_sram("w", wb.size), m.alloc_sram("x", nvec * k * 4), m.alloc_sram("xq", xq_bytes),
            m.alloc_sram("y", nvec * 128 * 4)]
    out = m.alloc_dram("out", N_TILES * nvec * 128 * 4, channel=1)
    params = [hw, hx, *bufs, out, k, 5, 4, nvec, wb.size, nvec * k * 4, nvec * 128 * 4, nvec * 128]
    m.launch(T.GEMV, range(N_TILES), params, events_per_tile=7)
    y = m.read(out, dtype=np.float32).reshape(N_TILES, nvec, 128)
    for t in (0, 7, 15):
        xq = layout.encode_rows(x[t], fa, backend="numpy")
        want = ref_vm.exp(ref.mvm_bytes(xq, fa, wb, fw, nvec, k, 128))
        assert y[t].tobytes() == want.tobytes()
    assert m.log.op_counts() == {"host_read": 32, "dimc_load": 16, "vec": 32, "dimc_mvm": 16,
                                 "dram_write": 16}


def test_numba_launcher_and_kernels_load_from_the_cache_in_a_new_process():
    """A launcher taking a dispatcher argument would be recompiled in every process; ours (and
    the kernels) must come from Numba's cache the second time a process runs them, and the cache
    lives where _jit puts it: in $NUMBA_CACHE_DIR when set (CI sets it), else the per-user one."""
    import subprocess
    import sys
    code = (
        "import numpy as np\n"
        "from chipemu.emulator.runtime import superstep\n"
        "from chipemu.emulator.runtime import Machine\n"
        "from testkernels import tile as T\n"
        "import runtime_helpers as H\n"
        "m = Machine(H.tiny_params(), backend='numba')\n"
        "m.launch(T.EMPTY, range(16), events_per_tile=0)\n"
        "print(sum(superstep.launch_tiles.stats.cache_misses.values()),"
        " sum(superstep.launch_tiles.stats.cache_hits.values()),"
        " sum(T.empty.stats.cache_misses.values()), sum(T.empty.stats.cache_hits.values()))\n")
    here = str(Path(__file__).resolve().parent)
    env = dict(os.environ, PYTHONPATH=here + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = None
    for _ in range(2):                       # the first run fills the cache
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                             timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ["0", "1", "0", "1"], out.stdout
    from chipemu.emulator._jit import cache_dir
    where = Path(cache_dir())
    names = [p.name for p in where.rglob("*.nbi")]
    assert any(n.startswith("superstep.launch_tiles") for n in names), (where, names)


def test_a_host_allocation_that_fails_is_a_named_capacity_error():
    from chipemu.emulator.runtime import state
    with pytest.raises(CapacityError, match=r"the event log: the host could not allocate "
                                            r"1,000,000,000,000,000 bytes"):
        state.zeros(10**15, np.uint8, "the event log")


def _child_matmul(q):
    from chipemu.kernels import matmul
    a = np.ones((64, 256), np.float32)
    q.put(matmul(a, a.T.copy(), device="tiny").cycles)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_runs_threaded_work_after_the_parent_did(monkeypatch):
    # the parent's thread pools have no threads in a child; without the at-fork reset the
    # child's first threaded launch would wait forever
    import multiprocessing as mp

    from chipemu.emulator import native
    from chipemu.emulator.runtime import launch
    from chipemu.kernels import matmul
    monkeypatch.setenv("CHIPEMU_NUM_THREADS", "2")
    a = np.ones((64, 256), np.float32)
    want = matmul(a, a.T.copy(), device="tiny").cycles
    assert launch._pool is not None or native._pool is not None      # the parent made one
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child_matmul, args=(q,))
    p.start()
    p.join(60)
    if p.is_alive():
        p.kill()
        pytest.fail("the forked child hung on the parent's thread pool")
    assert p.exitcode == 0 and q.get(timeout=5) == want
