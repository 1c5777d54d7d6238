"""chipemu.kernels.scale_rows, the template kernel: both twins equal the NumPy reference bit for
bit, give the same event log (and the same log in timing mode), counts derived by hand, errors
before any work, and the registration (export, CLI command, generated params.h)."""
import numpy as np
import pytest
from click.testing import CliRunner

from chipemu.cli import main
from chipemu.emulator import Device
from chipemu.emulator.errors import CapacityError, ShapeError
from chipemu.kernels import scale_rows
from chipemu.kernels.scale_rows.plan import plan_scale_rows
from chipemu.kernels.scale_rows.ref import scale_rows_reference

TINY = Device.preset("tiny")


def _data(rows, cols, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, cols), dtype=np.float32)
    s = rng.standard_normal(rows, dtype=np.float32)
    return x, s


@pytest.mark.parametrize("backend", ["c", "numba"])
@pytest.mark.parametrize("rows,cols", [(1, 1), (5, 3), (16, 64), (37, 100)])
def test_twins_equal_reference_bit_for_bit(backend, rows, cols):
    x, s = _data(rows, cols)
    if rows > 2:
        x[1, 0], s[2] = np.inf, np.nan                 # inf * s and x * NaN: canonical NaN rules
    r = scale_rows(x, s, device=TINY, backend=backend)
    ref = scale_rows_reference(x, s)
    assert r.output.view(np.uint32).tobytes() == ref.view(np.uint32).tobytes()


def test_backends_and_modes_give_one_log_and_one_cost():
    x, s = _data(37, 100)
    c = scale_rows(x, s, device=TINY, backend="c")
    nb = scale_rows(x, s, device=TINY, backend="numba")
    t = scale_rows((37, 100), (37,), device=TINY, mode="timing")
    assert c.events.equals(nb.events) and c.events.equals(t.events)
    assert c.cycles == nb.cycles == t.cycles and c.energy_fj == nb.energy_fj == t.energy_fj
    assert t.output is None


def test_counts_by_hand():
    x, s = _data(37, 100)                              # tiny: 16 tiles -> 5 tiles of 3 rows, 11 of 2
    r = scale_rows(x, s, device=TINY)
    plan = plan_scale_rows(37, 100, TINY)
    assert plan.tiles == 16 and plan.rows_per_tile == 3
    assert [plan.tile_rows(t) for t in (0, 4, 5, 15)] == [(0, 3), (12, 3), (15, 2), (35, 2)]
    assert r.events.op_counts() == {"vec": 16, "host_read": 32}
    assert r.phases["load"]["steps"] == [0] and r.phases["compute"]["steps"] == [1]
    assert r.metrics["elements"] == 3700


def test_fewer_rows_than_tiles_uses_only_those_tiles():
    x, s = _data(3, 8)
    r = scale_rows(x, s, device=TINY)
    assert sorted(set(r.events.events["tile"].tolist())) == [0, 1, 2]
    assert np.array_equal(r.output, scale_rows_reference(x, s))


def test_bad_input_is_rejected_before_work():
    x, s = _data(4, 8)
    with pytest.raises(ShapeError, match="s \\[rows\\]"):
        scale_rows(x, s[:3], device=TINY)
    with pytest.raises(ShapeError, match="dtype"):
        scale_rows(x.astype(np.int32), s, device=TINY)
    with pytest.raises(CapacityError, match="bytes of SRAM per tile"):
        scale_rows((16, 1 << 20), (16,), device=TINY, mode="timing")


def test_registered_command_runs_from_the_cli():
    out = CliRunner().invoke(main, ["run", "scale_rows", "--preset", "tiny", "--rows", "40",
                                    "--cols", "16"])
    assert out.exit_code == 0, out.output
    assert "equal_to_numpy" in out.output and "scale_rows on tiny" in out.output
