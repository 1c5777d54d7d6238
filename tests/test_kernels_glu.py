"""chipemu.kernels.glu: both twins equal the NumPy reference (which replays the tile kernel's
order) bit for bit for SiLU and GELU on tiny and corsair, stay within a derived bound of the
float64 formulas (GELU against the tanh form itself), give one event log in both backends and
in timing mode, never talk across tiles, refuse bad input before any work, and are registered."""
import numpy as np
import pytest
from click.testing import CliRunner

from chipemu.cli import main
from chipemu.emulator import Device
from chipemu.emulator.errors import CapacityError, ConfigError, ShapeError
from chipemu.kernels import glu
from chipemu.kernels.glu.api import events_of
from chipemu.kernels.glu.plan import plan_glu
from chipemu.kernels.glu.ref import gelu_tanh_float64, glu_float64, glu_reference

TINY, CORSAIR = Device.preset("tiny"), Device.preset("corsair")
U = 2.0 ** -24                      # float32 unit roundoff


def _data(rows, cols, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    g = (scale * rng.standard_normal((rows, cols))).astype(np.float32)
    return g, rng.standard_normal((rows, cols), dtype=np.float32)


def _bits(a):
    return np.ascontiguousarray(a, np.float32).view(np.uint32)


@pytest.mark.parametrize("act", ["silu", "gelu"])
@pytest.mark.parametrize("backend", ["c", "numba"])
@pytest.mark.parametrize("dev,rows,cols", [(TINY, 1, 1), (TINY, 1, 37), (TINY, 5, 257),
                                           (CORSAIR, 16, 14336), (CORSAIR, 3, 1001)])
def test_twins_equal_reference_bit_for_bit(act, backend, dev, rows, cols):
    g, u = _data(rows, cols, scale=4.0)
    r = glu(g, u, act=act, device=dev, backend=backend)
    assert np.array_equal(_bits(r.output), _bits(glu_reference(g, u, act)))


def test_reference_is_not_the_float64_formula_rounded():
    # the replay matters: rounding the float64 result once gives other bits somewhere
    g, u = _data(16, 1000, seed=1, scale=3.0)
    for act in ("silu", "gelu"):
        ref = glu_reference(g, u, act)
        assert not np.array_equal(_bits(ref), _bits(glu_float64(g, u, act).astype(np.float32)))


def test_special_values_follow_the_reference():
    g, u = _data(4, 40)
    g[0, :6] = [np.inf, -np.inf, np.nan, 0.0, -0.0, 200.0]
    g[1, :3] = [-200.0, 1e-40, -1e30]
    u[2, 5] = np.inf
    for act in ("silu", "gelu"):
        for backend in ("c", "numba"):
            y = glu(g, u, act=act, device=TINY, backend=backend).output
            assert np.array_equal(_bits(y), _bits(glu_reference(g, u, act)))
        assert y[0, 0] == np.inf * np.sign(u[0, 0])         # act(inf) = inf
        assert np.isnan(y[0, 1]) and np.isnan(y[0, 2])      # -inf * 0, NaN
        assert y[0, 3] == 0 and y[1, 0] == 0                # act(0) = 0; act(-200) underflows
        assert y[0, 5] == np.float32(200.0) * u[0, 5]       # sigmoid(200) = 1 exactly


@pytest.mark.parametrize("act", ["silu", "gelu"])
@pytest.mark.parametrize("dev,rows,cols,scale", [(TINY, 16, 100, 1.0), (CORSAIR, 16, 14336, 1.0),
                                                 (CORSAIR, 8, 999, 4.0)])
def test_within_derived_bound_of_float64(act, dev, rows, cols, scale):
    # relative error of act(g) * up, first order in u: exp <= 1.03 ulp and reciprocal <= 1.15
    # ulp (docs/vecmath.md, <= 2.1 u and 2.3 u), the +1, g * sigmoid and * up 1 u each: 7.4 u.
    # GELU also rounds its argument s (x^2, x^3, the two constants, * c, + x of like signs,
    # * k: <= 7 u relative), which exp turns into 7 u |s| absolute = relative. Only while
    # sigmoid(s) is a normal float32 (|s| < 87): below that exp(-s) overflows and y is +-0
    g, u = _data(rows, cols, seed=3, scale=scale)
    y = glu(g, u, act=act, device=dev).output.astype(np.float64)
    exact = glu_float64(g, u, act)
    x = g.astype(np.float64)
    s = x if act == "silu" else 2 * np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)
    bound = (7.5 + (0 * s if act == "silu" else 7 * np.abs(s))) * U
    ok = (exact != 0) & (s > -87)
    assert (y[s < -89] == 0).all()
    err = np.abs(y[ok] - exact[ok]) / np.abs(exact[ok])
    assert (err <= bound[ok]).all()
    assert err.max() > 0                                    # float32 did round somewhere


def test_float64_yardstick_is_the_tanh_form():
    # x sigmoid(2z) is 0.5 x (1 + tanh z) exactly; in float64 the tanh form only cancels
    # (1 + tanh z for z << 0), so agreement is checked where that loss is small
    x = np.linspace(-3, 6, 1001)
    a = glu_float64(x, np.ones_like(x), "gelu")
    b = gelu_tanh_float64(x)
    assert np.allclose(a, b, rtol=1e-12, atol=0)
    lo = np.array([-6.7])
    assert abs(gelu_tanh_float64(lo)[0] / glu_float64(lo, np.ones(1), "gelu")[0] - 1) > 1e-6


@pytest.mark.parametrize("act", ["silu", "gelu"])
def test_backends_and_modes_give_one_log_and_one_cost(act):
    g, u = _data(16, 1000)
    c = glu(g, u, act=act, device=CORSAIR, backend="c")
    nb = glu(g, u, act=act, device=CORSAIR, backend="numba")
    t = glu((16, 1000), (16, 1000), act=act, device=CORSAIR, mode="timing")
    assert c.events.equals(nb.events) and c.events.equals(t.events)
    assert c.cycles == nb.cycles == t.cycles and c.energy_fj == nb.energy_fj == t.energy_fj
    assert t.output is None and len(c.events) == events_of(plan_glu(16, 1000, CORSAIR), act)


def test_plan_by_hand_and_no_cross_tile_traffic():
    p = plan_glu(3, 100, TINY)           # 16 lanes: 7 blocks over the 4 tiles of a chiplet
    assert (p.tiles, p.block, p.cols_per_tile) == (4, 16, 32)
    assert [p.tile_cols(t) for t in range(4)] == [(0, 32), (32, 32), (64, 32), (96, 4)]
    q = plan_glu(16, 14336, CORSAIR)     # 224 blocks of 64 lanes, one a tile
    assert (q.tiles, q.cols_per_tile) == (224, 64) and q.tile_cols(223) == (14272, 64)
    assert plan_glu(2, 40, CORSAIR).tiles == 1
    for act, vec in (("silu", 6), ("gelu", 10)):
        r = glu((3, 100), (3, 100), act=act, device=TINY, mode="timing")
        assert r.phases["load"]["steps"] == [0] and r.phases["compute"]["steps"] == [1]
        assert r.events.op_counts() == {"vec": 4 * vec, "host_read": 4 * 3}   # no send


def test_bad_input_is_rejected_before_work():
    g, u = _data(4, 8)
    with pytest.raises(ConfigError, match="act='relu'.*'silu', 'gelu'"):
        glu(g, u, act="relu", device=TINY)
    with pytest.raises(ConfigError, match="act=1"):
        glu(g, u, act=1, device=TINY)
    with pytest.raises(ShapeError, match="gate and up must both be"):
        glu(g, u[:, :7], device=TINY)
    with pytest.raises(ShapeError, match="dtype"):
        glu(g.astype(np.int32), u, device=TINY)
    with pytest.raises(ShapeError, match="shape"):
        glu((4, 8), (4, 8), device=TINY)                   # shapes need timing mode
    with pytest.raises(ConfigError, match="mode"):
        glu(g, u, device=TINY, mode="fast")
    with pytest.raises(CapacityError, match="rows of 4096 columns fit"):
        glu((100000, 4096), (100000, 4096), device=TINY, mode="timing")
    with pytest.raises(ShapeError, match="cols=0"):
        plan_glu(4, 0, TINY)


@pytest.mark.parametrize("act", ["silu", "gelu"])
def test_registered_command_runs_from_the_cli(act):
    out = CliRunner().invoke(main, ["run", "glu", "--preset", "tiny", "--rows", "5",
                                    "--cols", "100", "--act", act])
    assert out.exit_code == 0, out.output
    assert "equal_to_reference" in out.output and "glu on tiny" in out.output
    bad = CliRunner().invoke(main, ["run", "glu", "--preset", "tiny", "--act", "tanh"])
    assert bad.exit_code == 1 and "act='tanh'" in bad.output
