"""The shipped presets: corsair's consistency with its published figures, every value tagged, the CLI."""
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from chipemu.emulator import Device
from chipemu.cli.main import main
from chipemu.emulator.device.config import PRESET_DIR


@pytest.fixture(scope="module")
def corsair():
    return Device.preset("corsair")


def test_presets_ship_and_load():
    assert {"corsair", "tiny", "ring8"} <= set(Device.presets())
    for name in Device.presets():
        dev = Device.preset(name)
        assert dev.name == name and dev.power.overhead_label
        assert Device.preset(name) is dev                                   # cached: frozen anyway


def test_corsair_reproduces_its_published_peaks(corsair):
    """A consistency check of the preset (research §1): 2.4 / 9.6 PFLOPS, 150 TB/s, 2 GB, 256 GB."""
    assert corsair.n_chiplets == 8 and corsair.tiles_per_chiplet == 256 and corsair.n_tiles == 2048
    assert corsair.macs_per_cycle("mxint8") == 512 and corsair.macs_per_cycle("mxint4") == 2048
    assert corsair.cycles_per_vector("mxint8") == 8 and corsair.cycles_per_vector("mxint4") == 4
    assert corsair.peak_flops("mxint8") == pytest.approx(2.4e15, rel=0.02)
    assert corsair.peak_flops("mxint4") == pytest.approx(9.6e15, rel=0.02)
    assert corsair.sram_bytes_per_second == pytest.approx(150e12, rel=0.02)
    assert corsair.sram_bytes == 2 << 30 and corsair.tile.sram.capacity_bytes == 1 << 20
    assert corsair.dram_bytes == 256 << 30
    assert corsair.dram_bytes_per_second == pytest.approx(400e9, rel=0.02)
    assert corsair.static_w == pytest.approx(150.0)                       # 25 % of 600 W
    assert corsair.power.overhead_fj_per_mac == 246 and "dimc_peak" in corsair.power.overhead_label
    # the DIMC MAC energy alone is far below the card's 600 W (research §7): the rest is data movement
    assert corsair.peak_macs_per_second("mxint8") * 30e-15 == pytest.approx(36.2, rel=0.01)


def test_corsair_links_are_two_all_to_all_packages_bridged(corsair):
    links = corsair.d2d_links()
    pairs = {frozenset((k.a, k.b)) for k in links}
    for pkg in ((0, 1, 2, 3), (4, 5, 6, 7)):
        assert all(frozenset((a, b)) in pairs for a in pkg for b in pkg if a < b)
    bridges = [k for k in links if (k.a < 4) != (k.b < 4)]
    assert len(links) == 14 and len(bridges) == 2
    assert all(k.bytes_per_cycle < 870 for k in bridges)
    assert {k.bytes_per_cycle for k in links if k not in bridges} == {870}   # 1 TB/s at 1.15 GHz
    # each chiplet's links sit on distinct PHY tiles (round-robin over 4 PHYs, at most 4 links)
    ends = Counter((k.a, k.phy_a) for k in links) + Counter((k.b, k.phy_b) for k in links)
    assert max(ends.values()) == 1


def _leaves(d, prefix=""):
    for k, v in d.items():
        path = f"{prefix}{k}"
        if isinstance(v, dict):
            yield from _leaves(v, path + ".")
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            for i in range(len(v)):
                yield f"{path}.{i}"                # a list of tables: one tag per item
        else:
            yield path


def test_every_corsair_value_is_tagged_sourced_derived_or_assumed(corsair):
    leaves = list(_leaves(corsair.to_dict()))
    assert len(leaves) > 80
    untagged = [p for p in leaves if not re.match(r"[SDA]: \S", corsair.sources.get(p, ""))]
    assert not untagged
    # no stale tags: every tagged path exists in the config
    assert not set(corsair.sources) - set(leaves) - {"chiplets.links"}


def test_tags_are_in_the_file_itself():
    text = (PRESET_DIR / "corsair.toml").read_text(encoding="utf-8")
    assert "[sources]" in text and text.count('= "S: ') >= 10 and text.count('= "D: ') >= 10


def test_tiny_and_ring8_design_points():
    tiny, ring = Device.preset("tiny"), Device.preset("ring8")
    assert (tiny.chiplets.rows, tiny.chiplets.cols) == (2, 2)
    assert (tiny.chiplet.tile_rows, tiny.chiplet.tile_cols) == (2, 2)
    assert tiny.tile.dimc.rows == 64 and tiny.chiplets.topology == "mesh" and tiny.clock_ghz == 1.0
    assert ring.chiplets.topology == "ring" and ring.n_chiplets == 8
    degree = Counter([k.a for k in ring.d2d_links()] + [k.b for k in ring.d2d_links()])
    assert set(degree.values()) == {2}
    assert ring.macs_per_cycle("mxint8") == 2 * 128 * 128 / 4


def _cli(*args):
    return CliRunner(env={"COLUMNS": "150"}).invoke(main, list(args))


def test_presets_command_lists_derived_figures():
    result = _cli("presets")
    assert result.exit_code == 0, result.output
    for text in ("corsair", "ring8", "tiny", "peak TFLOPS mxint8", "peak TFLOPS mxint4", "2,411.7",
                 "9,646.9", "150.7", "8 x 256 = 2,048", "256 GiB", "14 x 256 / 1,000 GB/s"):
        assert text in result.output, text


def test_presets_command_shows_one_config_with_sources(tmp_path):
    result = _cli("presets", "corsair")
    assert result.exit_code == 0, result.output
    for text in ("tile.sram.capacity_bytes", "1048576", "S: Hot Chips 2025", "chiplets.links.13",
                 "die-to-die links (resolved)"):
        assert text in result.output, text
    path = tmp_path / "mine.toml"
    path.write_text((PRESET_DIR / "tiny.toml").read_text().replace('name = "tiny"', 'name = "mine"'))
    result = _cli("presets", str(path))
    assert result.exit_code == 0 and "mine" in result.output


def test_presets_command_json_and_errors():
    result = _cli("presets", "tiny", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {"config", "sources", "derived", "engine_params"}
    assert data["engine_params"] == Device.preset("tiny").engine_params()
    bad = _cli("presets", "nope")
    assert bad.exit_code == 2 and "preset='nope' is unknown; available: corsair" in bad.output
    assert _cli("presets", "--json").exit_code == 2


def test_docs_corsair_table_matches_the_preset(corsair):
    from chipemu.cli.main import _flat
    text = (Path(__file__).parents[1] / "docs" / "presets.md").read_text(encoding="utf-8")
    section = text.split("### corsair, every value", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip("|").split(" | ")]
            for line in section.splitlines() if line.startswith("| `")]
    want = [[f"`{p}`", "(text, see the file)" if p in ("description", "power.overhead_label") else v,
             corsair.sources[p]] for p, v in _flat(corsair.to_dict())]
    assert rows == want
