"""Hypothesis profiles for the test suite (docs/testing.md).

"ci" (the default): few examples per property, derandomized so every run tries the same inputs;
the fuzzing suite (tests/test_fuzz_*.py) adds about a minute on 2 cores.
"long": 20x the examples, random each run, for a local hunt:
    HYPOTHESIS_PROFILE=long pytest -q -p no:cacheprovider tests/test_fuzz_*.py
Tests that set max_examples themselves keep it; the fuzzing suite scales its own counts with
fuzz_strategies.examples().
"""
import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, settings

# generous per-example deadlines: a legitimate example takes milliseconds; the fuzz guard's
# process timeout (fuzz_strategies.TIMEOUT_S) is what catches a real hang
settings.register_profile(
    "ci", max_examples=50, deadline=timedelta(seconds=10), derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "long", max_examples=1000, deadline=timedelta(seconds=30), print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="module")
def handles():
    """{preset: chipemu_device *} of tiny and corsair (the host-API tests), closed after."""
    from chipemu.emulator.native import ffi, lib
    out = {}
    for name in ("tiny", "corsair"):
        dev = ffi.new("chipemu_device **")
        assert lib.chipemu_device_open(name.encode(), dev) == lib.CHIPEMU_OK
        out[name] = dev[0]
    yield out
    for dev in out.values():
        lib.chipemu_device_close(dev)
