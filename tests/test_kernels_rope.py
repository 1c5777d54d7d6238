"""chipemu.kernels.rope: both twins equal the NumPy reference (which replays the tile kernel's
order) bit for bit on tiny and corsair, stay within a derived bound of a float64 RoPE, follow
Hugging Face's rotate_half convention, give one event log in both backends and in timing mode,
keep whole heads on each tile with no cross-tile traffic, hold the tables of max_positions
positions in SRAM (a CapacityError says what fits), refuse bad input before any work, and are
registered."""
import numpy as np
import pytest
from click.testing import CliRunner

from chipemu.cli import main
from chipemu.emulator import Device
from chipemu.emulator.errors import CapacityError, ConfigError, ShapeError
from chipemu.kernels import rope
from chipemu.kernels.rope import data as D
from chipemu.kernels.rope.api import OP, events_of
from chipemu.kernels.rope.plan import plan_rope
from chipemu.kernels.rope.ref import rope_float64, rope_reference

TINY, CORSAIR = Device.preset("tiny"), Device.preset("corsair")
U = 2.0 ** -24                      # float32 unit roundoff


def _data(rows, heads, head_dim, seed=0, top=500):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, heads * head_dim), dtype=np.float32)
    return x, rng.integers(0, top, rows)


def _bits(a):
    return np.ascontiguousarray(a, np.float32).view(np.uint32)


@pytest.mark.parametrize("backend", ["c", "numba"])
@pytest.mark.parametrize("dev,rows,heads,head_dim", [(TINY, 1, 1, 2), (TINY, 5, 8, 16),
                                                     (TINY, 3, 3, 6), (CORSAIR, 16, 32, 128),
                                                     (CORSAIR, 16, 8, 128), (CORSAIR, 1, 32, 128),
                                                     (CORSAIR, 7, 300, 64)])
def test_twins_equal_reference_bit_for_bit(backend, dev, rows, heads, head_dim):
    x, pos = _data(rows, heads, head_dim)
    r = rope(x, pos, head_dim=head_dim, device=dev, backend=backend)
    assert np.array_equal(_bits(r.output), _bits(rope_reference(x, pos, head_dim)))


def test_hugging_face_convention_and_theta():
    # rotate_half pairs i with i + head_dim/2: the rotation of (x_i, x_{i+h}) by p * inv_freq_i
    x, pos = _data(3, 2, 8, seed=1)
    for theta in (10000.0, 500000.0):
        y = rope(x, pos, head_dim=8, theta=theta, device=TINY).output.astype(np.float64)
        inv = theta ** (-np.arange(0, 8, 2) / 8)
        ang = pos[:, None] * inv[None, :]
        x64 = x.astype(np.float64).reshape(3, 2, 2, 4)
        x1, x2 = x64[:, :, 0], x64[:, :, 1]
        c, s = np.cos(ang)[:, None], np.sin(ang)[:, None]
        want = np.concatenate([x1 * c - x2 * s, x2 * c + x1 * s], axis=2).reshape(3, 16)
        assert np.allclose(y, want, rtol=0, atol=1e-5)
    a = rope(x, pos, head_dim=8, theta=10000.0, device=TINY).output
    assert not np.array_equal(_bits(a), _bits(y.astype(np.float32)))


def test_special_values_and_position_zero():
    x, _ = _data(4, 4, 16, seed=2)
    pos = np.array([0, 7, 1000, 3])
    x[1, :3] = [np.nan, np.inf, -np.inf]
    x[2, 8:16] = -0.0
    x[3, [20, 28]] = 3.4e38                          # a sum of the two overflows
    for backend in ("c", "numba"):
        y = rope(x, pos, head_dim=16, device=TINY, backend=backend).output
        assert np.array_equal(_bits(y), _bits(rope_reference(x, pos, 16)))
    assert np.array_equal(y[0], x[0])               # position 0: cos 1, sin 0
    assert np.isnan(y[1, [0, 8]]).all() and np.isinf(y[1, [1, 9, 2, 10]]).all()   # NaN, +-inf
    assert np.isfinite(y[1, 3:8]).all()                                           # pairs only
    assert np.isfinite(y[3, 20]) and y[3, 28] == np.inf     # 3.4e38 (cos + sin) > FLT_MAX
    nan = y[np.isnan(y)].view(np.uint32)
    assert (nan == 0x7FC00000).all()                 # canonical NaN only


@pytest.mark.parametrize("dev,rows,heads,head_dim,top", [(TINY, 16, 8, 16, 100),
                                                         (CORSAIR, 16, 32, 128, 1400),
                                                         (CORSAIR, 16, 8, 128, 1400)])
def test_within_derived_bound_of_float64(dev, rows, heads, head_dim, top):
    # y1 = x1 c' + x2 (-s'), c', s' the float32 tables (1 rounding each), two products and a
    # sum (1 rounding each): |y - exact| <= 3 u (|x1 c| + |x2 s|) to first order
    x, pos = _data(rows, heads, head_dim, seed=3, top=top)
    y = rope(x, pos, head_dim=head_dim, device=dev).output.astype(np.float64)
    exact = rope_float64(x, pos, head_dim)
    half = head_dim // 2
    ang = pos[:, None] * 500000.0 ** (-2.0 * np.arange(half) / head_dim)
    c, s = np.abs(np.cos(ang))[:, None], np.abs(np.sin(ang))[:, None]
    xa = np.abs(x.astype(np.float64)).reshape(rows, heads, 2, half)
    scale = np.stack([xa[:, :, 0] * c + xa[:, :, 1] * s, xa[:, :, 1] * c + xa[:, :, 0] * s], 2)
    bound = (3 + 1e-4) * U * scale.reshape(rows, -1)
    err = np.abs(y - exact)
    assert (err <= bound).all()
    assert err.max() > 0


def test_backends_and_modes_give_one_log_and_one_cost():
    x, pos = _data(16, 8, 128)
    c = rope(x, pos, head_dim=128, device=CORSAIR, backend="c")
    nb = rope(x, pos, head_dim=128, device=CORSAIR, backend="numba")
    t = rope((16, 1024), pos, head_dim=128, device=CORSAIR, mode="timing")
    assert c.events.equals(nb.events) and c.events.equals(t.events)
    assert c.cycles == nb.cycles == t.cycles and c.energy_fj == nb.energy_fj == t.energy_fj
    plan = plan_rope(16, 8, 128, int(pos.max()) + 1, CORSAIR)
    assert t.output is None and len(c.events) == events_of(plan)


def test_plan_by_hand_whole_heads_and_no_cross_tile_traffic():
    p = plan_rope(3, 8, 16, 10, TINY)            # 8 heads over the 4 tiles of a chiplet
    assert (p.tiles, p.cols_per_tile, p.cols, p.half) == (4, 32, 128, 8)
    assert [p.tile_cols(t) for t in range(4)] == [(0, 32), (32, 32), (64, 32), (96, 32)]
    q = plan_rope(16, 32, 128, 512, CORSAIR)     # one head a tile
    assert (q.tiles, q.cols_per_tile) == (32, 128) and q.tile_cols(31) == (31 * 128, 128)
    assert q.sram["cos"] == q.sram["sin"] == 512 * 64 * 4
    odd = plan_rope(2, 5, 6, 4, TINY)            # 5 heads on 4 tiles: 2, 1, 1, 1
    assert [odd.tile_cols(t) for t in range(4)] == [(0, 12), (12, 6), (18, 6), (24, 6)]
    r = rope((3, 128), [0, 5, 9], head_dim=16, device=TINY, mode="timing")
    assert r.phases["load"]["steps"] == [0] and r.phases["compute"]["steps"] == [1]
    # per member 4 host reads; per row 1 negation and 6 ops for each of its 2 heads
    assert r.events.op_counts() == {"vec": 4 * 3 * (1 + 6 * 2), "host_read": 4 * 4}
    ev = r.events.events
    tbl = ev[(ev["step"] == 1) & (ev["c"] == 2)]["src1"]      # the multiplies' table operands
    offs = sorted(set(tbl["off"][tbl["buf"] == r.events.events["dst"]["buf"][1]].tolist()))
    assert offs == [0, 5 * 8 * 4, 9 * 8 * 4]         # cos rows of the three positions


def test_tables_and_max_positions():
    cos, sin = D.tables(6, 8, 10000.0)
    assert cos.dtype == np.float32 and cos.shape == (6, 4)
    ang = np.arange(6)[:, None] * 10000.0 ** (-np.arange(0, 8, 2) / 8.0)
    assert np.array_equal(cos, np.cos(ang).astype(np.float32))
    assert np.array_equal(sin, np.sin(ang).astype(np.float32))
    x, pos = _data(4, 2, 16, top=50)
    a = rope(x, pos, head_dim=16, device=TINY).output
    b = rope(x, pos, head_dim=16, max_positions=1000, device=TINY).output
    assert np.array_equal(_bits(a), _bits(b))          # more table rows, the same bits
    with pytest.raises(CapacityError, match="at most 1502 positions fit \\(max_positions\\)"):
        rope((16, 4096), np.zeros(16, int), head_dim=128, max_positions=4096, device=CORSAIR,
             mode="timing")
    plan = plan_rope(16, 32, 128, 1502, CORSAIR)     # the most that fit: 2 x 1502 x 256 bytes
    assert sum(-(-v // 64) * 64 for v in plan.sram.values()) <= CORSAIR.sram_buffer_bytes
    with pytest.raises(CapacityError, match="at most 1502 positions"):
        plan_rope(16, 32, 128, 1503, CORSAIR)


def test_layer_op_convention():
    plan = plan_rope(4, 8, 16, 32, TINY)
    assert (OP.name, OP.inputs, OP.output) == ("rope", ("x",), "y")
    consts = OP.constants(plan, 10000.0)
    assert sorted(consts) == ["consts", "cos", "sin"]
    cos, sin = D.tables(32, 16, 10000.0)
    for t in range(plan.tiles):
        assert np.array_equal(consts["cos"][t], cos.ravel())
        assert np.array_equal(consts["sin"][t], sin.ravel()) and consts["consts"][t][0] == -1
    assert set(consts) <= set(plan.sram) and {"x", "y"} <= set(plan.sram)
    bufs = dict.fromkeys(("x_host", "cos_host", "sin_host", "consts_host", "x", "y", "cos", "sin",
                          "nsin", "tmp", "consts"), 0)
    p = D.params(plan, TINY.n_tiles, bufs, [3, 1, 4, 1])
    r = p[p[D.LAYOUT.H.count + 2]:]
    assert r[D.LAYOUT.R.count:D.LAYOUT.R.count + 4].tolist() == [3, 1, 4, 1]   # the positions


def test_bad_input_is_rejected_before_work():
    x, pos = _data(4, 2, 8)
    with pytest.raises(ShapeError, match="head_dim=6"):
        rope(x, pos, head_dim=6, device=TINY)             # 16 columns are not whole heads
    with pytest.raises(ShapeError, match="head_dim=5 must be even"):
        rope(x[:, :15], pos, head_dim=5, device=TINY)
    with pytest.raises(ShapeError, match="positions"):
        rope(x, pos[:3], head_dim=8, device=TINY)
    with pytest.raises(ShapeError, match="positions"):
        rope(x, pos.astype(float), head_dim=8, device=TINY)
    with pytest.raises(ShapeError, match="holds -1"):
        rope(x, [0, 1, -1, 2], head_dim=8, device=TINY)
    with pytest.raises(ShapeError, match="max_positions=8: 0 .. 7"):
        rope(x, [0, 1, 8, 2], head_dim=8, max_positions=8, device=TINY)
    with pytest.raises(ConfigError, match="theta=0"):
        rope(x, pos, head_dim=8, theta=0, device=TINY)
    with pytest.raises(ShapeError, match="dtype"):
        rope(x.astype(np.int32), pos, head_dim=8, device=TINY)
    with pytest.raises(ShapeError, match="shape"):
        rope((4, 16), pos, head_dim=8, device=TINY)        # shapes need timing mode
    with pytest.raises(ConfigError, match="mode"):
        rope(x, pos, head_dim=8, device=TINY, mode="fast")
    with pytest.raises(ConfigError, match="positional"):
        rope(x, pos, 8, device=TINY)


def test_registered_command_runs_from_the_cli():
    out = CliRunner().invoke(main, ["run", "rope", "--preset", "tiny", "--rows", "5", "--heads",
                                    "8", "--head-dim", "16", "--max-positions", "64"])
    assert out.exit_code == 0, out.output
    assert "equal_to_reference" in out.output and "rope on tiny" in out.output
