"""Hostile and careless inputs to the Machine's public methods (runtime/machine.py, state.py,
access.py): each is a named ChipemuError raised before any state changes, and the next good call
gives what a fresh machine gives. Also the Device's DRAM capacity (issue 11)."""
import numpy as np
import pytest

from chipemu.emulator import Device
from chipemu.emulator.errors import (BackendError, CapacityError, ChipemuError, ConfigError,
                                     ShapeError)
from chipemu.emulator.runtime.budget import budget
from chipemu.emulator.runtime.machine import Machine, TileKernel
from testkernels import tile as T
from runtime_helpers import Prog, log_bytes, machine, state_bytes

TINY = Device.preset("tiny")             # 1 MiB per DRAM channel, 4 channels


def _snapshot(m):
    st = m.state
    return (log_bytes(m), state_bytes(m), m.step, st.sram_bytes_used, list(st._chan_used),
            st._dram_used, st._host_used, st._host.tobytes(), len(st.buffers),
            st._bufs.tobytes())


def _setup(m):
    s, d = m.alloc_sram("s", 64), m.alloc_dram("d", 64)
    h = m.alloc_host("h", np.arange(16, dtype=np.uint8))
    m.launch(T.PROGRAM, range(16), Prog().vec("copy", s, 0, s, 32, 1).params(), events_per_tile=1)
    return s, d, h


HOSTILE = [
    (lambda m, s, d, h: m.alloc_sram("x", 0), ShapeError, r"nbytes=0 is out of range"),
    (lambda m, s, d, h: m.alloc_sram("x", True), ShapeError, r"nbytes=True \(bool\)"),
    (lambda m, s, d, h: m.alloc_sram("x", 64.0), ShapeError, r"nbytes=64.0 \(float\)"),
    (lambda m, s, d, h: m.alloc_sram("x", "64"), ShapeError, r"nbytes='64' \(str\)"),
    (lambda m, s, d, h: m.alloc_sram("x", 2**40), ShapeError, r"nbytes=1099511627776 is out of range"),
    (lambda m, s, d, h: m.alloc_sram("x", 1 << 20), CapacityError, r"beyond sram_capacity_bytes"),
    (lambda m, s, d, h: m.alloc_sram(5, 64), ShapeError, r"buffer name must be a non-empty string"),
    (lambda m, s, d, h: m.alloc_sram("", 1 << 20), ShapeError, r"buffer name"),
    (lambda m, s, d, h: m.alloc_dram("x", 2 << 20), CapacityError,
     r"DRAM buffer 'x' of 2097152 bytes on channel 0 .* beyond the channel's 1048576 bytes"),
    (lambda m, s, d, h: m.alloc_dram("x", 64, channel=True), ShapeError, r"channel=True \(bool\)"),
    (lambda m, s, d, h: m.alloc_dram("x", 64, channel=1.0), ShapeError, r"channel=1.0 \(float\)"),
    (lambda m, s, d, h: m.alloc_dram(None, 64), ShapeError, r"buffer name"),
    (lambda m, s, d, h: m.alloc_host("x", "abc"), ShapeError, r"data='abc' is a str"),
    (lambda m, s, d, h: m.alloc_host("x", np.array([object()])), ShapeError, r"dtype object"),
    (lambda m, s, d, h: m.alloc_host("x", b"abc", nbytes=3), ShapeError, r"give data or nbytes=, not both"),
    (lambda m, s, d, h: m.alloc_host("x", b""), ShapeError, r"bytes of data=0 is out of range"),
    (lambda m, s, d, h: m.alloc_host("x", [b"ab", "cd"]), ShapeError, r"is a str"),
    (lambda m, s, d, h: m.alloc_host(1, b"ab"), ShapeError, r"buffer name"),
    (lambda m, s, d, h: m.reserve_sram(True), ShapeError, r"nbytes=True"),
    (lambda m, s, d, h: m.write(s, b"ab", tile=True), ShapeError, r"tile=True \(bool\)"),
    (lambda m, s, d, h: m.write(s, b"ab", tile=[0, 99]), ShapeError, r"tile=99 is out of range"),
    (lambda m, s, d, h: m.write(s, b"ab", tile=0, offset=1.5), ShapeError, r"offset=1.5 \(float\)"),
    (lambda m, s, d, h: m.write(s, b"ab", tile=0, offset=-1), ShapeError, r"offset=-1 is out of range"),
    (lambda m, s, d, h: m.write(s, "ab", tile=0), ShapeError, r"data='ab' is a str"),
    (lambda m, s, d, h: m.write(s, b"a", tile=[]), ShapeError, r"name at least one tile"),
    (lambda m, s, d, h: m.write(True, b"a", tile=0), ShapeError, r"buf=True \(bool\)"),
    (lambda m, s, d, h: m.read(s, tile=0, nbytes=1.5), ShapeError, r"nbytes=1.5 \(float\)"),
    (lambda m, s, d, h: m.read(s, tile=0, nbytes=3, dtype=np.float32), ShapeError,
     r"dtype=float32 cannot view 3 bytes"),
    (lambda m, s, d, h: m.read(s, tile=0, dtype="bogus"), ShapeError, r"dtype='bogus' is not a NumPy dtype"),
    (lambda m, s, d, h: m.read(s, tile=[0, 1]), ShapeError, r"read needs one tile id"),
    (lambda m, s, d, h: m.read(s, tile=0, offset=65), ShapeError, r"offset=65 is out of range"),
    (lambda m, s, d, h: m.dimc_state(True, 0), ShapeError, r"tile=True \(bool\)"),
    (lambda m, s, d, h: m.dimc_state(0, 1.0), ShapeError, r"slot=1.0 \(float\)"),
    (lambda m, s, d, h: m.dimc_state(0, 2), ShapeError, r"slot=2 is out of range"),
    (lambda m, s, d, h: m.corrupt_weight(0, 0, 0, 0, 1), ChipemuError, r"holds no weights"),
    (lambda m, s, d, h: m.launch(T.PROGRAM, [0], [1.5], events_per_tile=1), ShapeError,
     r"params must be integers \(int64\), got dtype float64"),
    (lambda m, s, d, h: m.launch(T.PROGRAM, [0], ["5"], events_per_tile=1), ShapeError, r"params must be integers"),
    (lambda m, s, d, h: m.launch(T.PROGRAM, [0], [True], events_per_tile=1), ShapeError, r"params must be integers"),
    (lambda m, s, d, h: m.launch(T.PROGRAM, [0], [2**70], events_per_tile=1), ShapeError, r"params must be integers"),
    (lambda m, s, d, h: m.launch(T.PROGRAM, [0], [[1, 2], [3]], events_per_tile=1), ShapeError, r"params must be"),
    (lambda m, s, d, h: m.launch(T.PROGRAM, [0], events_per_tile=True), ShapeError, r"events_per_tile=True \(bool\)"),
    (lambda m, s, d, h: m.launch(T.PROGRAM, [0], events_per_tile=1.0), ShapeError, r"events_per_tile=1.0"),
    (lambda m, s, d, h: m.launch(T.PROGRAM, range(16), events_per_tile=10**12), CapacityError,
     r"superstep 1 \(kernel 'test_program', 16 tiles x events_per_tile=1000000000000.*bytes on the host"),
    (lambda m, s, d, h: m.launch(T.PROGRAM, [0], events_per_tile=1, peers_per_tile=-1), ShapeError, r"peers_per_tile=-1"),
    (lambda m, s, d, h: m.launch(T.PROGRAM, [0], events_per_tile=1, stage_bytes_per_tile=10**15),
     CapacityError, r"stage_bytes_per_tile=1000000000000000"),
    (lambda m, s, d, h: m.launch(T.PROGRAM, [True, False], events_per_tile=1), ShapeError, r"integer tile ids"),
    (lambda m, s, d, h: m.launch(T.PROGRAM, None, events_per_tile=1), ShapeError, r"tiles must be a sequence"),
]


@pytest.mark.parametrize("k", range(len(HOSTILE)))
def test_hostile_calls_are_named_errors_that_change_nothing(k):
    call, cls, match = HOSTILE[k]
    m = Machine(TINY)
    bufs = _setup(m)
    before = _snapshot(m)
    with pytest.raises(cls, match=match):
        call(m, *bufs)
    assert _snapshot(m) == before
    # the next good call gives what it gives on a machine that never saw the bad one
    fresh = Machine(TINY)
    _setup(fresh)
    for mm in (m, fresh):
        x = mm.alloc_dram("next", 128, channel=1)
        mm.launch(T.PROGRAM, [3], Prog().vec("copy", 0, 0, 0, 32, 1).params(), events_per_tile=1)
    assert _snapshot(m) == _snapshot(fresh) and x == len(m.buffers) - 1


@pytest.mark.parametrize("mode", ["functional", "timing"])
def test_dram_capacity_of_the_device_is_enforced(mode):
    m = Machine(TINY, mode=mode)
    m.alloc_dram("a", 1 << 19, channel=2)
    with pytest.raises(CapacityError, match=r"DRAM buffer 'b' of 524352 bytes on channel 2 \(at "
                                            r"offset 524288, .* needs 1048640 bytes, beyond the "
                                            r"channel's 1048576 bytes"):
        m.alloc_dram("b", (1 << 19) + 64, channel=2)
    assert len(m.buffers) == 1 and m.state._chan_used[2] == 1 << 19
    m.alloc_dram("b", 1 << 19, channel=2)                 # exactly fills the channel
    m.alloc_dram("c", 1 << 20, channel=3)                 # other channels are their own
    with pytest.raises(CapacityError):
        m.alloc_dram("d", 1, channel=2)
    # a params dict carries no capacity: then only an explicit one bounds DRAM
    Machine(TINY.engine_params()).alloc_dram("big", 4 << 20)
    with pytest.raises(CapacityError, match="beyond the channel's 4096 bytes"):
        Machine(TINY.engine_params(), dram_capacity_bytes=4096).alloc_dram("big", 4097)
    with pytest.raises(ConfigError, match=r"dram_capacity=0 is out of range"):
        Machine(TINY, dram_capacity_bytes=0)


@pytest.mark.parametrize("bad,cls,match", [
    (dict(threads=True), ConfigError, r"threads=True \(bool\)"),
    (dict(threads=0), ConfigError, r"threads=0 is out of range"),
    (dict(mode=None), ConfigError, r"mode=None is not allowed"),
    (dict(mode=["functional"]), ConfigError, r"mode=\['functional'\] is not allowed"),
    (dict(backend=1), BackendError, r"backend=1 is not allowed"),
])
def test_bad_machine_keywords(bad, cls, match):
    with pytest.raises(cls, match=match):
        Machine(TINY, **bad)


def test_bad_tile_kernels():
    with pytest.raises(ShapeError, match="TileKernel name=5"):
        TileKernel(5)
    with pytest.raises(BackendError, match="numba=5"):
        TileKernel("x", numba=5)
    with pytest.raises(BackendError, match="c=5"):
        TileKernel("x", c=5)


def test_functional_data_is_checked_against_the_host_budget():
    m = machine("c")
    with budget(max_host_bytes=1 << 20):
        with pytest.raises(CapacityError, match="host buffer 'h' would allocate about "
                                                "2,097,152 bytes on the host"):
            m.alloc_host("h", np.zeros(2 << 20, np.uint8))
        assert m.state._host_used == 0 and not m.buffers
        machine("c", "timing").alloc_host("h", nbytes=2 << 20)     # timing mode holds no data
