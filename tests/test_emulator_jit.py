"""Where chipemu's `jit` caches compiled code: $NUMBA_CACHE_DIR, else a per-user directory, never
the install tree nor beside a user's script. Each case runs in a fresh interpreter, because the
cache directory is chosen when a function is decorated (at import)."""
import os
import pathlib
import subprocess
import sys
import textwrap

import chipemu.cli
import chipemu.emulator
import chipemu.kernels

# the installed package's folders (an editable install maps them onto the repository's)
PACKAGE = [pathlib.Path(m.__file__).resolve().parent
           for m in (chipemu.emulator, chipemu.kernels, chipemu.cli)]
# a chipemu function (vector exp: small, compiles in a few seconds) and a user's own @jit function
SCRIPT = textwrap.dedent("""
    import numpy as np
    from chipemu.emulator._jit import jit, cache_dir
    from chipemu.emulator.vector_math import exp

    @jit
    def twice(x):
        return 2 * x

    assert twice(21) == 42
    assert exp(np.array([0.0], np.float32), backend="numba")[0] == 1.0
    print(cache_dir())
""")


def _index_files(*roots):
    """{path: mtime} of Numba's cache index files under the roots."""
    out = {}
    for d, _, files in (w for root in roots for w in os.walk(root)):
        for f in files:
            if f.endswith(".nbi"):
                p = os.path.join(d, f)
                out[p] = os.stat(p).st_mtime_ns
    return out


def _python(tmp_path, extra_env):
    """Run SCRIPT from a user folder with extra_env; returns (its folder, the package's index
    files before, the reported cache dir)."""
    folder = tmp_path / "user_script"
    folder.mkdir()
    (folder / "mine.py").write_text(SCRIPT)
    before = _index_files(*PACKAGE)
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    env.update(extra_env)
    done = subprocess.run([sys.executable, str(folder / "mine.py")], env=env, cwd=folder,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return folder, before, done.stdout.strip()


def _nothing_new_in_tree(folder, before):
    assert _index_files(*PACKAGE) == before, "compiled code was written into the package tree"
    assert not _index_files(folder), "compiled code was written beside the user's script"


def test_numba_cache_dir_is_respected(tmp_path):
    cache = tmp_path / "cache"
    folder, before, reported = _python(tmp_path, {"NUMBA_CACHE_DIR": str(cache)})
    assert reported == str(cache)
    names = {pathlib.Path(p).name for p in _index_files(cache)}
    assert any(n.startswith("mine.twice") for n in names), names          # the user's function
    assert any(n.startswith("vecmath.") for n in names), names            # chipemu's
    _nothing_new_in_tree(folder, before)


def test_default_is_a_per_user_directory(tmp_path):
    xdg = tmp_path / "xdg"
    folder, before, reported = _python(tmp_path, {"XDG_CACHE_HOME": str(xdg)})
    if sys.platform.startswith("linux"):
        assert reported == str(xdg / "chipemu" / "numba")
    assert _index_files(reported)
    _nothing_new_in_tree(folder, before)
