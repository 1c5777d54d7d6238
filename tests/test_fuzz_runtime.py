"""Fuzzing the runtime's public surface: Machine construction, buffer allocation, host-side
write / read on random sequences (checked against a model of the bytes: a failed call changes
nothing), and set_budget / budget with hostile limits."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from chipemu.emulator import Device, Machine, budget, set_budget
from chipemu.emulator.errors import ChipemuError
from chipemu.emulator.runtime.budget import current

from fuzz_strategies import (NOT_NUMBERS, examples, expect, guarded, hostile_choice, hostile_int)

TINY = Device.preset("tiny")
N_TILES = TINY.n_tiles

OPS = st.one_of(
    st.tuples(st.just("alloc_sram"), hostile_int(1, 4096)),
    st.tuples(st.just("alloc_dram"), hostile_int(1, 4096), hostile_int(0, 3)),
    st.tuples(st.just("alloc_host"), st.integers(1, 512)),
    st.tuples(st.just("write"), st.integers(0, 7), st.one_of(st.integers(-2, 600), NOT_NUMBERS),
              st.integers(0, 300), st.one_of(st.integers(-1, N_TILES), st.just(None),
                                             st.just([0, 1]), st.just("0"))),
    st.tuples(st.just("read"), st.integers(0, 7), st.one_of(st.integers(-2, 600), NOT_NUMBERS),
              st.one_of(st.integers(-1, 600), st.just(None)),
              st.one_of(st.integers(-1, N_TILES), st.just(None), st.just([0, 1]))))


class Model:
    """The bytes each buffer should hold: {(buf, tile or None): bytearray}."""

    def __init__(self):
        self.kind, self.size, self.data = [], [], {}

    def add(self, kind, size, fill=None):
        b = len(self.kind)
        self.kind.append(kind)
        self.size.append(size)
        for t in (range(N_TILES) if kind == "sram" else [None]):
            self.data[(b, t)] = bytearray(fill if fill is not None else bytes(size))
        return b


def _apply(m, model, op):
    """Run one op on the Machine; on success update the model; return (name of op, error)."""
    kind = op[0]
    if kind == "alloc_sram":
        b = m.alloc_sram(f"s{len(model.kind)}", op[1])
        assert b == model.add("sram", op[1])
    elif kind == "alloc_dram":
        b = m.alloc_dram(f"d{len(model.kind)}", op[1], channel=op[2])
        assert b == model.add("dram", op[1])
    elif kind == "alloc_host":
        data = np.arange(op[1], dtype=np.uint8)
        b = m.alloc_host(f"h{len(model.kind)}", data)
        assert b == model.add("host", op[1], data.tobytes())
    elif kind == "write":
        _, buf, offset, n, tile = op
        data = (np.arange(n, dtype=np.uint32) * 7 % 251).astype(np.uint8)
        m.write(buf, data, tile=tile, offset=offset)
        tiles = [None] if model.kind[buf] != "sram" else ([tile] if isinstance(tile, int) else tile)
        for t in tiles:
            model.data[(buf, t)][offset:offset + n] = data.tobytes()
    else:
        _, buf, offset, n, tile = op
        got = m.read(buf, tile=tile, offset=offset, nbytes=n)
        want = model.data[(buf, tile if model.kind[buf] == "sram" else None)]
        want = want[offset:] if n is None else want[offset:offset + n]
        assert got.tobytes() == bytes(want), f"read {op} differs from what was written"


NAMES = {"alloc_sram": ("nbytes", "SRAM"), "alloc_dram": ("nbytes", "channel"),
         "alloc_host": ("nbytes",), "write": ("buf", "range", "tile", "offset", "data"),
         "read": ("buf", "range", "tile", "offset", "nbytes", "read")}


@examples(60)
@given(st.lists(OPS, min_size=1, max_size=12))
def test_machine_buffers_hold_what_was_written(ops):
    def body():
        m, model = Machine(TINY), Model()
        for op in ops:
            before = {k: bytes(v) for k, v in model.data.items()}
            try:
                _apply(m, model, op)
            except ChipemuError as exc:
                assert any(n in str(exc) for n in NAMES[op[0]]), f"{op}: {exc} names no argument"
                assert {k: bytes(v) for k, v in model.data.items()} == before
                for (b, t), v in model.data.items():      # the machine holds the model's bytes
                    got = m.read(b, tile=t)
                    assert got.tobytes() == bytes(v), f"after failed {op}: buffer {b} changed"
        return True

    expect(guarded(body), what=f"ops {ops}")


@examples(30)
@given(st.sampled_from(["mode", "backend", "threads", "params"]),
       st.one_of(hostile_choice(["functional", "timing", "c", "numba"]), hostile_int(1, 8)))
def test_machine_arguments_are_named(name, value):
    kw = {"params": TINY, name: value}

    def body():
        m = Machine(kw.pop("params"), **kw)
        return m.mode

    expect(guarded(body), names=(name, "params", "engine_params"), what=f"Machine({name}={value!r})")


@examples(30)
@given(st.sampled_from(["max_events", "max_host_bytes"]), hostile_int(0, 2**40))
def test_budget_limits_are_named(name, value):
    def body():
        before = current()
        try:
            with budget(**{name: value}):      # None keeps the limit as it is
                want = getattr(before, name) if value is None else value
                assert getattr(current(), name) == want and type(value) is not bool
        finally:
            assert current() == before, "budget() did not restore the limits"
        prev = set_budget(**{name: value})
        set_budget(max_events=prev.max_events, max_host_bytes=prev.max_host_bytes)
        return True

    expect(guarded(body), names=(name,), what=f"budget({name}={value!r})")
