"""The device limits (chipemu.emulator.tables.limits) are one table, enforced identically by every
layer: a value at a bound is accepted by Device (pydantic), Machine (runtime), simulate (the engine
wrapper) and chipemu_engine_check_params (C); one past it is rejected by all four, the Python ones
with a ConfigError naming the field."""
import subprocess
import sys

import pytest

from chipemu.emulator import ConfigError, Device
from chipemu.emulator.engine.core import _params_struct, resource_table, simulate
from chipemu.emulator.events import EventLog
from chipemu.emulator.native import ffi, lib
from chipemu.emulator.runtime.machine import Machine
from chipemu.emulator.tables import ids, limits
from chipemu.emulator.tables.limits import LIMIT


def _dram(n):
    return {"chiplet.dram.channels": n, "chiplet.dram.channel_tiles": [0] * n}


def _chiplets(n):                  # a 1 x n row of chiplets (4097 is prime)
    return {"chiplets.rows": 1, "chiplets.cols": n}


# limit -> the Device changes that set its quantity to v
CHANGES = {
    "dimc_engines": lambda v: {"tile.dimc.mvm_engines": v},
    "dimc_slots": lambda v: {"tile.dimc.weight_slots": v},
    "dimc_rows": lambda v: {"tile.dimc.rows": v},
    "dimc_cols": lambda v: {"tile.dimc.cols": v},
    "dimc_cell_bits": lambda v: {"tile.dimc.cell_bits": v},
    "dram_channels": _dram,
    "n_chiplets": _chiplets,
}
# the lowest value is also a valid device for these (the others break another rule there, e.g.
# 4-bit cells cannot hold int8 weights); below the lowest is rejected for all
LOWEST_OK = {"dimc_engines", "dimc_slots", "dimc_cols", "n_chiplets", "dram_channels"}


@pytest.fixture(scope="module")
def tiny():
    return Device.preset("tiny")


def _device_error(tiny, changes):
    try:
        tiny.replace(changes)
    except ConfigError as err:
        return str(err)
    return None


def _errors(params):
    """What the runtime and the engine say about params: None (accepted) or the message. The
    engine is asked through resource_table, which validates exactly as simulate does (wrapper,
    then C) without running a log: building a 4096-chiplet device's routes takes seconds."""
    out = {}
    try:
        Machine(params, mode="timing")
        out["machine"] = None
    except ConfigError as err:
        out["machine"] = str(err)
    try:
        resource_table(params)
        out["engine"] = None
    except ConfigError as err:
        out["engine"] = str(err)
    return out


def _c_rejects(good_params, name, value):
    """chipemu_engine_check_params on good params with `name` set to value: the field it names."""
    p, keep = _params_struct(good_params)
    setattr(p, name, value)
    err = ffi.new("chipemu_engine_error *")
    st = lib.chipemu_engine_check_params(p, err)
    del keep
    fields = dict(ffi.typeof("chipemu_device_params").fields)
    return None if st == lib.CHIPEMU_OK else [n for n, f in fields.items() if f.offset == err.field]


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_every_layer_accepts_the_bounds_and_rejects_one_past(tiny, name):
    lim = LIMIT[name]
    edges = [("highest", lim.highest, True), ("above", lim.highest + 1, False),
             ("below", lim.lowest - 1, False)]
    if name in LOWEST_OK:
        edges.append(("lowest", lim.lowest, True))
    for edge, v, ok in edges:
        if v < 0:
            continue                                    # an unsigned field cannot go below 0
        dev_err = _device_error(tiny, CHANGES[name](v))
        if ok:
            assert dev_err is None, (name, edge, dev_err)
            params = tiny.replace(CHANGES[name](v)).engine_params()
            assert _errors(params) == {"machine": None, "engine": None}, (name, edge)
            assert _c_rejects(params, name, v) is None
            continue
        assert dev_err is not None and (lim.device or "chiplets.") in dev_err, (name, edge, dev_err)
        params = tiny.engine_params()
        params[name] = v
        for layer, msg in _errors(params).items():
            assert msg is not None and name in msg, (name, edge, layer, msg)
        assert _c_rejects(tiny.engine_params(), name, v) == [name], (name, edge)


def test_dimc_engines_255_ok_256_rejected_by_all_three(tiny):
    """The case the layers used to disagree on (the engine accepted 256 engines)."""
    params = tiny.replace("tile.dimc.mvm_engines", 255).engine_params()
    assert Machine(params, mode="timing").engines == 255
    assert simulate(EventLog(), params).makespan_cycles == 0
    with pytest.raises(ConfigError, match=r"tile\.dimc\.mvm_engines=256: .* 255 \(an engine is"):
        tiny.replace("tile.dimc.mvm_engines", 256)
    params["dimc_engines"] = 256
    with pytest.raises(ConfigError, match=r"dimc_engines'\]=256 is out of range; allowed: 1 <= "
                                          r"dimc_engines <= 255"):
        Machine(params, mode="timing")
    with pytest.raises(ConfigError, match=r"dimc_engines = 256 is out of range; allowed: 1 <= "
                                          r"dimc_engines <= 255"):
        simulate(EventLog(), params)


def test_tile_count_limit_is_the_same_everywhere(tiny):
    """n_tiles is a product: each layer checks it, per chiplet and in all (one past: rejected)."""
    top = LIMIT["n_tiles"].highest
    changes = {"chiplets.rows": 1, "chiplets.cols": 1, "chiplet.tile_rows": 2,
               "chiplet.tile_cols": top // 2 + 1}
    with pytest.raises(ConfigError, match=r"chiplet\.tile_rows x chiplet\.tile_cols=16777218"):
        tiny.replace(changes)
    params = tiny.engine_params()
    params.update(tile_rows=2, tile_cols=top // 2 + 1)
    for layer, msg in _errors(params).items():
        assert msg is not None and "tile_rows x tile_cols = 16777218" in msg, (layer, msg)
    one = tiny.replace({"chiplets.rows": 1, "chiplets.cols": 1}).engine_params() | {"tile_rows": 1}
    assert _c_rejects(one, "tile_cols", top + 1) == ["tile_cols"]


def test_generated_c_limits_equal_the_table():
    for lim in limits.LIMITS:
        key = f"CHIPEMU_LIMIT_{lim.name.upper()}"
        if isinstance(lim.lowest, float):           # float bounds: millionths (engine.c divides)
            got = (getattr(lib, key + "_MIN_E6") / 1e6, getattr(lib, key + "_MAX_E6") / 1e6)
        else:
            got = (getattr(lib, key + "_MIN"), getattr(lib, key + "_MAX"))
        assert got == (lim.lowest, lim.highest)
    assert [getattr(lib, f"CHIPEMU_TOO_LARGE_{n.upper()}") for n in limits.TOO_LARGE] == \
        list(range(len(limits.TOO_LARGE)))
    assert lib.CHIPEMU_DIMC_MIN_ELEM_BITS == LIMIT["dimc_cell_bits"].lowest


def test_id_tables_are_consistent():
    """Each table: distinct names and values; <prefix>COUNT above every value."""
    for t in ids.TABLES:
        names, values = [i.name for i in t.ids], [i.value for i in t.ids]
        assert len(set(names)) == len(names), t.prefix
        assert t is ids.VERSIONS or len(set(values)) == len(values), t.prefix
        if t.count_value is not None:
            assert t.count_value > max(values), t.prefix
            assert getattr(lib, t.prefix + "COUNT", t.count_value) == t.count_value
    assert ids.intrinsic_names()[ids.IN["vec"] + ids.VOPS["convert"]] == "vec_convert"


def test_tables_import_neither_numba_nor_the_native_module():
    code = ("import sys, chipemu.emulator.tables.ids, chipemu.emulator.tables.event, "
            "chipemu.emulator.tables.limits, chipemu.emulator.tables.formats; "
            "print([m for m in sys.modules if m.split('.')[0] == 'numba' or m.endswith('_native')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr


# ---- issue 11: the energy, power, clock and vector rows; check_params answers as Device does --------

ENGINE_ROWS = {        # limit -> the Device path holding it (a table: one of its entries)
    "clock_ghz": "clock_ghz", "vec_cycles": "tile.vector.cycles.exp",
    "fj_mac": "tile.dimc.fj_per_mac.mxint8", "fj_overhead_per_mac": "power.overhead_fj_per_mac",
    "fj_dimc_row_write": "tile.dimc.write_pj_per_row", "fj_sram_read_bit": "tile.sram.read_pj_per_bit",
    "fj_sram_write_bit": "tile.sram.write_pj_per_bit", "fj_noc_bit_hop": "chiplet.noc.pj_per_bit_hop",
    "fj_dram_bit": "chiplet.dram.pj_per_bit", "fj_host_bit": "host.pj_per_bit",
    "fj_vec_op": "tile.vector.pj_per_element.exp", "fj_link_bit": "chiplets.link.pj_per_bit",
    "static_uw_card": "power.static_card_w",
}


def _device_value(lim, v):
    """The Device field value whose C value is v."""
    return v if lim.scale is None or isinstance(lim.lowest, float) else v / 10**lim.scale


def _c_status(params):
    p, keep = _params_struct(params) if isinstance(params, dict) else (params, None)
    err = ffi.new("chipemu_engine_error *")
    st = lib.chipemu_engine_check_params(p, err)
    fields = dict(ffi.typeof("chipemu_device_params").fields)
    return st, [n for n, f in fields.items() if f.offset == err.field], err


@pytest.mark.parametrize("name", sorted(ENGINE_ROWS))
def test_engine_rows_bound_device_wrapper_and_c_alike(tiny, name):
    lim, path = LIMIT[name], ENGINE_ROWS[name]
    tiny = tiny.replace({"power.static_tile_w": 0.0, "power.static_chiplet_w": 0.0})  # card alone
    top = tiny.replace(path, _device_value(lim, lim.highest))      # the bound: accepted by all
    assert _c_status(top.engine_params())[0] == lib.CHIPEMU_OK
    assert simulate(EventLog(), top.engine_params()).energy_fj == 0
    past = lim.highest * 1.000001 if isinstance(lim.highest, float) else lim.highest + 1
    with pytest.raises(ConfigError, match=path.replace(".", r"\.") + "="):
        tiny.replace(path, _device_value(lim, past))
    # the same value past the bound in the engine params: the wrapper and C refuse it by name
    p, keep = _params_struct(top.engine_params())
    if name == "fj_link_bit":
        p.links[0].fj_per_bit = past
        st, _, err = _c_status(p)
        assert st == lib.CHIPEMU_ERR_PARAMS and err.code == lib.CHIPEMU_EE_LINK
        return
    target = getattr(p, name)
    if isinstance(target, (int, float)):
        setattr(p, name, past)
    else:
        target[0] = past
    st, fields, _ = _c_status(p)
    assert st == lib.CHIPEMU_ERR_PARAMS and fields == [name], (name, fields)
    params = top.engine_params()
    params[name] = [past] * len(params[name]) if isinstance(params[name], list) else past
    with pytest.raises(ConfigError, match=name):
        simulate(EventLog(), params)


@pytest.mark.parametrize("what", ["vec_cycles 0", "sram_capacity_bytes 0", "cell_bits 3",
                                  "cell_bits 6", "cols x cell_bits odd", "disconnected",
                                  "static power total", "clock below"])
def test_check_params_rejects_what_device_rejects(tiny, what):
    """The issue: chipemu_engine_check_params accepted disconnected links, vec_cycles 0, cell_bits
    3 and sram_capacity_bytes 0, which Device rejects. dram_channels 0 (a device without DRAM) is
    accepted by both."""
    device_change, set_c = {
        "vec_cycles 0": ({"tile.vector.cycles.exp": 0}, lambda p: p.vec_cycles.__setitem__(4, 0)),
        "sram_capacity_bytes 0": ({"tile.sram.capacity_bytes": 0},
                                  lambda p: setattr(p, "sram_capacity_bytes", 0)),
        "cell_bits 3": ({"tile.dimc.cell_bits": 3}, lambda p: setattr(p, "dimc_cell_bits", 3)),
        "cell_bits 6": ({"tile.dimc.cell_bits": 6}, lambda p: setattr(p, "dimc_cell_bits", 6)),
        "cols x cell_bits odd": ({"tile.dimc.cols": 63, "tile.dimc.cell_bits": 4,
                                  "tile.dimc.formats": ["mxint4"], "tile.dimc.fj_per_mac": {"mxint4": 1.0}},
                                 lambda p: (setattr(p, "dimc_cols", 63), setattr(p, "dimc_cell_bits", 4))),
        "disconnected": ({"chiplets.topology": "links", "chiplets.links": [{"a": 0, "b": 1}]},
                         lambda p: setattr(p, "n_links", 1)),
        "static power total": ({"power.static_tile_w": 700.0},
                               lambda p: setattr(p, "static_uw_tile", 700 * 10**6)),
        "clock below": ({"clock_ghz": 0.000999}, lambda p: setattr(p, "clock_ghz", 0.000999)),
    }[what]
    with pytest.raises(ConfigError):
        tiny.replace(device_change)
    p, keep = _params_struct(tiny.engine_params())
    set_c(p)
    assert _c_status(p)[0] == lib.CHIPEMU_ERR_PARAMS, what
    no_dram = tiny.replace({"chiplet.dram.channels": 0, "chiplet.dram.channel_tiles": []})
    assert _c_status(no_dram.engine_params())[0] == lib.CHIPEMU_OK


def test_presets_pass_every_check(tiny):
    for name in Device.presets():
        assert _c_status(Device.preset(name).engine_params())[0] == lib.CHIPEMU_OK, name
