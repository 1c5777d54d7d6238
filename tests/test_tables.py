"""Every generated table in csrc/ is current: regenerating from the Python declarations
(csrc/gen_tables.py) changes nothing."""
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _gen():
    spec = importlib.util.spec_from_file_location("_chipemu_gen_tables", ROOT / "csrc" / "gen_tables.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_generated_files_are_current():
    stale = _gen().stale()
    assert not stale, f"stale generated files (run python csrc/gen_tables.py): {stale}"


def test_region_replacement_keeps_markers_and_fails_loudly():
    gen = _gen()
    text = "a\n/* GENERATED BEGIN t (from x; csrc/gen_tables.py) */\nold\n/* GENERATED END t */\nb\n"
    new = gen.replace_region(text, "t", "y", "new")
    assert new == "a\n/* GENERATED BEGIN t (from y; csrc/gen_tables.py) */\nnew\n/* GENERATED END t */\nb\n"
    try:
        gen.replace_region(text, "missing", "y", "z")
    except KeyError as exc:
        assert "missing" in str(exc)
    else:
        raise AssertionError("a missing region must raise")
