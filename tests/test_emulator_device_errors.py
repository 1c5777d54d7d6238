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
    ({"clock_ghz": 0.0}, "clock_ghz=0.0: must be greater than 0"),
    ({"clock_ghz": -1.15}, "clock_ghz=-1.15: must be greater than 0"),
    ({"clock_ghz": float("inf")}, "clock_ghz=inf: must be a finite number"),
    ({"tile.sram.read_pj_per_bit": -0.1},
     "tile.sram.read_pj_per_bit=-0.1: must be greater than or equal to 0"),
    ({"power.static_card_w": -1.0}, "power.static_card_w=-1.0: must be greater than or equal to 0"),
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
    with pytest.raises(ConfigError, match="srcs.toml: sources: must map dotted field paths to strings"):
        Device.from_toml(srcs)
