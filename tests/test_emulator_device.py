"""Device config: derived figures, replace(), TOML round trips, engine parameters, Site."""
import json
import math

import numpy as np
import pytest

from chipemu.emulator import ConfigError, Device, FormatError, Site
from chipemu.emulator.device.parts import VEC_OPS
from chipemu.emulator.numerics.formats import FORMATS
from chipemu.emulator.native import ffi, lib


def toml_text(d: dict, prefix: str = "") -> str:
    """A minimal TOML writer for what Device.to_dict holds (tables, arrays of flat tables, scalars)."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        return "[" + ", ".join(value(x) for x in v) + "]"

    lines, tables, arrays = [], [], []
    for k, v in d.items():
        if v is None:
            continue
        if isinstance(v, dict):
            tables.append((k, v))
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            arrays.append((k, v))
        else:
            lines.append(f"{json.dumps(k)} = {value(v)}")
    for k, v in tables:
        lines += [f"[{prefix}{k}]", toml_text(v, f"{prefix}{k}.")]
    for k, items in arrays:
        for item in items:
            lines += [f"[[{prefix}{k}]]", toml_text(item, f"{prefix}{k}.")]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def tiny():
    return Device.preset("tiny")


def test_tiny_derived_figures_by_hand(tiny):
    assert (tiny.n_chiplets, tiny.tiles_per_chiplet, tiny.n_tiles) == (4, 4, 16)
    assert tiny.cycles_per_vector("mxint8") == 8 and tiny.cycles_per_vector("mxint4") == 4
    assert tiny.cols_eff("mxint8") == 64 and tiny.cols_eff("bfp12") == 128
    # engines x rows x cols_eff / cycles per vector
    assert tiny.macs_per_cycle("mxint8") == 1 * 64 * 64 / 8 == 512
    assert tiny.macs_per_cycle("mxint4") == 64 * 128 / 4 == 2048
    assert tiny.macs_per_cycle("mxint8", "mxint4") == 64 * 128 / 8      # W4A8
    assert tiny.macs_per_cycle("mxint4", "mxint8") == 64 * 64 / 4       # W8A4
    assert tiny.peak_macs_per_second("mxint8") == 512 * 16 * 1e9
    assert tiny.peak_flops("bfp16") == 2 * 512 * 16 * 1e9
    assert tiny.sram_bytes == 16 * 131072 and tiny.sram_bytes_per_second == 32 * 16 * 1e9
    assert tiny.dram_bytes == 4 * 1048576 and tiny.dram_bytes_per_second == 16 * 4 * 1e9
    assert tiny.dimc_weight_bytes == 2 * 64 * 64 and tiny.sram_buffer_bytes == 131072
    assert tiny.replace("tile.dimc.counts_in_sram", True).sram_buffer_bytes == 131072 - 8192
    assert math.isclose(tiny.static_w, 16 * 0.01 + 4 * 0.1 + 1.0)
    assert tiny.seconds(2000) == 2e-6


def test_bit_serial_rounds_cycles_up(tiny):
    dev = tiny.replace("tile.dimc.input_bits_per_cycle", 3)
    assert dev.cycles_per_vector("mxint8") == 3 and dev.cycles_per_vector("mxint4") == 2
    assert dev.macs_per_cycle("mxint8") == 64 * 64 / 3
    assert tiny.replace("tile.dimc.mvm_engines", 2).macs_per_cycle("mxint8") == 1024


@pytest.mark.parametrize("fmt, match", [("fp32", "not a DIMC format of device 'tiny'"),
                                        ("mxfp8_e4m3", "supported: int8, mxint8"),
                                        ("fp7", "not a known format")])
def test_non_dimc_formats_are_format_errors(tiny, fmt, match):
    with pytest.raises(FormatError, match=match):
        tiny.macs_per_cycle(fmt)
    only8 = tiny.replace({"tile.dimc.formats": ["mxint8"], "tile.dimc.fj_per_mac": {"mxint8": 1.0}})
    with pytest.raises(FormatError, match="supported: mxint8"):
        only8.peak_flops("mxint4")


def test_generated_topologies_and_round_robin_phys(tiny):
    # mesh: per chiplet its east then south neighbour; k-th link of a chiplet -> phy_tiles[k % 2]
    assert [tuple(k[:4]) for k in tiny.d2d_links()] == [(0, 1, 1, 1), (0, 2, 2, 1), (1, 3, 2, 1),
                                                         (2, 3, 2, 2)]
    ring = tiny.replace("chiplets.topology", "ring")
    assert [(k.a, k.b) for k in ring.d2d_links()] == [(0, 1), (1, 2), (2, 3), (3, 0)]
    a2a = tiny.replace("chiplets.topology", "all_to_all")
    assert [(k.a, k.b) for k in a2a.d2d_links()] == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    assert [k.phy_a for k in a2a.d2d_links()][:3] == [1, 2, 1]          # chiplet 0 wraps round
    pair = tiny.replace({"chiplets.rows": 1, "chiplets.topology": "ring"})
    assert [(k.a, k.b) for k in pair.d2d_links()] == [(0, 1)]            # 2 chiplets: one link
    assert tiny.replace({"chiplets.rows": 1, "chiplets.cols": 1}).d2d_links() == []
    for k in tiny.d2d_links():
        assert (k.bytes_per_cycle, k.latency_cycles, k.pj_per_bit) == (16, 10, 1.0)


def test_explicit_links_override_defaults(tiny):
    dev = tiny.replace({"chiplets.topology": "links", "chiplets.links": [
        {"a": 0, "b": 1}, {"a": 1, "b": 2, "phy_b": 1, "bytes_per_cycle": 4},
        {"a": 3, "b": 0, "latency_cycles": 0, "pj_per_bit": 2.5}]})
    assert [tuple(k) for k in dev.d2d_links()] == [
        (0, 1, 1, 1, 16, 10, 1.0), (1, 2, 2, 1, 4, 10, 1.0), (3, 0, 1, 2, 16, 0, 2.5)]


def test_replace_revalidates_and_leaves_the_original(tiny):
    bigger = tiny.replace("tile.sram.capacity_bytes", 1 << 20)
    assert bigger.tile.sram.capacity_bytes == 1 << 20 and tiny.tile.sram.capacity_bytes == 131072
    assert bigger != tiny and bigger.replace("tile.sram.capacity_bytes", 131072) == tiny
    with pytest.raises(ConfigError, match=r"tile\.sram\.capacity_bytes=0: must be greater than or equal"):
        tiny.replace("tile.sram.capacity_bytes", 0)
    # model_copy skips validation, which is why replace() is the documented way
    assert tiny.model_copy(update={"clock_ghz": -1.0}).clock_ghz == -1.0
    assert tiny.replace("clock_ghz", np.float64(2.0)).clock_ghz == 2.0       # numpy scalars are fine
    assert tiny.replace("chiplet.dram.channel_tiles.0", 3).chiplet.dram.channel_tiles == [3]
    assert tiny.replace("tile.dimc.fj_per_mac.mxint8", 7.5).tile.dimc.fj_per_mac["mxint8"] == 7.5
    # a frozen config answers setattr / delattr with a ConfigError (issue 11), not pydantic's error
    for obj, name in ((tiny, "clock_ghz"), (tiny, "x"), (tiny.tile.dimc, "rows")):
        with pytest.raises(ConfigError, match=rf"\.{name}=2\.0: configs are frozen; .*replace"):
            setattr(obj, name, 2.0)
        with pytest.raises(ConfigError, match="frozen"):
            delattr(obj, name)
    assert tiny.clock_ghz == 1.0 and tiny.tile.dimc.rows == 64


@pytest.mark.parametrize("path, match", [
    ("tile.sram.capacty_bytes", "'capacty_bytes' is not a field of tile.sram; fields: capacity_bytes"),
    ("tiles", "'tiles' is not a field of the device; fields: name, description"),
    ("clock_ghz.x", "clock_ghz is a value, not a table"),
    ("chiplet.phy_tiles.5", "'5' is not an index of chiplet.phy_tiles \\(indices 0..1\\)"),
    ("chiplets.links.0", "an empty list"),
    ("", "must be a dotted field path")])
def test_replace_unknown_paths(tiny, path, match):
    with pytest.raises(ConfigError, match=match):
        tiny.replace(path, 1)


def test_replace_keeps_sources_and_marks_the_change():
    dev = Device.preset("corsair")
    new = dev.replace("tile.sram.capacity_bytes", 2 << 20)
    assert new.sources["tile.sram.capacity_bytes"] == "A: set by Device.replace"
    assert new.sources["clock_ghz"] == dev.sources["clock_ghz"]
    with pytest.raises(TypeError):
        dev.sources["clock_ghz"] = "A: changed"                            # read-only mapping


@pytest.mark.parametrize("name", Device.presets())
def test_to_dict_round_trips_through_toml(name, tmp_path):
    dev = Device.preset(name)
    data = dev.to_dict()
    json.dumps(data)                                                       # JSON-serialisable
    assert Device.from_dict(data) == dev and hash(Device.from_dict(data)) == hash(dev)
    path = tmp_path / f"{name}.toml"
    path.write_text(toml_text({**data, "sources": dict(dev.sources)}), encoding="utf-8")
    back = Device.from_toml(path)
    assert back == dev and back.to_dict() == data and dict(back.sources) == dict(dev.sources)
    assert back.engine_params() == dev.engine_params()


def test_engine_params_keys_are_the_c_struct_fields():
    fields = list(dict(ffi.typeof("chipemu_device_params").fields))
    link_fields = list(dict(ffi.typeof("chipemu_link").fields))
    for name in Device.presets():
        params = Device.preset(name).engine_params()
        assert list(params) == fields, name
        assert all(list(k) == link_fields for k in params["links"])
        assert params["n_links"] == len(params["links"])
        assert len(params["vec_cycles"]) == len(params["fj_vec_op"]) == lib.CHIPEMU_VOP_COUNT
        assert len(params["fj_mac"]) == lib.CHIPEMU_NUM_FORMATS
        assert params["version"] == lib.CHIPEMU_ENGINE_PARAMS_VERSION
        _fill_c_struct(params)          # every value fits its C type


def _fill_c_struct(params):
    """Assign every value into a real chipemu_device_params (cffi range-checks integers)."""
    p = ffi.new("chipemu_device_params *")
    keep = []
    for key, value in params.items():
        if key == "links":
            arr = ffi.new("chipemu_link[]", max(1, len(value)))
            for i, link in enumerate(value):
                for f, v in link.items():
                    setattr(arr[i], f, v)
            keep.append(arr)
            p.links = arr
        elif key == "dram_channel_tile":
            arr = ffi.new("uint32_t[]", value)
            keep.append(arr)
            p.dram_channel_tile = arr
        elif isinstance(value, list):
            getattr(p, key)[0:len(value)] = value
        else:
            assert isinstance(value, float) if key == "clock_ghz" else type(value) is int, key
            setattr(p, key, value)
    return p, keep


def test_engine_params_values_for_tiny(tiny):
    p = tiny.engine_params()
    assert p["n_chiplets"] == 4 and (p["tile_rows"], p["tile_cols"]) == (2, 2)
    assert p["vec_cycles"] == [1, 1, 1, 1, 4, 4, 4, 1, 1, 1]
    for op in VEC_OPS:                                    # list order = CHIPEMU_VOP_* codes
        code = getattr(lib, f"CHIPEMU_VOP_{op.upper()}")
        assert p["vec_cycles"][code] == tiny.tile.vector.cycles[op]
    assert p["fj_mac"][lib.CHIPEMU_FMT_MXINT8] == 40 and p["fj_mac"][lib.CHIPEMU_FMT_MXINT4] == 20
    assert p["fj_mac"][lib.CHIPEMU_FMT_FP32] == 0 and p["fj_mac"][lib.CHIPEMU_FMT_MXFP8_E4M3] == 0
    assert sum(p["fj_mac"]) == 40 * 3 + 20 * 2 and len(p["fj_mac"]) == len(FORMATS)
    assert p["fj_sram_read_bit"] == 100 and p["fj_dram_bit"] == 10_000 and p["fj_host_bit"] == 5000
    assert p["fj_dimc_row_write"] == 10_000 and p["fj_noc_bit_hop"] == 100
    assert (p["static_uw_tile"], p["static_uw_chiplet"], p["static_uw_card"]) == (10_000, 100_000, 10**6)
    assert p["links"][1] == {"a": 0, "b": 2, "phy_a": 2, "phy_b": 1, "bytes_per_cycle": 16,
                             "latency_cycles": 10, "fj_per_bit": 1000}
    assert p["dram_channel_tile"] == [0] and p["dimc_write_overlaps_compute"] == 0


def test_engine_energies_round_half_even(tiny):
    def fj(path, value, key):
        return tiny.replace(path, value).engine_params()[key]
    assert fj("tile.sram.read_pj_per_bit", 0.0125, "fj_sram_read_bit") == 12
    assert fj("tile.sram.read_pj_per_bit", 0.0135, "fj_sram_read_bit") == 14
    assert fj("tile.sram.read_pj_per_bit", 0.0126, "fj_sram_read_bit") == 13
    assert fj("power.static_tile_w", 2.5e-6, "static_uw_tile") == 2
    assert fj("power.overhead_fj_per_mac", 3.5, "fj_overhead_per_mac") == 4
    assert fj("tile.dimc.fj_per_mac.mxint8", 0.5, "fj_mac")[lib.CHIPEMU_FMT_MXINT8] == 0


def test_site_defaults_and_conversions():
    site = Site()
    assert (site.grid_gco2e_per_kwh, site.pue) == (367.0, 1.58)
    assert site.water_label.startswith("A:")
    assert math.isclose(site.co2e_g(3.6e6), 367.0 * 1.58)                 # 1 kWh at the device
    assert math.isclose(site.facility_kwh(3.6e6), 1.58)
    assert math.isclose(site.water_l(3.6e6), site.water_l_per_kwh)
    assert Site(grid_gco2e_per_kwh=50.0, pue=1.1).co2e_g(3.6e6) == pytest.approx(55.0)
    with pytest.raises(ConfigError, match=r"pue=0.5: must be greater than or equal to 1"):
        Site(pue=0.5)
    with pytest.raises(ConfigError, match="water: unknown field; allowed: grid_gco2e_per_kwh"):
        Site(water=1.0)
