"""The event-log dtypes mirror the C structs byte for byte."""
import numpy as np

from chipemu.emulator import events
from chipemu.emulator.native import ffi, lib


def _check_mirror(dtype, ctype):
    fields = dict(ffi.typeof(ctype).fields)
    assert dtype.itemsize == ffi.sizeof(ctype) and list(dtype.names) == list(fields)
    for name in dtype.names:
        assert dtype.fields[name][1] == fields[name].offset, name
        assert dtype.fields[name][0].itemsize == ffi.sizeof(fields[name].type), name


def test_event_dtype_matches_the_c_struct():
    _check_mirror(events.EVENT_DTYPE, "chipemu_event")
    _check_mirror(events.RANGE_DTYPE, "chipemu_range")
    assert lib.chipemu_event_size() == events.EVENT_DTYPE.itemsize == 68
    assert lib.chipemu_event_schema_version() == lib.CHIPEMU_EVENT_SCHEMA_VERSION == events.SCHEMA_VERSION


def test_buffer_dtype_matches_the_c_struct():
    _check_mirror(events.BUFFER_DTYPE, "chipemu_buffer")


def test_codes_match_the_header():
    for name, code in events.OPS.items():
        assert getattr(lib, f"CHIPEMU_OP_{name.upper()}") == code
    for name, code in events.VOPS.items():
        assert getattr(lib, f"CHIPEMU_VOP_{name.upper()}") == code
    for name, code in events.UNITS.items():
        assert getattr(lib, f"CHIPEMU_UNIT_{name.upper()}") == code
    assert lib.CHIPEMU_NO_BUF == events.NO_BUF and lib.CHIPEMU_FLAG_ACCUMULATE == events.FLAG_ACCUMULATE
    assert lib.CHIPEMU_FLAG_ROW_BROADCAST == events.FLAG_ROW_BROADCAST
    assert lib.CHIPEMU_FLAG_DOT == events.FLAG_DOT
    assert (lib.CHIPEMU_BUF_SRAM, lib.CHIPEMU_BUF_DRAM, lib.CHIPEMU_BUF_HOST) == (
        events.BUF_SRAM, events.BUF_DRAM, events.BUF_HOST)


def test_log_equality_and_counts():
    ev = np.zeros(3, events.EVENT_DTYPE)
    ev["op"] = [events.OPS["send"], events.OPS["send"], events.OPS["barrier"]]
    log = events.EventLog(ev)
    assert log.op_counts() == {"send": 2, "barrier": 1} and len(log) == 3
    other = events.EventLog(ev.copy())
    assert log.equals(other)
    other.events["a"][0] = 1
    assert not log.equals(other)
