"""chipemu.kernels.layernorm: both twins equal the NumPy reference (which replays the plan's
order) bit for bit on tiny and corsair, odd sizes and special values; stay within a derived
bound of float64 (also with a large mean, where a one-pass variance fails); give one event log
in both backends and in timing mode; reduce by sends to a root and multicasts back; refuse bad
input before any work; declare their LayerOp; and are registered."""
import numpy as np
import pytest
from click.testing import CliRunner

from chipemu.cli import main
from chipemu.emulator import Device
from chipemu.emulator.errors import CapacityError, ConfigError, ShapeError
from chipemu.emulator.events import OPS
from chipemu.kernels import layernorm
from chipemu.kernels.layernorm.api import OP, events_of
from chipemu.kernels.layernorm.plan import plan_layernorm
from chipemu.kernels.layernorm.ref import layernorm_float64, layernorm_reference

TINY, CORSAIR = Device.preset("tiny"), Device.preset("corsair")
U = 2.0 ** -24                      # float32 unit roundoff


def _data(rows, hidden, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    x = (offset + rng.standard_normal((rows, hidden))).astype(np.float32)
    gamma = (1 + 0.1 * rng.standard_normal(hidden)).astype(np.float32)
    beta = (0.1 * rng.standard_normal(hidden)).astype(np.float32)
    return x, gamma, beta


def _bits(a):
    return np.ascontiguousarray(a, np.float32).view(np.uint32)


def _bound(x, g, b, plan, eps=1e-5):
    """Derived first-order bound on |y - y64| per element (docs/layernorm.md): K additions at
    most per sum; the mean off by dm <= (K + 2) u mean|x|; d by dm + u |d|; the variance
    relatively by (K + 5) u + 2 rho + rho^2 (rho = dm / sigma, Cauchy-Schwarz), eps u more;
    rsqrt halves that and adds 2.5 u; then * scale, * gamma, + beta one u each. 1 % slack
    covers the second-order terms."""
    x, g, b = (np.asarray(a, np.float64) for a in (x, g, b))
    K = plan.cols_per_tile + plan.tiles - 2
    d = x - x.mean(axis=1, keepdims=True)
    sigma = np.sqrt(np.mean(d * d, axis=1, keepdims=True))
    se = np.sqrt(sigma ** 2 + float(np.float32(eps)))
    dm = (K + 2) * U * np.mean(np.abs(x), axis=1, keepdims=True)
    rho = dm / sigma
    er = ((K + 5) * U + 2 * rho + rho ** 2 + U) / 2 + 2.5 * U
    z = d / se
    y = z * g + b
    return 1.01 * (np.abs(g) * ((dm * (1 + U) + U * np.abs(d)) / se + np.abs(z) * (er + U))
                   + U * np.abs(g * z) + U * np.abs(y))


@pytest.mark.parametrize("backend", ["c", "numba"])
@pytest.mark.parametrize("dev,rows,hidden", [(TINY, 1, 1), (TINY, 1, 37), (TINY, 16, 100),
                                             (TINY, 5, 257), (TINY, 16, 4096), (CORSAIR, 1, 4096),
                                             (CORSAIR, 16, 4096), (CORSAIR, 3, 4099)])
def test_twins_equal_reference_bit_for_bit(backend, dev, rows, hidden):
    x, g, b = _data(rows, hidden)
    r = layernorm(x, g, b, device=dev, backend=backend)
    ref = layernorm_reference(x, g, b, plan_layernorm(rows, hidden, dev))
    assert np.array_equal(_bits(r.output), _bits(ref))


def test_order_is_the_plans_not_a_plain_sum():
    # the reference is only a replay if the cut points matter: another split gives other bits
    x, g, b = _data(4, 4096, offset=3.0)
    on_corsair = layernorm_reference(x, g, b, plan_layernorm(4, 4096, CORSAIR))   # 64 tiles
    on_tiny = layernorm_reference(x, g, b, plan_layernorm(4, 4096, TINY))         # 4 tiles
    assert not np.array_equal(_bits(on_corsair), _bits(on_tiny))
    assert np.array_equal(_bits(layernorm(x, g, b, device=CORSAIR).output), _bits(on_corsair))


def test_special_values_follow_the_reference():
    x, g, b = _data(7, 100)
    x[1, 3], x[2, 50], g[7] = np.inf, np.nan, np.nan       # an inf, a NaN row, a NaN column
    x[3] = 0.0                                              # a zero row
    x[4] = -2.5                                             # a constant row
    x[5, :50], x[5, 50:] = -0.0, 0.0                        # signed zeros
    x[6, :4] = [3e38, 3e38, -3e38, 1e-40]                   # overflowing sums, a subnormal
    for eps in (1e-5, 0.0):
        for backend in ("c", "numba"):
            r = layernorm(x, g, b, eps=eps, device=TINY, backend=backend)
            ref = layernorm_reference(x, g, b, plan_layernorm(7, 100, TINY), eps=eps)
            assert np.array_equal(_bits(r.output), _bits(ref))
        y = r.output
        assert np.isnan(y[1:3]).all() and np.isnan(y[:, 7]).all()   # inf - inf; NaN
        assert np.isnan(y[6]).all()                                  # the sum overflowed
    # eps 0: a zero or constant row is 0 * rsqrt(0) = 0 * inf = NaN
    assert np.isnan(y[3]).all() and np.isnan(y[4]).all()
    y = layernorm(x, g, b, eps=1e-5, device=TINY).output
    keep = np.arange(100) != 7
    assert np.array_equal(y[3, keep], b[keep]) and np.array_equal(y[4, keep], b[keep])
    assert np.array_equal(y[5, keep], b[keep])                       # d = +-0: y = beta


@pytest.mark.parametrize("dev,rows,hidden,offset", [
    (TINY, 16, 100, 0.0), (CORSAIR, 16, 4096, 0.0), (CORSAIR, 64, 999, 0.0),
    (CORSAIR, 16, 4096, 1000.0)])
def test_within_derived_bound_of_float64(dev, rows, hidden, offset):
    plan = plan_layernorm(rows, hidden, dev)
    x, g, b = _data(rows, hidden, seed=3, offset=offset)
    y = layernorm(x, g, b, device=dev).output.astype(np.float64)
    err = np.abs(y - layernorm_float64(x, g, b))
    assert (err <= _bound(x, g, b, plan)).all()
    assert err.max() > 0                                    # float32 did round somewhere


def test_two_passes_survive_a_large_mean_that_breaks_one_pass():
    # x = 1000 + N(0, 1): E[x^2] - E[x]^2 in float32 cancels to noise (even negative variances);
    # the device's sum of squared deviations stays accurate
    x, g, b = _data(16, 4096, seed=3, offset=1000.0)
    exact = layernorm_float64(x, g, b)
    y = layernorm(x, g, b, device=CORSAIR).output
    assert np.abs(y - exact).max() < 1e-3
    h = np.float32(1 / 4096)
    m = np.cumsum(x, axis=1, dtype=np.float32)[:, -1] * h
    var = np.cumsum(x * x, axis=1, dtype=np.float32)[:, -1] * h - m * m
    one_pass = (x - m[:, None]) / np.sqrt(np.abs(var)[:, None] + np.float32(1e-5)) * g + b
    assert np.abs(one_pass - exact).max() > 0.1


def test_backends_and_modes_give_one_log_and_one_cost():
    x, g, b = _data(16, 1000)
    c = layernorm(x, g, b, device=CORSAIR, backend="c")
    nb = layernorm(x, g, b, device=CORSAIR, backend="numba")
    t = layernorm((16, 1000), (1000,), (1000,), device=CORSAIR, mode="timing")
    assert c.events.equals(nb.events) and c.events.equals(t.events)
    assert c.cycles == nb.cycles == t.cycles and c.energy_fj == nb.energy_fj == t.energy_fj
    assert t.output is None and len(c.events) == events_of(plan_layernorm(16, 1000, CORSAIR))


@pytest.mark.parametrize("dev,rows,hidden", [(TINY, 3, 100), (CORSAIR, 16, 4096)])
def test_two_reductions_are_sends_to_the_root_and_multicasts_back(dev, rows, hidden):
    r = layernorm((rows, hidden), (hidden,), (hidden,), device=dev, mode="timing")
    plan = plan_layernorm(rows, hidden, dev)
    ev, peers = r.events.events, r.events.peers
    sends = ev[ev["op"] == OPS["send"]]
    for up, down in ((1, 2), (3, 4)):                       # sums, then squared deviations
        to_root = sends[sends["step"] == up]
        assert sorted(to_root["tile"].tolist()) == list(range(1, plan.tiles))
        assert all(peers[e["peer_first"]:e["peer_first"] + e["peer_count"]].tolist() == [0]
                   for e in to_root)
        assert set(to_root["a"].tolist()) == {rows * 4}
        back = sends[sends["step"] == down]
        assert len(back) == 1 and back[0]["tile"] == 0 and back[0]["a"] == rows * 4
        f, n = back[0]["peer_first"], back[0]["peer_count"]
        assert peers[f:f + n].tolist() == list(range(1, plan.tiles))
        adds = ev[(ev["step"] == down) & (ev["op"] == OPS["vec"]) & (ev["c"] == 1)]
        assert len(adds) == plan.tiles - 1 + (down == 4)   # tile-order sums (+ eps)


def test_plan_by_hand():
    p = plan_layernorm(3, 100, TINY)     # 16 lanes: 7 blocks over the 4 tiles of a chiplet
    assert (p.tiles, p.root, p.block, p.cols_per_tile) == (4, 0, 16, 32)
    assert [p.tile_cols(t) for t in range(4)] == [(0, 32), (32, 32), (64, 32), (96, 4)]
    q = plan_layernorm(16, 4096, CORSAIR)
    assert (q.tiles, q.cols_per_tile) == (64, 64) and q.tile_cols(63) == (4032, 64)
    assert plan_layernorm(2, 40, CORSAIR).tiles == 1
    assert plan_layernorm(14, 4096, TINY).tiles == 4      # fits one chiplet's 4 tiles
    assert plan_layernorm(16, 4096, TINY).tiles == 8      # does not: a second chiplet joins
    r = layernorm((3, 100), (100,), (100,), device=TINY, mode="timing")
    assert r.phases["load"]["steps"] == [0] and r.phases["compute"]["steps"] == [1, 2, 3, 4, 5]
    assert r.phases["mean"]["steps"] == [1, 2] and r.phases["variance"]["steps"] == [3, 4]
    assert r.phases["apply"]["steps"] == [5]
    # vec: row sums 4; mean 3 adds + 1; center 3 x 4; var 3 + 3; apply 4 x (2 + 2 x 3)
    assert r.events.op_counts() == {"vec": 4 + 4 + 12 + 6 + 32, "send": 3 + 1 + 3 + 1,
                                    "host_read": 3 * 4 + 1}


def test_layer_op_declares_the_program_interface():
    assert (OP.name, OP.inputs, OP.output) == ("layernorm", ("x",), "y")
    plan = plan_layernorm(3, 100, TINY)
    _, g, b = _data(3, 100)
    c = OP.constants(plan, g, b, 1e-3)
    assert set(c) == {"gamma", "beta", "consts"} and set(c["consts"]) == {0}
    assert np.array_equal(c["beta"][3], b[96:]) and np.array_equal(c["gamma"][1], g[32:64])
    assert c["consts"][0].tolist() == np.array([-0.01, 0.01, 1e-3], np.float32).tolist()


def test_bad_input_is_rejected_before_work():
    x, g, b = _data(4, 8)
    with pytest.raises(ShapeError, match="gamma, beta \\[hidden\\]"):
        layernorm(x, g, b[:7], device=TINY)
    with pytest.raises(ShapeError, match="gamma, beta \\[hidden\\]"):
        layernorm(x, g[:7], b, device=TINY)
    with pytest.raises(ShapeError, match="dtype"):
        layernorm(x.astype(np.int32), g, b, device=TINY)
    with pytest.raises(ShapeError, match="shape"):
        layernorm((4, 8), (8,), (8,), device=TINY)             # shapes need timing mode
    with pytest.raises(ConfigError, match="eps=-1"):
        layernorm(x, g, b, eps=-1, device=TINY)
    with pytest.raises(ConfigError, match="eps=nan"):
        layernorm(x, g, b, eps=float("nan"), device=TINY)
    with pytest.raises(ConfigError, match="mode"):
        layernorm(x, g, b, device=TINY, mode="fast")
    with pytest.raises(CapacityError, match="rows of hidden 4096 fit"):
        layernorm((100000, 4096), (4096,), (4096,), device=TINY, mode="timing")
    with pytest.raises(ShapeError, match="hidden=0"):
        plan_layernorm(4, 0, TINY)


def test_registered_command_runs_from_the_cli():
    out = CliRunner().invoke(main, ["run", "layernorm", "--preset", "tiny", "--rows", "5",
                                    "--hidden", "100"])
    assert out.exit_code == 0, out.output
    assert "equal_to_reference" in out.output and "layernorm on tiny" in out.output
