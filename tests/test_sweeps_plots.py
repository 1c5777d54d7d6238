"""Sweep plots (sweeps/plots.py): files written, the data drawn equal the table's."""
import numpy as np
import pytest

import chipemu
from chipemu.emulator.device import Device
from chipemu.emulator.errors import ConfigError

pytest.importorskip("matplotlib")
from chipemu.sweeps import plots  # noqa: E402


@pytest.fixture(scope="module")
def df():
    return chipemu.sweep(cases=[{"kernel": "matmul", "m": 2, "k": 512, "n": 256},
                                {"kernel": "rmsnorm", "rows": 2, "hidden": 256}],
                         grid={"chiplet.noc.link_bytes_per_cycle": [16, 32]},
                         device="tiny", executor="serial", cache=False)


def test_the_roofs_are_the_device_s(df):
    r = plots.roofs("tiny")
    d = Device.preset("tiny")
    assert r["compute"] == {f: d.peak_flops(f) for f in d.tile.dimc.formats}
    assert r["memory"]["host"] == d.host.bytes_per_cycle * d.clock_ghz * 1e9
    assert set(r["memory"]) == {"sram", "noc", "d2d", "dram", "host"}


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_roofline_places_the_runs_that_have_flops(df, tmp_path, suffix):
    fig = plots.roofline(df)
    ax = fig.axes[0]
    whole, compute = ax.collections[0].get_offsets(), ax.collections[1].get_offsets()
    mm = df[df["kernel"] == "matmul"]
    assert np.allclose(whole, mm[["intensity_flop_per_byte", "flop_per_s"]].to_numpy())
    assert np.allclose(compute, mm[["intensity_compute", "flop_per_s_compute"]].to_numpy())
    path = plots.save(fig, tmp_path / f"roof{suffix}")
    assert path.stat().st_size > 1000


def test_energy_bars_stack_the_components(df, tmp_path):
    fig = plots.energy_bars(df)
    ax = fig.axes[0]
    tops = {}
    for bar in ax.patches:
        x = round(bar.get_x() + bar.get_width() / 2)
        tops[x] = max(tops.get(x, 0), bar.get_y() + bar.get_height())
    assert np.allclose([tops[i] for i in range(len(df))], df["energy_fj"] * 1e-9)
    plots.save(fig, tmp_path / "e.png")


def test_pareto_draws_the_columns_and_their_front(df, tmp_path):
    fig = plots.pareto(df, "seconds", "energy_j")
    ax = fig.axes[0]
    assert np.allclose(ax.collections[0].get_offsets(), df[["seconds", "energy_j"]].to_numpy())
    front = plots.pareto_front(list(df["seconds"]), list(df["energy_j"]))
    assert np.allclose(ax.lines[0].get_xydata(),
                       df[["seconds", "energy_j"]].to_numpy()[front])
    plots.save(fig, tmp_path / "p.svg")
    assert plots.pareto_front([1, 2, 3, 4], [4, 1, 3, 0]) == [0, 1, 3]
    assert plots.pareto_front([1, 2], [1, 2], minimize=(True, False)) == [0, 1]


def test_bad_columns_and_files(df, tmp_path):
    with pytest.raises(ConfigError, match="no column 'speed'"):
        plots.pareto(df, "speed", "energy_j")
    with pytest.raises(ConfigError, match="suffixes"):
        plots.save(plots.energy_bars(df), tmp_path / "e.jpg")
