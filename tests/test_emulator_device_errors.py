"""Every invalid device config is a ConfigError naming the dotted path, the value and what is allowed."""
import pytest

from chipemu.emulator import ConfigError, Device
from chipemu.emulator.device.config import PRESET_DIR

MESH = "a local tile id in 0..3 of the 2x2 tile mesh"


@pytest.fixture(scope="module")
def tiny():
    return Device.preset("tiny")


def _links(*pairs, **extra):
    return {"chiplets.topology": "links",
            "chiplets.links": [dict(zip("ab", p)) | extra.get(str(i), {}) for i, p in enumerate(pairs)]}


CASES = [
    # zero / negative sizes and rates, wrong types, out-of-range integers
    ({"tile.sram.capacity_bytes": 0}, "tile.sram.capacity_bytes=0: must be greater than or equal to 1"),
    ({"tile.dimc.rows": -64}, "tile.dimc.rows=-64: must be greater than or equal to 1"),
    ({"chiplets.link.bytes_per_cycle": 0},
     "chiplets.link.bytes_per_cycle=0: must be greater than or equal to 1"),
    ({"chiplet.noc.link_bytes_per_cycle": 0}, "chiplet.noc.link_bytes_per_cycle=0"),
    ({"chiplet.dram.bytes_per_cycle": -1}, "chiplet.dram.bytes_per_cycle=-1"),
    ({"host.bytes_per_cycle": 0}, "host.bytes_per_cycle=0"),
    ({"tile.vector.lanes": 0}, "tile.vector.lanes=0"),
    ({"tile.dma.inject_bytes_per_cycle": 0}, "tile.dma.inject_bytes_per_cycle=0"),
    ({"clock_ghz": 0.0}, "clock_ghz=0.0: must be in [0.001, 1000] (a chosen range"),
    ({"clock_ghz": -1.15}, "clock_ghz=-1.15: must be in [0.001, 1000]"),
    ({"clock_ghz": float("inf")}, "clock_ghz=inf: must be a finite number"),
    ({"tile.sram.read_pj_per_bit": -0.1},
     "tile.sram.read_pj_per_bit=-0.1: must be in [0, 1000] (at most 1 nJ per action"),
    ({"power.static_card_w": -1.0}, "power.static_card_w=-1.0: must be in [0, 10000] (at most 10 kW"),
    ({"tile.dimc.rows": 64.0}, "tile.dimc.rows=64.0: must be a valid integer"),
    ({"tile.dimc.rows": "64"}, "tile.dimc.rows='64': must be a valid integer"),
    ({"tile.dimc.counts_in_sram": 1}, "tile.dimc.counts_in_sram=1: must be a valid boolean"),
    ({"tile.dimc.input_bits_per_cycle": 2**32},
     "tile.dimc.input_bits_per_cycle=4294967296: must be less than or equal to 4294967295"),
    ({"tile.dimc.mvm_engines": 256},        # a device limit (tables.limits): the bound and its reason
     "tile.dimc.mvm_engines=256: must be less than or equal to 255 (an engine is the event's uint8 "
     "field unit)"),
    ({"tile.vector.cycles.exp": 0}, "tile.vector.cycles.exp=0"),
    ({"power.overhead_label": ""}, "power.overhead_label='': String should have at least 1 character"),
    # formats and array geometry
    ({"tile.dimc.formats": ["fp8"]}, "tile.dimc.formats=['fp8']: 'fp8' is not a DIMC format; "
                                     "valid: int8, mxint8, mxint4, bfp16, bfp12"),
    ({"tile.dimc.formats": ["mxint8", "fp32"]}, "'fp32' is not a DIMC format"),
    ({"tile.dimc.formats": []}, "must name at least one DIMC format"),
    ({"tile.dimc.formats": ["mxint8", "mxint8"]}, "lists a format twice"),
    ({"tile.dimc.rows": 48},
     "tile.dimc.rows=48: must be a multiple of every DIMC format's block size (mxint8: 32"),
    ({"tile.dimc.rows": 96},
     "tile.dimc.rows=96: must be a multiple of every DIMC format's block size (bfp16: 64"),
    ({"tile.dimc.cell_bits": 4},
     "tile.dimc.cell_bits=4: must be a multiple of every DIMC format's element bits (int8: 8)"),
    ({"tile.dimc.fj_per_mac": {"mxint8": 1.0}},
     "tile.dimc.fj_per_mac={'mxint8': 1.0}: needs exactly one energy per format of tile.dimc.formats"),
    ({"tile.dimc.formats": ["mxint8"]}, "not enabled ['int8', 'mxint4', 'bfp16', 'bfp12']"),
    ({"tile.dimc.counts_in_sram": True, "tile.sram.capacity_bytes": 8192},
     "tile.sram.capacity_bytes=8192: must exceed the DIMC cells it holds"),
    ({"tile.vector.cycles": {"copy": 1}},
     "tile.vector.cycles={'copy': 1}: needs cycles for exactly the op kinds"),
    # tiles of the mesh
    ({"chiplet.dram.channel_tiles": [4]}, f"chiplet.dram.channel_tiles.0=4: must be {MESH}"),
    ({"chiplet.dram.channel_tiles": [0, 1]},
     "chiplet.dram.channel_tiles=[0, 1]: must list one attach tile per channel (chiplet.dram.channels = 1)"),
    ({"chiplet.phy_tiles": [1, 9]}, f"chiplet.phy_tiles.1=9: must be {MESH}"),
    ({"chiplet.phy_tiles": [1, 1]}, "chiplet.phy_tiles=[1, 1]: lists a tile twice"),
    ({"chiplet.phy_tiles": []}, "chiplet.phy_tiles=[]: must name at least one D2D PHY tile (4 chiplets)"),
    ({"host.tile": 4}, f"host.tile=4: must be {MESH}"),
    ({"host.chiplet": 4}, "host.chiplet=4: must be a chiplet id in 0..3"),
    ({"host.chiplet": -1}, "host.chiplet=-1: must be greater than or equal to 0"),
    # die-to-die links
    ({"chiplets.topology": "star"},
     "chiplets.topology='star': must be 'mesh', 'ring', 'all_to_all' or 'links'"),
    ({"chiplets.links": [{"a": 0, "b": 1}]}, "chiplets.links=<1 links>: is used only with topology 'links'"),
    (_links((0, 1), (1, 2), (2, 7)), "chiplets.links.2.b=7: must be a chiplet id in 0..3 (2x2 chiplets)"),
    (_links((0, 1), (1, 1), (2, 3)), "chiplets.links.1=1-1: a link must join two different chiplets"),
    (_links((0, 1), (1, 0)), "chiplets.links.1=1-0: duplicates chiplets.links.0"),
    (_links((0, 1), (2, 3)), "chiplets.links=<2 links>: leave chiplets [2, 3] unreachable from chiplet 0"),
    (_links(), "leave chiplets [1, 2, 3] unreachable"),
    (_links((0, 1), (1, 2), (2, 3), **{"1": {"phy_a": 3}}),
     "chiplets.links.1.phy_a=3: must be one of chiplet.phy_tiles [1, 2]"),
    (_links((0, 1), (1, 2), (2, 3), **{"2": {"phy_b": 17}}),
     f"chiplets.links.2.phy_b=17: must be one of chiplet.phy_tiles [1, 2], and {MESH}"),
    (_links((0, 1), (1, 2), (2, 3), **{"0": {"bytes_per_cycle": 0}}),
     "chiplets.links.0.bytes_per_cycle=0: must be greater than or equal to 1"),
    (_links((0, 1), (1, 2), (2, 3), **{"0": {"width": 8}}),
     "chiplets.links.0.width: unknown field; allowed: a, b, phy_a, phy_b, bytes_per_cycle"),
]


@pytest.mark.parametrize("changes, message", CASES, ids=[next(iter(c)) for c, _ in CASES])
def test_invalid_values_name_path_value_and_range(tiny, changes, message):
    with pytest.raises(ConfigError) as info:
        tiny.replace(changes)
    assert message in str(info.value)


def test_unknown_and_missing_fields(tiny):
    data = tiny.to_dict()
    data["tile"]["sram"]["size"] = 1
    with pytest.raises(ConfigError, match="tile.sram.size: unknown field; allowed: capacity_bytes, "
                                          "port_bytes_per_cycle"):
        Device.from_dict(data)
    data = tiny.to_dict()
    del data["chiplet"]["noc"]
    with pytest.raises(ConfigError, match="chiplet.noc: required field is missing"):
        Device.from_dict(data)
    with pytest.raises(ConfigError, match="voltage: unknown field; allowed: name, description, clock_ghz"):
        Device.from_dict(tiny.to_dict() | {"voltage": 0.8})
    with pytest.raises(ConfigError, match="must be a table of fields"):
        Device.from_dict([1, 2])


def test_all_problems_are_reported_and_no_pydantic_error_leaks(tiny):
    data = tiny.to_dict()
    data["clock_ghz"] = 0.0
    data["tile"]["dimc"]["rows"] = 0
    with pytest.raises(ConfigError) as info:
        Device(**data)                          # direct construction converts too
    assert "clock_ghz=0.0" in str(info.value) and "tile.dimc.rows=0" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_unknown_preset(tiny):
    with pytest.raises(ConfigError, match="preset='corsiar' is unknown; available: corsair, ring8, tiny"):
        Device.preset("corsiar")


def test_toml_file_errors_name_the_file(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="nope.toml: cannot read device file"):
        Device.from_toml(missing)
    bad = tmp_path / "bad.toml"
    bad.write_text("clock_ghz = = 1\n")
    with pytest.raises(ConfigError, match=r"bad.toml: invalid TOML: .*line 1"):
        Device.from_toml(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text((PRESET_DIR / "tiny.toml").read_text().replace("rows = 64", "rows = 0"))
    with pytest.raises(ConfigError, match=r"wrong.toml: tile.dimc.rows=0: must be greater"):
        Device.from_toml(wrong)
    srcs = tmp_path / "srcs.toml"
    srcs.write_text((PRESET_DIR / "tiny.toml").read_text() + "\n[sources]\nclock_ghz = 1\n")
    with pytest.raises(ConfigError, match="srcs.toml: sources.clock_ghz=1: must be a string tagged"):
        Device.from_toml(srcs)


# ---- issue 11: sources, sizes refused up front, the energy bounds of tables.limits -----------------

@pytest.mark.parametrize("sources, match", [
    ({"clock_ghz": "junk"}, r"sources\.clock_ghz='junk': must be a string tagged 'S: <source>'"),
    ({"clock_ghz": "X: made up"}, r"sources\.clock_ghz='X: made up': must be a string tagged"),
    ({"clock_ghz": "S:"}, r"sources\.clock_ghz='S:': must be a string tagged"),
    ({"nope.path": "A: assumed"}, r"sources: 'nope\.path' is not a field of the device"),
    ({"chiplets.links.7": "A: x"}, r"'chiplets\.links\.7' is not a field"),
    ({"tile.dimc.fj_per_mac.fp32": "A: x"}, r"'tile\.dimc\.fj_per_mac\.fp32' is not a field"),
    ([("clock_ghz", "A: x")], r"sources=\[.*must be a table"),
])
def test_sources_tags_and_paths_are_checked(tiny, sources, match):
    with pytest.raises(ConfigError, match=match):
        Device.from_dict(tiny.to_dict() | {"sources": sources})


def test_sources_of_presets_and_replace_stay_valid(tiny):
    corsair = Device.preset("corsair")
    assert len(corsair.sources) > 50
    again = Device.from_dict(corsair.to_dict() | {"sources": dict(corsair.sources)})
    assert again.sources == corsair.sources
    ok = Device.from_dict(tiny.to_dict() | {"sources": {"tile.dimc.fj_per_mac.mxint8": "S: x",
                                                        "chiplet.phy_tiles.0": "D: 1 + 0"}})
    assert ok.replace("clock_ghz", 2.0).sources["clock_ghz"] == "A: set by Device.replace"


@pytest.mark.parametrize("changes, match", [
    ({"tile.dimc.rows": 2**20}, r"tile\.dimc\.rows=1048576: must be less than or equal to 65536"),
    ({"chiplet.tile_rows": 2**31}, r"chiplet\.tile_rows x chiplet\.tile_cols=4294967296: .*n_tiles"),
    ({"chiplets.rows": 100000}, r"chiplets\.rows x chiplets\.cols=200000: .*n_chiplets <= 4096"),
    ({"tile.dimc.weight_slots": 65535, "chiplet.tile_rows": 64, "chiplet.tile_cols": 64},
     r"<memory_regions \d+>: allowed: 1 <= memory_regions <= 134217728"),
    ({"tile.dimc.mvm_engines": 255, "chiplet.tile_rows": 2048, "chiplet.tile_cols": 2048,
      "power.static_tile_w": 0.0},
     r"<n_resources \d+>: allowed: 1 <= n_resources <= 2147483646"),
])
def test_sizes_the_engine_cannot_hold_are_refused_at_once(tiny, changes, match):
    """Refused by validation (no allocation, well under a second): the issue's 2**20 rows took 16 s
    and 3.5 GB before a NativeError."""
    with pytest.raises(ConfigError, match=match):
        tiny.replace(changes)


@pytest.mark.parametrize("changes, match", [     # the wrapped-energy devices
    ({"power.overhead_fj_per_mac": 1e14}, r"power\.overhead_fj_per_mac=100000000000000\.0: must be in \[0, "
                                          r"1e\+06\] \(at most 1 nJ per action"),
    ({"clock_ghz": 1e-12}, r"clock_ghz=1e-12: must be in \[0\.001, 1000\]"),
    ({"power.static_tile_w": 1e12}, r"power\.static_tile_w=1000000000000\.0: must be in \[0, 10000\]"),
    ({"power.static_tile_w": 1000.0}, r"power=<static power 16001\.4 W over 16 tiles and 4 chiplets>"
                                      r": allowed: at most 10000 W in all"),
    ({"chiplets.link.pj_per_bit": 1000.5}, r"chiplets\.link\.pj_per_bit=1000\.5: must be in"),
    ({"tile.vector.pj_per_element.exp": 2000.0}, r"tile\.vector\.pj_per_element\.exp=2000\.0"),
    ({"tile.vector.cycles.exp": 65536}, r"tile\.vector\.cycles\.exp=65536: must be less than or "
                                        r"equal to 65535 \(a chosen bound"),
    ({"tile.dimc.write_pj_per_row": -1.0}, r"tile\.dimc\.write_pj_per_row=-1\.0: must be in"),
])
def test_energy_and_power_bounds_name_the_field(tiny, changes, match):
    with pytest.raises(ConfigError, match=match):
        tiny.replace(changes)


def test_energy_bounds_are_those_of_the_c_value(tiny):
    """A float field is bounded by its C value (fixed point, round half to even), as the engine
    sees it: 1000.0004 pJ rounds to 1000000 fJ (accepted), 1000.0005 to 1000000 (even), 1000.0006
    to 1000001 (refused)."""
    for v, ok in ((1000.0, True), (1000.0004, True), (1000.0005, True), (1000.0006, False)):
        if ok:
            assert tiny.replace("chiplet.dram.pj_per_bit", v).engine_params()["fj_dram_bit"] <= 10**6
        else:
            with pytest.raises(ConfigError, match="chiplet.dram.pj_per_bit=1000.0006"):
                tiny.replace("chiplet.dram.pj_per_bit", v)
    assert tiny.replace("clock_ghz", 0.001).clock_ghz == 0.001
    assert tiny.replace("clock_ghz", 1000).clock_ghz == 1000
