"""chipemu.kernels.residual: both twins equal the NumPy reference bit for bit on tiny and corsair
(odd sizes, NaN, inf, -0, subnormals), stay within one rounding of the float64 sum, give one
event log in both backends and in timing mode, never talk across tiles, refuse bad input
before any work, declare their LayerOp, and are registered."""
import numpy as np
import pytest
from click.testing import CliRunner

from chipemu.cli import main
from chipemu.emulator import Device
from chipemu.emulator.errors import CapacityError, ConfigError, ShapeError
from chipemu.kernels import residual_add
from chipemu.kernels.residual.api import OP, events_of
from chipemu.kernels.residual.plan import plan_residual
from chipemu.kernels.residual.ref import residual_float64, residual_reference

TINY, CORSAIR = Device.preset("tiny"), Device.preset("corsair")
U = 2.0 ** -24                      # float32 unit roundoff


def _data(rows, hidden, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((rows, hidden), dtype=np.float32),
            rng.standard_normal((rows, hidden), dtype=np.float32))


def _bits(a):
    return np.ascontiguousarray(a, np.float32).view(np.uint32)


@pytest.mark.parametrize("backend", ["c", "numba"])
@pytest.mark.parametrize("dev,rows,hidden", [(TINY, 1, 1), (TINY, 1, 37), (TINY, 5, 257),
                                             (TINY, 16, 4096), (CORSAIR, 16, 4096),
                                             (CORSAIR, 3, 1001)])
def test_twins_equal_reference_bit_for_bit(backend, dev, rows, hidden):
    x, r = _data(rows, hidden)
    y = residual_add(x, r, device=dev, backend=backend).output
    assert np.array_equal(_bits(y), _bits(residual_reference(x, r)))


def test_special_values_follow_ieee_and_the_reference():
    x, r = _data(4, 40)
    x[0, :8] = [np.inf, -np.inf, np.nan, 0.0, -0.0, -0.0, 3e38, 1e-40]
    r[0, :8] = [-np.inf, 1.0, 1.0, -0.0, -0.0, 0.0, 3e38, -1e-40]
    for backend in ("c", "numba"):
        y = residual_add(x, r, device=TINY, backend=backend).output
        assert np.array_equal(_bits(y), _bits(residual_reference(x, r)))
    assert _bits(y[0, 0]) == 0x7FC00000 and _bits(y[0, 2]) == 0x7FC00000   # canonical NaN
    assert y[0, 1] == -np.inf and y[0, 6] == np.inf                        # overflow
    assert _bits(y[0, 3]) == 0 and _bits(y[0, 4]) == 0x80000000            # +0 + -0, -0 + -0
    assert _bits(y[0, 5]) == 0 and _bits(y[0, 7]) == 0                     # subnormals cancel


@pytest.mark.parametrize("dev,rows,hidden", [(TINY, 16, 100), (CORSAIR, 16, 4096)])
def test_within_one_rounding_of_float64(dev, rows, hidden):
    # float32 addition is correctly rounded: |y - (x + r)| <= u |x + r| for normal results
    x, r = _data(rows, hidden, seed=3)
    r[0] = -x[0] * np.float32(1 - 2 ** -10)                 # near-cancelling sums
    y = residual_add(x, r, device=dev).output.astype(np.float64)
    exact = residual_float64(x, r)
    ok = np.abs(exact) >= np.finfo(np.float32).tiny
    err = np.abs(y[ok] - exact[ok]) / np.abs(exact[ok])
    assert err.max() <= U
    assert err.max() > 0                                    # float32 did round somewhere
    assert np.array_equal(y[0], exact[0])                   # Sterbenz: the near-cancelling are exact


def test_backends_and_modes_give_one_log_and_one_cost():
    x, r = _data(16, 1000)
    c = residual_add(x, r, device=CORSAIR, backend="c")
    nb = residual_add(x, r, device=CORSAIR, backend="numba")
    t = residual_add((16, 1000), (16, 1000), device=CORSAIR, mode="timing")
    assert c.events.equals(nb.events) and c.events.equals(t.events)
    assert c.cycles == nb.cycles == t.cycles and c.energy_fj == nb.energy_fj == t.energy_fj
    assert t.output is None and len(c.events) == events_of(plan_residual(16, 1000, CORSAIR))


def test_plan_by_hand_and_no_cross_tile_traffic():
    p = plan_residual(3, 100, TINY)      # 16 lanes: 7 blocks over the 4 tiles of a chiplet
    assert (p.tiles, p.block, p.cols_per_tile) == (4, 16, 32)
    assert [p.tile_cols(t) for t in range(4)] == [(0, 32), (32, 32), (64, 32), (96, 4)]
    assert plan_residual(16, 4096, CORSAIR).tiles == 64
    assert plan_residual(2, 40, CORSAIR).tiles == 1
    assert plan_residual(16, 4096, TINY).tiles == 8       # 3 x 16 x 1024 x 4 bytes > 128 KiB
    r = residual_add((3, 100), (3, 100), device=TINY, mode="timing")
    assert r.phases["load"]["steps"] == [0] and r.phases["compute"]["steps"] == [1]
    assert r.events.op_counts() == {"vec": 4, "host_read": 8}             # no send
    ev = r.events.events
    adds = ev[ev["step"] == 1]
    assert sorted(adds["a"].tolist()) == sorted(3 * n for _, n in map(p.tile_cols, range(4)))


def test_layer_op_declares_the_program_interface():
    assert (OP.name, OP.inputs, OP.output) == ("residual", ("x", "r"), "y")
    assert OP.constants(plan_residual(3, 100, TINY)) == {}
    assert set(plan_residual(3, 100, TINY).sram) == {"x", "r", "y"}


def test_bad_input_is_rejected_before_work():
    x, r = _data(4, 8)
    with pytest.raises(ShapeError, match="x and r must both be"):
        residual_add(x, r[:, :7], device=TINY)
    with pytest.raises(ShapeError, match="x and r must both be"):
        residual_add(x[0], r[0], device=TINY)
    with pytest.raises(ShapeError, match="dtype"):
        residual_add(x.astype(np.int32), r, device=TINY)
    with pytest.raises(ShapeError, match="shape"):
        residual_add((4, 8), (4, 8), device=TINY)            # shapes need timing mode
    with pytest.raises(ConfigError, match="mode"):
        residual_add(x, r, device=TINY, mode="fast")
    with pytest.raises(CapacityError, match="rows of hidden 4096 fit"):
        residual_add((100000, 4096), (100000, 4096), device=TINY, mode="timing")
    with pytest.raises(ShapeError, match="hidden=0"):
        plan_residual(4, 0, TINY)


def test_registered_command_runs_from_the_cli():
    out = CliRunner().invoke(main, ["run", "residual", "--preset", "tiny", "--rows", "5",
                                    "--hidden", "100"])
    assert out.exit_code == 0, out.output
    assert "equal_to_reference" in out.output and "residual on tiny" in out.output
    assert "True" in out.output
