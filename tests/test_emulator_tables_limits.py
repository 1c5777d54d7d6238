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
        assert (getattr(lib, key + "_MIN"), getattr(lib, key + "_MAX")) == (lim.lowest, lim.highest)
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
