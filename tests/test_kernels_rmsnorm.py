"""chipemu.kernels.rmsnorm: both twins equal the NumPy reference (which replays the plan's order)
bit for bit on tiny and corsair, stay within a derived bound of a float64 RMSNorm, give one event
log in both backends and in timing mode, reduce across tiles with real sends (every non-root
member to the root, one multicast back), refuse bad input before any work, and are registered."""
import numpy as np
import pytest
from click.testing import CliRunner

from chipemu.cli import main
from chipemu.emulator import Device
from chipemu.emulator.errors import CapacityError, ConfigError, ShapeError
from chipemu.emulator.events import OPS
from chipemu.kernels import rmsnorm
from chipemu.kernels.rmsnorm.api import events_of
from chipemu.kernels.rmsnorm.plan import plan_rmsnorm
from chipemu.kernels.rmsnorm.ref import rmsnorm_float64, rmsnorm_reference

TINY, CORSAIR = Device.preset("tiny"), Device.preset("corsair")
U = 2.0 ** -24                      # float32 unit roundoff


def _data(rows, hidden, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, hidden), dtype=np.float32)
    gamma = (1 + 0.1 * rng.standard_normal(hidden)).astype(np.float32)
    return x, gamma


def _bits(a):
    return np.ascontiguousarray(a, np.float32).view(np.uint32)


@pytest.mark.parametrize("backend", ["c", "numba"])
@pytest.mark.parametrize("dev,rows,hidden", [(TINY, 1, 1), (TINY, 1, 37), (TINY, 16, 100),
                                             (TINY, 5, 257), (TINY, 16, 4096), (CORSAIR, 1, 4096),
                                             (CORSAIR, 16, 4096), (CORSAIR, 16, 1000),
                                             (CORSAIR, 3, 4099)])
def test_twins_equal_reference_bit_for_bit(backend, dev, rows, hidden):
    x, g = _data(rows, hidden)
    r = rmsnorm(x, g, device=dev, backend=backend)
    ref = rmsnorm_reference(x, g, plan_rmsnorm(rows, hidden, dev))
    assert np.array_equal(_bits(r.output), _bits(ref))


def test_order_is_the_plans_not_a_plain_sum():
    # the reference is only a replay if the cut points matter: another split gives other bits
    x, g = _data(4, 4096)
    on_corsair = rmsnorm_reference(x, g, plan_rmsnorm(4, 4096, CORSAIR))     # 64 tiles
    on_tiny = rmsnorm_reference(x, g, plan_rmsnorm(4, 4096, TINY))           # 4 tiles
    assert not np.array_equal(_bits(on_corsair), _bits(on_tiny))
    r = rmsnorm(x, g, device=CORSAIR)
    assert np.array_equal(_bits(r.output), _bits(on_corsair))


def test_special_values_follow_the_reference():
    x, g = _data(6, 100)
    x[1, 3], x[2, 50], g[7] = np.inf, np.nan, np.nan       # an inf, a NaN row, a NaN column
    x[3] = 0.0                                              # a zero row
    for eps in (1e-5, 0.0):
        r = rmsnorm(x, g, eps=eps, device=TINY, backend="numba")
        ref = rmsnorm_reference(x, g, plan_rmsnorm(6, 100, TINY), eps=eps)
        assert np.array_equal(_bits(r.output), _bits(ref))
    y = r.output
    assert np.isnan(y[2]).all() and np.isnan(y[:, 7]).all()
    assert np.isnan(y[1, 3]) and (np.delete(y[1], [3, 7]) == 0).all()   # scale rsqrt(inf) = 0
    assert np.isnan(y[3]).all()                             # eps 0: 0 * rsqrt(0) = 0 * inf


@pytest.mark.parametrize("dev,rows,hidden", [(TINY, 16, 100), (CORSAIR, 16, 4096),
                                             (CORSAIR, 64, 999)])
def test_within_derived_bound_of_float64(dev, rows, hidden):
    # sums of positive terms: relative error <= (terms - 1) u each; mean, eps: 2 u more; rsqrt
    # halves that and adds its own 1.25 ulp (<= 2.5 u); the two multiplies 1 u each
    plan = plan_rmsnorm(rows, hidden, dev)
    bound = ((plan.cols_per_tile + plan.tiles + 2) / 2 + 5) * U
    x, g = _data(rows, hidden, seed=3)
    y = rmsnorm(x, g, device=dev).output.astype(np.float64)
    exact = rmsnorm_float64(x, g)
    err = np.abs(y - exact) / np.abs(exact)
    assert err.max() <= bound
    assert err.max() > 0                                    # float32 did round somewhere


def test_backends_and_modes_give_one_log_and_one_cost():
    x, g = _data(16, 1000)
    c = rmsnorm(x, g, device=CORSAIR, backend="c")
    nb = rmsnorm(x, g, device=CORSAIR, backend="numba")
    t = rmsnorm((16, 1000), (1000,), device=CORSAIR, mode="timing")
    assert c.events.equals(nb.events) and c.events.equals(t.events)
    assert c.cycles == nb.cycles == t.cycles and c.energy_fj == nb.energy_fj == t.energy_fj
    assert t.output is None and len(c.events) == events_of(plan_rmsnorm(16, 1000, CORSAIR))


@pytest.mark.parametrize("dev,rows,hidden", [(TINY, 3, 100), (CORSAIR, 16, 4096)])
def test_reduction_is_sends_to_the_root_and_a_multicast_back(dev, rows, hidden):
    r = rmsnorm((rows, hidden), (hidden,), device=dev, mode="timing")
    plan = plan_rmsnorm(rows, hidden, dev)
    ev, peers = r.events.events, r.events.peers
    sends = ev[ev["op"] == OPS["send"]]
    to_root = sends[sends["step"] == 1]
    assert sorted(to_root["tile"].tolist()) == list(range(1, plan.tiles))
    assert all(peers[e["peer_first"]:e["peer_first"] + e["peer_count"]].tolist() == [0]
               for e in to_root)
    assert set(to_root["a"].tolist()) == {rows * 4}
    back = sends[sends["step"] == 2]
    assert len(back) == 1 and back[0]["tile"] == 0 and back[0]["a"] == rows * 4
    f, n = back[0]["peer_first"], back[0]["peer_count"]
    assert peers[f:f + n].tolist() == list(range(1, plan.tiles))
    adds = ev[(ev["step"] == 2) & (ev["op"] == OPS["vec"]) & (ev["c"] == 1)]
    assert len(adds) >= plan.tiles - 1                      # the tile-order sums on the root


def test_plan_by_hand():
    p = plan_rmsnorm(3, 100, TINY)       # 16 lanes: 7 blocks over the 4 tiles of a chiplet
    assert (p.tiles, p.root, p.block, p.cols_per_tile) == (4, 0, 16, 32)
    assert [p.tile_cols(t) for t in range(4)] == [(0, 32), (32, 32), (64, 32), (96, 4)]
    q = plan_rmsnorm(16, 4096, CORSAIR)  # 64 lanes: 64 blocks, one a tile
    assert (q.tiles, q.cols_per_tile) == (64, 64) and q.tile_cols(63) == (4032, 64)
    assert plan_rmsnorm(2, 40, CORSAIR).tiles == 1
    assert plan_rmsnorm(15, 4096, TINY).tiles == 4        # fits one chiplet's 4 tiles
    assert plan_rmsnorm(16, 4096, TINY).tiles == 8        # does not: a second chiplet joins
    r = rmsnorm((3, 100), (100,), device=TINY, mode="timing")
    assert r.phases["load"]["steps"] == [0] and r.phases["compute"]["steps"] == [1, 2, 3]
    assert r.phases["reduce"]["steps"] == [1, 2] and r.phases["apply"]["steps"] == [3]
    assert r.events.op_counts() == {"vec": 4 * 2 + 3 + 3 + 4 * (1 + 3), "send": 4,
                                    "host_read": 9}


def test_bad_input_is_rejected_before_work():
    x, g = _data(4, 8)
    with pytest.raises(ShapeError, match="gamma \\[hidden\\]"):
        rmsnorm(x, g[:7], device=TINY)
    with pytest.raises(ShapeError, match="dtype"):
        rmsnorm(x.astype(np.int32), g, device=TINY)
    with pytest.raises(ShapeError, match="shape"):
        rmsnorm((4, 8), (8,), device=TINY)                # shapes need timing mode
    with pytest.raises(ConfigError, match="eps=-1"):
        rmsnorm(x, g, eps=-1, device=TINY)
    with pytest.raises(ConfigError, match="eps='1e-5'"):
        rmsnorm(x, g, eps="1e-5", device=TINY)
    with pytest.raises(ConfigError, match="mode"):
        rmsnorm(x, g, device=TINY, mode="fast")
    with pytest.raises(CapacityError, match="rows of hidden 4096 fit"):
        rmsnorm((100000, 4096), (4096,), device=TINY, mode="timing")
    with pytest.raises(ShapeError, match="hidden=0"):
        plan_rmsnorm(4, 0, TINY)


def test_registered_command_runs_from_the_cli():
    out = CliRunner().invoke(main, ["run", "rmsnorm", "--preset", "tiny", "--rows", "5",
                                    "--hidden", "100"])
    assert out.exit_code == 0, out.output
    assert "equal_to_reference" in out.output and "rmsnorm on tiny" in out.output
