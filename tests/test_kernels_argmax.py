"""chipemu.kernels.argmax: both twins equal the NumPy reference (which replays the plan's order)
and np.argmax bit for bit on tiny and corsair, follow the documented rule for ties, signed zeros,
infinities and NaN, give one event log in both backends and in timing mode, pick across tiles
with real sends (every non-root member's maxima and ids to the root, one column argmax there),
refuse bad input before any work, and are registered."""
import numpy as np
import pytest
from click.testing import CliRunner

from chipemu.cli import main
from chipemu.emulator import Device
from chipemu.emulator.errors import CapacityError, ConfigError, ShapeError
from chipemu.emulator.events import FLAG_ARGMAX, OPS, VOPS
from chipemu.kernels import argmax
from chipemu.kernels.argmax.api import OP, events_of
from chipemu.kernels.argmax.plan import plan_argmax
from chipemu.kernels.argmax.ref import argmax_exact, argmax_reference

TINY, CORSAIR = Device.preset("tiny"), Device.preset("corsair")


def _data(rows, vocab, seed=0):
    return np.random.default_rng(seed).standard_normal((rows, vocab), dtype=np.float32)


@pytest.mark.parametrize("backend", ["c", "numba"])
@pytest.mark.parametrize("dev,rows,vocab", [(TINY, 1, 1), (TINY, 1, 37), (TINY, 5, 257),
                                            (TINY, 16, 4096), (CORSAIR, 1, 128256),
                                            (CORSAIR, 16, 32000), (CORSAIR, 3, 4099)])
def test_twins_equal_reference_and_np_argmax(backend, dev, rows, vocab):
    x = _data(rows, vocab)
    r = argmax(x, device=dev, backend=backend)
    assert r.output.dtype == np.int64 and r.output.shape == (rows,)
    assert np.array_equal(r.output, argmax_reference(x, plan_argmax(rows, vocab, dev)))
    assert np.array_equal(r.output, argmax_exact(x))


def _specials(vocab):
    """Rows whose answers the rule fixes: x [8, vocab] and the expected ids."""
    last, mid = vocab - 1, vocab // 2
    x = np.full((8, vocab), -5.0, np.float32)
    x[0, [mid, last]] = 7.0                        # a tie across tiles: the first
    x[1, [3, 4]] = 7.0                             # a tie inside a tile
    x[2, 3], x[2, mid] = -0.0, 0.0                 # -0 == +0 (the root compares -0 with +0)
    x[3] = -np.inf                                 # only -inf: the first
    x[4, last], x[4, 2] = np.inf, 3e38             # +inf beats every number
    x[5, [mid, last]], x[5, 1] = np.nan, np.inf    # the first NaN, over +inf
    x[6] = np.nan                                  # only NaN: the first
    x[7], x[7, last] = -1e30, -1e-40               # a negative subnormal maximum
    want = np.array([mid, 3, 3, 0, last, mid, 0, last])
    return x, want


@pytest.mark.parametrize("dev,vocab", [(TINY, 300), (CORSAIR, 128256)])
def test_special_values_follow_the_documented_rule(dev, vocab):
    x, want = _specials(vocab)
    assert np.array_equal(argmax_exact(x), want)
    assert np.array_equal(argmax_reference(x, plan_argmax(len(x), vocab, dev)), want)
    for backend in ("c", "numba"):
        assert np.array_equal(argmax(x, device=dev, backend=backend).output, want)


def test_result_does_not_depend_on_the_split():
    x = np.round(_data(8, 4096, seed=4) * 2) / 2          # many ties
    x[3, ::7] = np.nan
    a = argmax_reference(x, plan_argmax(8, 4096, CORSAIR))      # 64 tiles
    b = argmax_reference(x, plan_argmax(8, 4096, TINY))         # 4 tiles
    assert np.array_equal(a, b) and np.array_equal(a, argmax_exact(x))


def test_backends_and_modes_give_one_log_and_one_cost():
    x = _data(16, 5000)
    c = argmax(x, device=CORSAIR, backend="c")
    nb = argmax(x, device=CORSAIR, backend="numba")
    t = argmax((16, 5000), device=CORSAIR, mode="timing")
    assert c.events.equals(nb.events) and c.events.equals(t.events)
    assert c.cycles == nb.cycles == t.cycles and c.energy_fj == nb.energy_fj == t.energy_fj
    assert t.output is None and len(c.events) == events_of(plan_argmax(16, 5000, CORSAIR))


@pytest.mark.parametrize("dev,rows,vocab", [(TINY, 3, 100), (CORSAIR, 16, 128256)])
def test_the_pick_is_sends_to_the_root_and_one_column_argmax(dev, rows, vocab):
    r = argmax((rows, vocab), device=dev, mode="timing")
    plan = plan_argmax(rows, vocab, dev)
    ev, peers = r.events.events, r.events.peers
    sends = ev[ev["op"] == OPS["send"]]
    assert (sends["step"] == 1).all() and set(sends["a"].tolist()) == {rows * 4}
    assert sorted(sends["tile"].tolist()) == sorted(2 * list(range(1, plan.tiles)))
    assert all(peers[e["peer_first"]:e["peer_first"] + e["peer_count"]].tolist() == [0]
               for e in sends)
    pick = ev[ev["step"] == 2]
    assert len(pick) == 1 and pick[0]["tile"] == 0 and pick[0]["c"] == VOPS["row_max"]
    assert (pick[0]["a"], pick[0]["b"], pick[0]["flags"]) == (plan.tiles * rows, rows,
                                                              FLAG_ARGMAX)
    local = ev[(ev["step"] == 1) & (ev["op"] == OPS["vec"])]
    assert (local["flags"] == FLAG_ARGMAX).sum() == plan.tiles * rows      # one call a row
    assert (local["flags"] == 0).sum() == plan.tiles                       # one row max a tile


def test_plan_by_hand():
    p = plan_argmax(3, 100, TINY)        # 16 lanes: 7 blocks over the 4 tiles of a chiplet
    assert (p.tiles, p.root, p.block, p.cols_per_tile) == (4, 0, 16, 32)
    assert [p.tile_cols(t) for t in range(4)] == [(0, 32), (32, 32), (64, 32), (96, 4)]
    q = plan_argmax(16, 128256, CORSAIR)  # 2004 blocks of 64, 256 tiles: 212 take 8, 44 take 7
    assert (q.tiles, q.cols_per_tile) == (256, 512)
    assert q.tile_cols(211) == (211 * 512, 512) and q.tile_cols(255) == (128256 - 448, 448)
    assert plan_argmax(2, 40, CORSAIR).tiles == 1
    r = argmax((3, 100), device=TINY, mode="timing")
    assert r.phases["load"]["steps"] == [0] and r.phases["compute"]["steps"] == [1, 2]
    assert r.phases["local"]["steps"] == [1] and r.phases["pick"]["steps"] == [2]
    assert r.events.op_counts() == {"vec": 4 * (1 + 3) + 1, "send": 2 * 3, "host_read": 8}


def test_layer_op_convention():
    plan = plan_argmax(4, 100, TINY)
    assert (OP.name, OP.inputs, OP.output) == ("argmax", ("x",), "y")
    consts = OP.constants(plan)
    assert list(consts) == ["ids"] and sorted(consts["ids"]) == list(range(plan.tiles))
    for t, a in consts["ids"].items():              # int32 ids carried in float32 arrays' bytes
        c0, n = plan.tile_cols(t)
        assert a.dtype == np.float32 and a.view(np.int32).tolist() == list(range(c0, c0 + n))
    assert set(consts) <= set(plan.sram) and plan.sram["y"] == 4 * 4


def test_bad_input_is_rejected_before_work():
    x = _data(4, 8)
    with pytest.raises(ShapeError, match="x must be \\[rows, vocab\\]"):
        argmax(x[0], device=TINY)
    with pytest.raises(ShapeError, match="dtype"):
        argmax(x.astype(np.int32), device=TINY)
    with pytest.raises(ShapeError, match="shape"):
        argmax((4, 8), device=TINY)                          # shapes need timing mode
    with pytest.raises(ConfigError, match="mode"):
        argmax(x, device=TINY, mode="fast")
    with pytest.raises(ConfigError, match="positional"):
        argmax(x, TINY)
    with pytest.raises(CapacityError, match="rows of 128256 columns fit"):
        argmax((100000, 128256), device=TINY, mode="timing")
    with pytest.raises(ShapeError, match="vocab=0"):
        plan_argmax(4, 0, TINY)
    with pytest.raises(ShapeError, match="int32"):
        plan_argmax(1, 2 ** 31, TINY)


def test_registered_command_runs_from_the_cli():
    out = CliRunner().invoke(main, ["run", "argmax", "--preset", "tiny", "--rows", "5",
                                    "--vocab", "1000"])
    assert out.exit_code == 0, out.output
    assert "equal_to_np_argmax" in out.output and "argmax on tiny" in out.output
