"""The C device handle (csrc/runtime/device.c): every shipped preset opens from C with exactly the
engine parameters Python builds from the same preset file; a handle owns its copies; failures
set the calling thread's chipemu_last_error() to the message Python gives for the same."""
import threading

import pytest

from chipemu.emulator import Device
from chipemu.emulator.engine.core import _params_struct
from chipemu.emulator.engine.messages import param_error_text
from chipemu.emulator.errors import ConfigError
from chipemu.emulator.native import ffi, lib


def _open(name):
    out = ffi.new("chipemu_device **")
    status = lib.chipemu_device_open(name.encode() if name is not None else ffi.NULL, out)
    return status, out[0]


def _error():
    return ffi.string(lib.chipemu_last_error()).decode()


def _same(a, b):
    """Every member of two chipemu_device_params, arrays and pointed-to tables included."""
    for name, f in ffi.typeof("chipemu_device_params").fields:
        x, y = getattr(a, name), getattr(b, name)
        if name == "links":
            assert a.n_links == b.n_links
            for i in range(a.n_links):
                for lf, _ in ffi.typeof("chipemu_link").fields:
                    assert getattr(x[i], lf) == getattr(y[i], lf), (i, lf)
        elif name == "dram_channel_tile":
            assert [x[i] for i in range(a.dram_channels)] == [y[i] for i in range(b.dram_channels)]
        elif f.type.kind == "array":
            assert list(x) == list(y), name
        else:
            assert x == y, name


@pytest.mark.parametrize("name", Device.presets())
def test_every_preset_opens_with_pythons_parameters(name):
    status, dev = _open(name)
    assert status == lib.CHIPEMU_OK
    try:
        want, _keep = _params_struct(Device.preset(name).engine_params())
        _same(lib.chipemu_device_params_of(dev)[0], want[0])
        assert ffi.string(lib.chipemu_device_name(dev)).decode() == name
    finally:
        lib.chipemu_device_close(dev)


def test_the_preset_list_is_pythons():
    names = [ffi.string(lib.chipemu_preset_name(i)).decode()
             for i in range(lib.chipemu_preset_count())]
    assert names == Device.presets()
    assert lib.chipemu_preset_name(-1) == ffi.NULL
    assert lib.chipemu_preset_name(lib.chipemu_preset_count()) == ffi.NULL


def test_an_unknown_preset_gets_pythons_message_and_no_handle():
    status, dev = _open("nope")
    assert status == lib.CHIPEMU_ERR_NAME and dev == ffi.NULL
    with pytest.raises(ConfigError) as exc:
        Device.preset("nope")
    assert _error() == str(exc.value)
    status, dev = _open(None)
    assert status == lib.CHIPEMU_ERR_NULL and dev == ffi.NULL and "preset is NULL" in _error()
    assert lib.chipemu_device_open(b"tiny", ffi.NULL) == lib.CHIPEMU_ERR_NULL
    lib.chipemu_device_close(ffi.NULL)                      # a no-op


def test_a_handle_from_params_owns_its_copies_and_bad_params_are_named():
    p, keep = _params_struct(Device.preset("tiny").engine_params())
    out = ffi.new("chipemu_device **")
    assert lib.chipemu_device_from_params(p, out) == lib.CHIPEMU_OK
    dev = out[0]
    try:
        p.links[0].bytes_per_cycle += 1                     # the caller's arrays change ...
        p.n_chiplets = 99
        want, _k = _params_struct(Device.preset("tiny").engine_params())
        _same(lib.chipemu_device_params_of(dev)[0], want[0])    # ... the handle's do not
    finally:
        lib.chipemu_device_close(dev)
    for field, value in (("noc_link_bytes_per_cycle", 0), ("n_chiplets", 0)):
        bad, keep = _params_struct(Device.preset("tiny").engine_params())
        setattr(bad, field, value)
        err = ffi.new("chipemu_engine_error *")
        assert lib.chipemu_engine_check_params(bad, err) != lib.CHIPEMU_OK
        assert lib.chipemu_device_from_params(bad, out) == lib.CHIPEMU_ERR_PARAMS
        assert out[0] == ffi.NULL
        assert _error() == f"engine params: {param_error_text(err)}"
    bad, keep = _params_struct(Device.preset("tiny").engine_params())
    bad.links[1].bytes_per_cycle = 0
    err = ffi.new("chipemu_engine_error *")
    lib.chipemu_engine_check_params(bad, err)
    assert lib.chipemu_device_from_params(bad, out) == lib.CHIPEMU_ERR_PARAMS
    assert _error() == f"engine params: {param_error_text(err)}" and "links[1]" in _error()


def test_each_thread_keeps_its_own_last_error():
    seen, go = {}, threading.Barrier(2)

    def work(name):
        go.wait()
        for _ in range(200):
            _open(name)
        seen[name] = _error()
    threads = [threading.Thread(target=work, args=(n,)) for n in ("first-bad", "second-bad")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen["first-bad"].startswith("preset='first-bad'")
    assert seen["second-bad"].startswith("preset='second-bad'")
