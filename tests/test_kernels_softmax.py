"""chipemu.kernels.softmax: both twins equal the NumPy reference (which replays the plan's order)
bit for bit on tiny and corsair, stay within a derived bound of a float64 softmax, follow the
documented rules for -inf, +inf and NaN, give one event log in both backends and in timing mode,
reduce across tiles with real sends (maxima and sums to the root, two multicasts back), refuse
bad input before any work, and are registered."""
import numpy as np
import pytest
from click.testing import CliRunner

from chipemu.cli import main
from chipemu.emulator import Device
from chipemu.emulator.errors import CapacityError, ConfigError, ShapeError
from chipemu.emulator.events import OPS, VOPS
from chipemu.kernels import softmax
from chipemu.kernels.softmax import data as D
from chipemu.kernels.softmax.api import OP, events_of
from chipemu.kernels.softmax.plan import plan_softmax
from chipemu.kernels.softmax.ref import softmax_float64, softmax_reference, vmax

TINY, CORSAIR = Device.preset("tiny"), Device.preset("corsair")
U = 2.0 ** -24                      # float32 unit roundoff


def _data(rows, cols, seed=0, scale=4.0):
    rng = np.random.default_rng(seed)
    return (scale * rng.standard_normal((rows, cols))).astype(np.float32)


def _bits(a):
    return np.ascontiguousarray(a, np.float32).view(np.uint32)


@pytest.mark.parametrize("backend", ["c", "numba"])
@pytest.mark.parametrize("dev,rows,cols", [(TINY, 1, 1), (TINY, 1, 37), (TINY, 5, 257),
                                           (TINY, 16, 4096), (CORSAIR, 1, 4096),
                                           (CORSAIR, 16, 4096), (CORSAIR, 3, 4099),
                                           (CORSAIR, 16, 1000)])
def test_twins_equal_reference_bit_for_bit(backend, dev, rows, cols):
    x = _data(rows, cols)
    r = softmax(x, device=dev, backend=backend)
    ref = softmax_reference(x, plan_softmax(rows, cols, dev))
    assert np.array_equal(_bits(r.output), _bits(ref))


def test_order_is_the_plans_not_a_plain_sum():
    # the reference is only a replay if the cut points of the sums matter
    x = _data(4, 4096, seed=2)
    on_corsair = softmax_reference(x, plan_softmax(4, 4096, CORSAIR))      # 64 tiles
    on_tiny = softmax_reference(x, plan_softmax(4, 4096, TINY))            # 4 tiles
    assert not np.array_equal(_bits(on_corsair), _bits(on_tiny))
    assert np.array_equal(_bits(softmax(x, device=CORSAIR).output), _bits(on_corsair))


def test_special_values_follow_the_documented_rules():
    x = _data(8, 100)
    x[0, [3, 40, 99]] = -np.inf                  # -inf entries: probability +0
    x[1] = -np.inf                               # only -inf: -inf + inf = NaN, the row is NaN
    x[2, 50] = np.inf                            # +inf: inf - inf = NaN, the row is NaN
    x[3, 7] = np.nan                             # NaN: the maximum is NaN, the row is NaN
    x[4] = 0.0
    x[4, ::2] = -0.0                             # signed zeros: uniform
    x[5, :2] = [3e38, -3e38]                     # x - max overflows to -inf: exp is +0
    x[6] = 1e-40                                 # subnormals: exp is exactly 1, uniform
    x[7, 10] = 200.0                             # one dominant entry
    for dev in (TINY, CORSAIR):
        ref = softmax_reference(x, plan_softmax(8, 100, dev))
        for backend in ("c", "numba"):
            y = softmax(x, device=dev, backend=backend).output
            assert np.array_equal(_bits(y), _bits(ref))
    assert (y[0, [3, 40, 99]] == 0).all() and np.isfinite(y[0]).all()
    assert (_bits(y[1:4]) == 0x7FC00000).all()                     # canonical NaN rows
    assert (y[4] == y[4, 0]).all() and (y[6] == y[6, 0]).all()
    assert abs(y[4, 0] * 100 - 1) < 1e-5
    assert y[5, 0] == 1 and y[5, 1] == 0
    assert y[7, 10] == 1 and (np.delete(y[7], 10) == 0).all()


def test_max_rule_is_the_vector_units():
    a = np.array([1.0, np.nan, -0.0, 0.0, -np.inf], np.float32)
    b = np.array([np.nan, 2.0, 0.0, -0.0, -np.inf], np.float32)
    m = vmax(a, b)
    assert np.isnan(m[:2]).all() and (_bits(m[:2]) == 0x7FC00000).all()
    assert _bits(m[2:4]).tolist() == [0, 0] and m[4] == -np.inf


@pytest.mark.parametrize("dev,rows,cols,scale", [(TINY, 16, 100, 4.0), (CORSAIR, 16, 4096, 4.0),
                                                 (CORSAIR, 8, 999, 10.0)])
def test_within_derived_bound_of_float64(dev, rows, cols, scale):
    # relative error of y_i, first order in u: x - max rounds (|d_i| u absolute in exp's
    # argument, so |d_i| u relative), exp <= 1.03 ulp (<= 2.05 u); the sum of positive terms
    # adds at most cols_per_tile + T - 2 roundings and inherits its terms' errors (at most
    # max|d| u + 2.05 u); reciprocal <= 1.15 ulp (2.29 u); the final multiply 1 u. Rounded up:
    # (|d_i| + max_j |d_j| + cols_per_tile + T + 6) u, while exp's results are normal floats
    plan = plan_softmax(rows, cols, dev)
    x = _data(rows, cols, seed=3, scale=scale)
    y = softmax(x, device=dev).output.astype(np.float64)
    exact = softmax_float64(x)
    d = np.abs(x.astype(np.float64) - x.max(axis=1, keepdims=True))
    bound = (d + d.max(axis=1, keepdims=True) + plan.cols_per_tile + plan.tiles + 6) * U
    ok = d < 87                                             # exp(-d) normal in float32
    err = np.abs(y - exact) / exact
    assert (err[ok] <= bound[ok]).all()
    assert err.max() > 0                                    # float32 did round somewhere
    assert np.allclose(y.sum(axis=1), 1, atol=(plan.cols_per_tile + plan.tiles + 8) * U)


def test_backends_and_modes_give_one_log_and_one_cost():
    x = _data(16, 1000)
    c = softmax(x, device=CORSAIR, backend="c")
    nb = softmax(x, device=CORSAIR, backend="numba")
    t = softmax((16, 1000), device=CORSAIR, mode="timing")
    assert c.events.equals(nb.events) and c.events.equals(t.events)
    assert c.cycles == nb.cycles == t.cycles and c.energy_fj == nb.energy_fj == t.energy_fj
    assert t.output is None and len(c.events) == events_of(plan_softmax(16, 1000, CORSAIR))


@pytest.mark.parametrize("dev,rows,cols", [(TINY, 3, 100), (CORSAIR, 16, 4096)])
def test_reductions_are_sends_to_the_root_and_multicasts_back(dev, rows, cols):
    r = softmax((rows, cols), device=dev, mode="timing")
    plan = plan_softmax(rows, cols, dev)
    ev, peers = r.events.events, r.events.peers
    sends = ev[ev["op"] == OPS["send"]]
    members = list(range(1, plan.tiles))
    for step in (1, 3):                                     # partial maxima, then partial sums
        up = sends[sends["step"] == step]
        assert sorted(up["tile"].tolist()) == members and set(up["a"].tolist()) == {rows * 4}
        assert all(peers[e["peer_first"]:e["peer_first"] + e["peer_count"]].tolist() == [0]
                   for e in up)
    for step, kind in ((2, "max"), (4, "add")):             # the root's combine and multicast
        back = sends[sends["step"] == step]
        assert len(back) == 1 and back[0]["tile"] == 0 and back[0]["a"] == rows * 4
        f, n = back[0]["peer_first"], back[0]["peer_count"]
        assert peers[f:f + n].tolist() == members
        combine = ev[(ev["step"] == step) & (ev["op"] == OPS["vec"]) & (ev["c"] == VOPS[kind])]
        assert len(combine) == plan.tiles - 1 and (combine["tile"] == 0).all()


def test_plan_by_hand():
    p = plan_softmax(3, 100, TINY)       # 16 lanes: 7 blocks over the 4 tiles of a chiplet
    assert (p.tiles, p.root, p.block, p.cols_per_tile) == (4, 0, 16, 32)
    assert [p.tile_cols(t) for t in range(4)] == [(0, 32), (32, 32), (64, 32), (96, 4)]
    q = plan_softmax(16, 4096, CORSAIR)  # 64 lanes: 64 blocks, one a tile
    assert (q.tiles, q.cols_per_tile) == (64, 64) and q.tile_cols(63) == (4032, 64)
    assert plan_softmax(2, 40, CORSAIR).tiles == 1
    assert plan_softmax(16, 4096, TINY).tiles == 8         # a second chiplet joins
    r = softmax((3, 100), device=TINY, mode="timing")
    assert r.phases["load"]["steps"] == [0] and r.phases["compute"]["steps"] == [1, 2, 3, 4, 5]
    assert r.phases["max"]["steps"] == [1, 2] and r.phases["sum"]["steps"] == [3, 4]
    assert r.phases["scale"]["steps"] == [5]
    # max 4 + 3 + 1 (negate); exp 3 x 4; sums 3 + 1 (reciprocal); scale 4
    assert r.events.op_counts() == {"vec": 8 + 12 + 4 + 4, "send": 3 + 1 + 3 + 1,
                                    "host_read": 5}
    one = softmax((2, 40), device=CORSAIR, mode="timing")  # one member: no send, no combine
    assert one.events.op_counts() == {"vec": 1 + 1 + 3 + 1 + 1, "host_read": 2}


def test_layer_op_convention():
    plan = plan_softmax(4, 100, TINY)
    assert (OP.name, OP.inputs, OP.output) == ("softmax", ("x",), "y")
    consts = OP.constants(plan)
    assert list(consts) == ["consts"] and list(consts["consts"]) == [plan.root]
    assert consts["consts"][0].tolist() == [-1.0] and consts["consts"][0].dtype == np.float32
    assert set(consts) <= set(plan.sram) and set(OP.inputs + (OP.output,)) <= set(plan.sram)
    # x's tile-ordered copy is each member's [rows, cols] block in turn
    x = _data(4, 100)
    xt = D.x_by_tile(x, plan)
    c0, n = plan.tile_cols(2)
    assert np.array_equal(xt[4 * c0:4 * (c0 + n)].reshape(4, n), x[:, c0:c0 + n])


def test_bad_input_is_rejected_before_work():
    x = _data(4, 8)
    with pytest.raises(ShapeError, match="x must be \\[rows, cols\\]"):
        softmax(x[0], device=TINY)
    with pytest.raises(ShapeError, match="dtype"):
        softmax(x.astype(np.int32), device=TINY)
    with pytest.raises(ShapeError, match="shape"):
        softmax((4, 8), device=TINY)                        # shapes need timing mode
    with pytest.raises(ConfigError, match="mode"):
        softmax(x, device=TINY, mode="fast")
    with pytest.raises(ConfigError, match="positional"):
        softmax(x, TINY)                                    # keywords only
    with pytest.raises(CapacityError, match="rows of 4096 columns fit"):
        softmax((100000, 4096), device=TINY, mode="timing")
    with pytest.raises(ShapeError, match="cols=0"):
        plan_softmax(4, 0, TINY)


def test_registered_command_runs_from_the_cli():
    out = CliRunner().invoke(main, ["run", "softmax", "--preset", "tiny", "--rows", "5",
                                    "--cols", "100"])
    assert out.exit_code == 0, out.output
    assert "equal_to_reference" in out.output and "softmax on tiny" in out.output
