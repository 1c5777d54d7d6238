"""Fuzzing device configs: every numeric Device field at, inside and just past its bounds (and
values of the wrong type), alone or several at once. Each is either a ConfigError naming the
field, or a device on which small runs give sane figures (no negative or wrapped cycles or
energy; breakdowns sum to the total) and outputs equal to the reference. Raising an energy or
power figure never lowers the energy of a run and leaves its cycles alone."""
import math
import typing

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chipemu.emulator import ConfigError, Device
from chipemu.emulator.errors import ChipemuError
from chipemu.kernels import matmul, scale_rows
from chipemu.kernels.matmul.ref import matmul_reference
from chipemu.kernels.scale_rows.ref import scale_rows_reference

from fuzz_strategies import (BAD_FLOATS, NOT_NUMBERS, bits, check_result, edges, examples,
                             expect, guarded, hostile_choice)

TINY = Device.preset("tiny")


def _bounds(metadata):
    lo = hi = None
    lo_open = False
    for m in metadata:
        inner = getattr(m, "metadata", None)
        if inner is not None and not hasattr(m, "ge"):
            a, b, c = _bounds(inner)
            lo, hi, lo_open = (a if a is not None else lo), (b if b is not None else hi), c or lo_open
        if getattr(m, "ge", None) is not None:
            lo = m.ge
        if getattr(m, "gt", None) is not None:
            lo, lo_open = m.gt, True
        if getattr(m, "le", None) is not None:
            hi = m.le
    return lo, hi, lo_open


def _leaves(model, prefix="", sample=None):
    """(dotted path, int | float, lo, hi, lo_open) of every numeric leaf of the Device model,
    dict entries included (their keys from the tiny preset)."""
    out = []
    for name, f in model.model_fields.items():
        ann, path = f.annotation, prefix + name
        value = getattr(sample, name, None)
        if isinstance(ann, type) and hasattr(ann, "model_fields"):
            out += _leaves(ann, path + ".", value)
        elif ann in (int, float):
            out.append((path, ann, *_bounds(f.metadata)))
        elif typing.get_origin(ann) is dict and isinstance(value, dict):
            inner = typing.get_args(ann)[1]
            base = typing.get_args(inner)[0] if typing.get_origin(inner) is typing.Annotated else inner
            meta = typing.get_args(inner)[1:] if typing.get_origin(inner) is typing.Annotated else ()
            if base in (int, float):
                out += [(f"{path}.{k}", base, *_bounds(meta)) for k in value]
    return out


LEAVES = _leaves(Device, sample=TINY)
ENERGY_LEAVES = [leaf for leaf in LEAVES if leaf[1] is float and leaf[0] != "clock_ghz"]


def _value(kind, lo, hi, lo_open):
    """Values at and just past the bounds, inside them, and of the wrong type."""
    if kind is int:
        return st.one_of(edges(lo if lo is not None else -(2**63), hi if hi is not None else 2**64),
                         st.sampled_from([2**31, 2**32, 2**63, 10**20]), NOT_NUMBERS, BAD_FLOATS)
    lo_f = -1.0 if lo is None else float(lo)
    near = [lo_f, math.nextafter(lo_f, math.inf), math.nextafter(lo_f, -math.inf)]
    if hi is not None:
        near += [float(hi), math.nextafter(float(hi), math.inf)]
    return st.one_of(st.sampled_from(near + [1e-12, 1e-300, 1e6, 1e12, 1e14, 1e18, 1e300,
                                              1.7976931348623157e308]),
                     st.floats(lo_f, 1e15, allow_nan=False), BAD_FLOATS, NOT_NUMBERS,
                     st.integers(0, 10**6))


def _leaf_and_value():
    return st.sampled_from(LEAVES).flatmap(
        lambda leaf: st.tuples(st.just(leaf[0]), _value(*leaf[1:])))


def _paths(model, prefix=""):
    """Every dotted field path of the Device model, tables included."""
    out = []
    for name, f in model.model_fields.items():
        out.append(prefix + name)
        if isinstance(f.annotation, type) and hasattr(f.annotation, "model_fields"):
            out += _paths(f.annotation, prefix + name + ".")
    return out


PATHS = sorted(_paths(Device), key=len, reverse=True)


def _names_a_field(msg, changes):
    """The message names a changed path, or the field a cross-field check found broken by the
    change (e.g. chiplet.phy_tiles when the mesh shrinks), or a table whose derived total
    broke (e.g. "power=<static power ...>")."""
    if any(p in msg for p in changes):
        return True
    return any(f"{p}." in msg or f"{p}=" in msg or f"{p} " in msg for p in PATHS if "." in p) or \
        any(msg.startswith(f"{p}=") or f" {p}=" in msg for p in PATHS)


def _try_device(changes):
    """The device with `changes`, or None after checking the ConfigError names a field."""
    try:
        return TINY.replace(dict(changes))
    except ChipemuError as exc:
        assert isinstance(exc, ConfigError), f"replace({changes}) -> {type(exc).__name__}: {exc}"
        assert _names_a_field(str(exc), changes), \
            f"replace({changes}): the ConfigError names no field: {exc}"
        return None


def _small_runs(dev):
    r = matmul((4, 64), (64, 16), device=dev, mode="timing")
    check_result(r, "matmul timing")
    r = scale_rows((8, 16), (8,), device=dev, mode="timing")
    check_result(r, "scale_rows timing")
    return "ran"


@examples(120)
@given(_leaf_and_value())
def test_one_field_at_and_past_its_bounds(change):
    path, value = change

    def body():
        dev = _try_device({path: value})
        return "refused" if dev is None else _small_runs(dev)

    expect(guarded(body), what=f"{path}={value!r}")


GEOMETRY = {
    "chiplets.rows": st.integers(1, 3), "chiplets.cols": st.integers(1, 3),
    "chiplets.topology": st.sampled_from(["mesh", "ring", "all_to_all"]),
    "chiplet.tile_rows": st.integers(1, 3), "chiplet.tile_cols": st.integers(1, 3),
    "chiplet.phy_tiles": st.lists(st.integers(0, 4), min_size=0, max_size=3),
    "tile.dimc.rows": st.sampled_from([32, 64, 128, 256, 48]),
    "tile.dimc.cols": st.sampled_from([8, 16, 32, 64, 100, 128]),
    "tile.dimc.weight_slots": st.integers(1, 6), "tile.dimc.mvm_engines": st.integers(1, 4),
    "tile.dimc.cell_bits": st.sampled_from([4, 8, 16]),
    "tile.dimc.input_bits_per_cycle": st.sampled_from([1, 2, 8, 64]),
    "tile.sram.capacity_bytes": st.sampled_from([4096, 32768, 131072, 1 << 20]),
    "tile.sram.port_bytes_per_cycle": st.sampled_from([1, 7, 32, 4096]),
    "tile.vector.lanes": st.sampled_from([1, 3, 16, 1024]),
    "chiplet.noc.max_packet_bytes": st.sampled_from([1, 63, 64, 1 << 20]),
    "chiplet.noc.multicast": st.sampled_from(["unicast", "tree"]),
    "engine.network": st.sampled_from(["packet", "message"]),
    "host.bytes_per_cycle": st.sampled_from([1, 8, 1 << 20]),
}


@examples(60)
@given(st.dictionaries(st.sampled_from(sorted(GEOMETRY)), st.just(None), min_size=1, max_size=4)
       .flatmap(lambda keys: st.fixed_dictionaries({k: GEOMETRY[k] for k in keys})),
       st.integers(1, 9), st.integers(1, 150), st.integers(1, 70), st.sampled_from(["c", "numba"]))
def test_devices_run_matmul_equal_to_the_reference(changes, m, k, n, backend):
    a = np.random.default_rng(m * 1000 + k).standard_normal((m, k), dtype=np.float32)
    b = np.random.default_rng(n).standard_normal((k, n), dtype=np.float32)

    def body():
        dev = _try_device(changes)
        if dev is None:
            return "refused"
        r = matmul(a, b, device=dev, backend=backend)
        check_result(r, "matmul")
        ref = matmul_reference(a, b, r.plan)
        assert np.array_equal(bits(r.output), bits(ref)), "matmul output differs from the reference"
        t = matmul(a.shape, b.shape, device=dev, mode="timing")
        assert (t.cycles, t.energy_fj) == (r.cycles, r.energy_fj), "timing != functional"
        x = a[:, : max(1, n)]
        s = b[0, :m] if n >= m else np.ones(m, np.float32)
        r = scale_rows(x, s, device=dev, backend=backend)
        check_result(r, "scale_rows")
        assert np.array_equal(bits(r.output), bits(scale_rows_reference(x, s)))
        return "ran"

    expect(guarded(body, fork=backend == "c"), what=f"{changes} m={m} k={k} n={n} {backend}")


@examples(80)
@given(st.sampled_from(ENERGY_LEAVES),
       st.one_of(st.sampled_from([1e3, 1e6, 1e9, 1e12, 1e14, 1e18, 1e30]),
                 st.floats(0, 1e16, allow_nan=False)))
def test_more_energy_per_action_never_lowers_the_energy(leaf, value):
    path = leaf[0]

    def body():
        base = _small_runs_figures(TINY)
        dev = _try_device({path: value})
        if dev is None:
            return "refused"
        old = _get(TINY.to_dict(), path)
        now = _small_runs_figures(dev)
        for (c0, e0), (c1, e1) in zip(base, now):
            assert c1 == c0, f"{path}: {old} -> {value} changed the cycles {c0} -> {c1}"
            if value >= old:
                assert e1 >= e0, f"{path}: {old} -> {value} lowered the energy {e0} -> {e1} fJ"
            else:
                assert e1 <= e0, f"{path}: {old} -> {value} raised the energy {e0} -> {e1} fJ"
        return "ran"

    expect(guarded(body), what=f"{path}={value!r}")


def _get(data, path):
    for key in path.split("."):
        data = data[key]
    return data


def _small_runs_figures(dev):
    out = []
    for r in (matmul((4, 64), (64, 16), device=dev, mode="timing"),
              scale_rows((8, 16), (8,), device=dev, mode="timing")):
        check_result(r)
        out.append((r.cycles, r.energy_fj))
    return out


@pytest.mark.parametrize("path", ["clock_ghz"])
@examples(20)
@given(value=st.sampled_from([1e-12, 1e-9, 1e-6, 1e-3, 0.5, 2.0, 1000.0]))
def test_a_slower_clock_never_lowers_the_energy(path, value):
    def body():
        base = _small_runs_figures(TINY)
        dev = _try_device({path: value})
        if dev is None:
            return "refused"
        for (c0, e0), (c1, e1) in zip(base, _small_runs_figures(dev)):
            assert c1 == c0, f"clock_ghz={value} changed the cycles {c0} -> {c1}"
            # static power over a longer (or shorter) wall time
            assert (e1 >= e0) if value <= TINY.clock_ghz else (e1 <= e0), \
                f"clock_ghz {TINY.clock_ghz} -> {value}: energy {e0} -> {e1} fJ"
        return "ran"

    expect(guarded(body), what=f"clock_ghz={value!r}")


@pytest.fixture(autouse=True, scope="module")
def _warm():
    from fuzz_strategies import warm
    warm("matmul", "scale_rows")


# ---- the other Device entry points and Site ---------------------------------------------------

ENTRY = st.one_of(
    st.tuples(st.just("preset"), st.one_of(hostile_choice(Device.presets()), st.just("../tiny"))),
    st.tuples(st.just("replace"), st.sampled_from(["tile..dimc", "nope", "tile.dimc.rows.x", "",
                                                   "tile.dimc", "chiplet.phy_tiles.9", 5, None,
                                                   ("tile", "dimc"), "tile.vector.cycles.nope"])),
    st.tuples(st.just("sources"), st.dictionaries(
        st.sampled_from(["tile.dimc.rows", "nope.x", "clock_ghz", "", "tile", 5]),
        st.sampled_from(["A: assumed", "S: a datasheet", "M: measured", "bogus tag", "A: ", "", 5, None]), max_size=2)),
    st.tuples(st.just("setattr"), st.sampled_from(["clock_ghz", "tile", "nope"])),
    st.tuples(st.just("site"), st.sampled_from(["pue", "grid_gco2e_per_kwh", "water_l_per_kwh",
                                                "nope"]).flatmap(
        lambda k: st.tuples(st.just(k), st.one_of(BAD_FLOATS, NOT_NUMBERS, st.just(2.0))))))


@examples(50)
@given(ENTRY)
def test_device_entry_points_name_bad_input(entry):
    from chipemu.emulator import Site
    what, arg = entry

    def body():
        if what == "preset":
            return Device.preset(arg).name
        if what == "replace":
            return TINY.replace(arg, 1).name
        if what == "sources":
            got = dict(Device.from_dict({**TINY.to_dict(), "sources": arg}).sources)
            for path, tag in got.items():     # accepted: real field paths, tagged "X: ..."
                assert isinstance(path, str) and path and path.split(".")[0] in TINY.to_dict(), \
                    f"sources path {path!r} accepted"
                assert isinstance(tag, str) and tag[:1] in "SDA" and tag[1:3] == ": " and tag[3:4].strip(), \
                    f"sources tag {tag!r} accepted"
            return got
        if what == "setattr":
            setattr(Device.preset("tiny"), arg, 1)
            raise AssertionError(f"setattr(device, {arg!r}) changed a frozen device")
        site = Site(**{arg[0]: arg[1]})
        return site.co2e_g(1.0)

    names = {"preset": ("preset",), "replace": ("path", "replace", str(arg)), "sources": ("sources",),
             "setattr": ("frozen", "immutable", "read-only", "replace"),
             "site": (arg[0],) if what == "site" else ()}[what]
    expect(guarded(body), names=names, what=f"{what} {arg!r}")
