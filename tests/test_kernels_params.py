"""kernels/params.py: the parameter vectors by name (ParamLayout), the generated C enums and the
guard against Numba code cached for another layout."""
import importlib
import pathlib

import numpy as np
import pytest

from chipemu.emulator import Device, Machine, ShapeError
from chipemu.kernels.params import ParamLayout, c_header

L = ParamLayout("demo", header=("step", "n_bytes"), record=("active", "member"),
                docs={"n_bytes": "bytes per tile"})


def test_build_places_names_and_shares_the_zero_record():
    p = L.build(4, dict(step=7, n_bytes=64), {2: (dict(active=1, member=5), [9, 8]),
                                              0: (dict(member=3, active=1), [])})
    H, R = L.H, L.R
    assert (H.step, H.n_bytes, H.count, R.active, R.member, R.count) == (0, 1, 2, 0, 1, 2)
    assert p.dtype == np.int64 and p[H.step] == 7 and p[H.n_bytes] == 64
    # [header 2][offsets 4][zero record 2][tile 0: 2][tile 2: 2 + tail 2]
    assert p[H.count:H.count + 4].tolist() == [8, 6, 10, 6]
    rec = lambda t: p[p[H.count + t]:]                                     # noqa: E731
    assert rec(0)[:R.count].tolist() == [1, 3] and rec(2)[:R.count + 2].tolist() == [1, 5, 9, 8]
    assert rec(1)[R.active] == 0 and rec(3)[R.active] == 0
    assert len(p) == 14


def test_build_names_every_word():
    with pytest.raises(ValueError, match=r"missing \['n_bytes'\]"):
        L.build(1, dict(step=0))
    with pytest.raises(ValueError, match=r"unknown \['bogus'\]"):
        L.build(1, dict(step=0, n_bytes=1, bogus=2))
    with pytest.raises(ValueError, match="record of tile 0"):
        L.build(1, dict(step=0, n_bytes=1), {0: (dict(active=1), [])})


def test_header_only_layout_is_the_header_alone():
    h = ParamLayout("demo", header=("a", "b"), prefix="X")
    assert h.build(16, dict(a=1, b=2)).tolist() == [1, 2]
    with pytest.raises(ValueError, match="no record"):
        h.build(1, dict(a=1, b=2), {0: ({}, [])})


@pytest.mark.parametrize("kw", [dict(header=("a", "a")), dict(header=("count",)),
                                dict(header=("a",), record=("not an id",)),
                                dict(header=("a",), docs={"b": "?"})])
def test_bad_declarations_raise(kw):
    with pytest.raises(ValueError):
        ParamLayout("demo", **kw)


def test_c_header_one_file_per_kernel_with_prefixes():
    other = ParamLayout("demo", header=("src_buf",), record=("active",), prefix="SEND")
    text = c_header([L, other])
    for line in ("H_STEP = 0,", "H_N_BYTES = 1,  /* bytes per tile */", "H_COUNT = 2,",
                 "R_MEMBER = 1,", "R_COUNT = 2,", "SEND_H_SRC_BUF = 0,", "SEND_R_ACTIVE = 0,",
                 "#ifndef CHIPEMU_KERNEL_DEMO_PARAMS_H"):
        assert line in text
    with pytest.raises(ValueError, match="distinct C prefixes"):
        c_header([L, ParamLayout("demo", header=("x",))])


@pytest.mark.parametrize("kernel", ["matmul", "attention", "microbench"])
def test_tile_kernels_are_cache_stamped_with_their_layouts(kernel):
    """Indices are frozen into compiled code: the kernel folder's params.py is in the Numba cache
    stamp of its tile kernels, so editing a layout recompiles them."""
    tile = importlib.import_module(f"chipemu.kernels.{kernel}.tile")
    fns = [v for v in vars(tile).values() if hasattr(v, "_cache") and hasattr(v, "py_func")
           and v.py_func.__module__ == tile.__name__]
    assert fns
    params = str(pathlib.Path(tile.__file__).with_name("params.py"))
    for fn in fns:
        stamp = fn._cache._impl.locator.get_source_stamp()
        assert params in [name for name, *_ in stamp[1]], fn.py_func.__name__


@pytest.mark.parametrize("kernel", ["matmul.tile:MM_STEP", "attention.tile:AT_STEP",
                                    "microbench.tile:DIMC_STREAM"])
def test_a_parameter_vector_no_planner_made_is_refused_alike_by_both_twins(kernel):
    # a zero divisor word: C's kernel_word and Numba's refuse it with the same named error
    module, name = kernel.split(":")
    k = getattr(importlib.import_module(f"chipemu.kernels.{module}"), name)
    said = []
    for backend in ("c", "numba"):
        m = Machine(Device.preset("tiny").engine_params(), backend=backend)
        with pytest.raises(ShapeError, match="the kernel's parameters: its parameter word") as e:
            m.launch(k, [0], np.zeros(64, np.int64), events_per_tile=8)
        said.append(str(e.value))
        assert m.n_events == 0
    assert said[0] == said[1]
