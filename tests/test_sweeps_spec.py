"""Sweep specs (sweeps/spec.py): the points' order, the keys' meaning, errors before any run."""
import pytest

from chipemu.emulator.errors import ConfigError
from chipemu.sweeps import Spec

CASE = {"kernel": "matmul", "m": 1, "k": 512, "n": 256, "name": "gemv"}


def test_points_are_cases_times_the_grid_then_the_explicit_ones():
    s = Spec(cases=[CASE, {"kernel": "attention", "seq": 1, "kv_len": 100, "head_dim": 64}],
             grid={"chiplet.noc.link_bytes_per_cycle": [16, 32], "fmt": ["mxint8", "mxint4"]},
             explicit=[{"kernel": "matmul", "m": 3, "k": 64, "n": 64, "device": "ring8",
                        "mode": "functional"}], device="tiny")
    pts = s.points()
    assert [p.index for p in pts] == list(range(5 + 4))
    assert [(p.kernel, dict(p.overrides)["chiplet.noc.link_bytes_per_cycle"], dict(p.params)["fmt"])
            for p in pts[:4]] == [("matmul", 16, "mxint8"), ("matmul", 16, "mxint4"),
                                  ("matmul", 32, "mxint8"), ("matmul", 32, "mxint4")]
    assert pts[4].kernel == "attention" and dict(pts[4].params)["fmt"] == "mxint8"
    last = pts[-1]
    assert (last.device, last.mode, last.overrides, last.name) == ("ring8", "functional", (), "")
    assert pts[0].name == "gemv" and pts[0].device == "tiny" and pts[0].mode == "timing"
    assert pts[0].inputs()["set.chiplet.noc.link_bytes_per_cycle"] == 16


def test_a_spec_file_is_read(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('device = "tiny"\n[[case]]\nkernel = "matmul"\nm = 2\nk = 64\nn = 64\n'
                 '[grid]\n"tile.dimc.weight_slots" = [1, 2]\n[[point]]\nkernel = "glu"\nrows = 1\n'
                 'cols = 64\n')
    pts = Spec.from_toml(f).points()
    assert [(p.kernel, p.overrides) for p in pts] == [
        ("matmul", (("tile.dimc.weight_slots", 1),)), ("matmul", (("tile.dimc.weight_slots", 2),)),
        ("glu", ())]


def test_the_cache_key_follows_device_kernel_parameters_and_mode():
    a, b = Spec(cases=[CASE], grid={"fmt": ["mxint8", "mxint4"]}, device="tiny").points()
    assert a.key("0.1.0", "h") != b.key("0.1.0", "h")
    assert a.key("0.1.0", "h") != a.key("0.1.1", "h") != a.key("0.1.0", "g")
    assert a.key("0.1.0", "h") == Spec(cases=[CASE], grid={"fmt": ["mxint8"]},
                                       device="tiny").points()[0].key("0.1.0", "h")


@pytest.mark.parametrize("kwargs,text", [
    (dict(), "no cases and no points"),
    (dict(cases=[{"kernel": "nope"}]), "kernel='nope' is unknown"),
    (dict(cases=[{"kernel": "matmul", "q": 1}]), "matmul has no parameter 'q'"),
    (dict(cases=[{"kernel": "rmsnorm"}], grid={"fmt": ["mxint8"]}),
     "rmsnorm has no parameter 'fmt'"),
    (dict(cases=[CASE], grid={"chiplet.noc.link_width": [1]}),
     "'chiplet.noc.link_width' is not a field of device"),
    (dict(cases=[CASE], grid={"fmt": []}), "non-empty list"),
    (dict(cases=[CASE], grid={"kernel": ["glu"]}), "one \\[\\[case\\]\\] per kernel"),
    (dict(cases=[{"m": 1}]), "kernel = <name>"),
    (dict(cases=[CASE], mode="fast"), "mode='fast'"),
    (dict(cases=[{**CASE, "m": object()}]), "allowed: numbers"),
])
def test_a_bad_spec_is_refused_before_anything_runs(kwargs, text):
    with pytest.raises(ConfigError, match=text):
        Spec(**{"device": "tiny", **kwargs})


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        Spec.from_toml(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("[[case]\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Spec.from_toml(tmp_path / "bad.toml")
    (tmp_path / "extra.toml").write_text('grids = 1\n')
    with pytest.raises(ConfigError, match="unknown keys \\['grids'\\]"):
        Spec.from_toml(tmp_path / "extra.toml")


def test_a_device_file_beside_the_spec_is_found_from_anywhere(tmp_path, monkeypatch):
    from chipemu.emulator.device.config import PRESET_DIR
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "mine.toml").write_text((PRESET_DIR / "tiny.toml").read_text())
    (folder / "s.toml").write_text('device = "mine.toml"\n[[case]]\nkernel = "glu"\nrows = 1\n'
                                   'cols = 64\n[[point]]\nkernel = "glu"\ndevice = "tiny"\n')
    monkeypatch.chdir(tmp_path)
    pts = Spec.from_toml(folder / "s.toml").points()
    assert pts[0].device == str(folder / "mine.toml") and pts[1].device == "tiny"
    assert pts[0].build_device() == pts[1].build_device()
