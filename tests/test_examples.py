"""examples/: the C++ host example is built with `chipemu cc --host` against the installed
library, run, and every figure it prints checked against Python's timing mode."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chipemu import cc, get_library_dir
from chipemu.kernels.attention import attention
from chipemu.kernels.matmul import matmul

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^(\w+) m=(\d+) k=(\d+) n=(\d+) cycles=(\d+) energy_fj=(\d+) "
                  r"compute_cycles=(\d+) compute_energy_fj=(\d+) dimc_fj=(\d+)$", re.M)


def test_the_library_ships_beside_the_extension():
    assert (Path(get_library_dir()) / "libchipemu.so").is_file()


@pytest.mark.skipif(shutil.which("c++") is None, reason="no C++ compiler")
def test_decode_costs_cpp_prints_the_figures_python_gives(tmp_path):
    exe = tmp_path / "decode_costs"
    # the command a user types: chipemu cc --host examples/decode_costs.cpp -o decode_costs
    done = subprocess.run([sys.executable, "-m", "chipemu.cli", "cc", "--host",
                           str(ROOT / "examples" / "decode_costs.cpp"), "-o", str(exe)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + done.stdout
    out = subprocess.run([str(exe), "corsair", "4", "700"], capture_output=True, text=True,
                         check=True, cwd=tmp_path).stdout
    rows = LINE.findall(out)
    assert [r[0] for r in rows] == ["wq", "wk", "wv", "wo", "w1", "w3", "w2"]
    for name, m, k, n, cycles, fj, ccyc, cfj, dimc in rows:
        r = matmul((int(m), int(k)), (int(k), int(n)), fmt="mxint8", weight_fmt="mxint4",
                   device="corsair", mode="timing")
        compute = r.phase_list[1]
        assert (int(cycles), int(fj), int(ccyc), int(cfj), int(dimc)) == (
            r.cycles, r.energy_fj, compute.cycles, compute.energy_fj,
            r.timing.energy_by_component["dimc"]), name
    attn = re.search(r"^attention b=4 hq=32 hkv=8 keys=700 d=64 cycles=(\d+) energy_fj=(\d+) "
                     r"compute_cycles=(\d+) compute_energy_fj=(\d+)$", out, re.M)
    r = attention((4, 32, 1, 64), (4, 8, 700, 64), (4, 8, 700, 64), device="corsair",
                  mode="timing")
    assert tuple(map(int, attn.groups())) == (r.cycles, r.energy_fj, r.phase_list[1].cycles,
                                              r.phase_list[1].energy_fj)
    assert "layer step, one op after another" in out
    fn = re.search(r"^matmul 4x128x64 cycles=(\d+) y:(.*)$", out, re.M)
    a = ((np.arange(4 * 128) % 13 - 6) * 0.25).astype(np.float32).reshape(4, 128)
    b = ((np.arange(128 * 64) % 7 - 3) * 0.125).astype(np.float32).reshape(128, 64)
    r = matmul(a, b, fmt="mxint8", weight_fmt="mxint4", device="corsair")
    got = np.array([float.fromhex(x) for x in fn.group(2).split()], np.float32).reshape(4, 64)
    assert np.array_equal(got, r.output) and int(fn.group(1)) == r.cycles


def test_host_command_links_the_library_with_its_rpath():
    cmd = cc.host_command(["a.cpp"], "a", cc="c++")
    lib = get_library_dir()
    assert cmd[0] == "c++" and f"-L{lib}" in cmd and "-lchipemu" in cmd
    assert f"-Wl,-rpath,{lib}" in cmd and "-std=c++17" in cmd
    assert "-std=c11" in cc.host_command(["a.c"], "a", cc="cc")
