"""emulator/runtime/budget.py: the run budget (events, host bytes, supersteps), its sources in
order (set_budget / budget(), the environment, the defaults) and its messages."""
import pytest

from chipemu.emulator import budget as budget_cm, set_budget
from chipemu.emulator.errors import CapacityError, ConfigError
from chipemu.emulator.runtime import budget as B


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    for var in B._ENV.values():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(B, "_override", None)


def test_defaults_fit_the_machine():
    b = B.current()
    assert b == B.Budget() and b.max_events == B.DEFAULT_MAX_EVENTS
    assert 0 < b.max_host_bytes <= B._physical_bytes()
    assert b.max_supersteps == B.DEFAULT_MAX_SUPERSTEPS


@pytest.mark.parametrize("field", ["max_events", "max_host_bytes", "max_supersteps"])
def test_each_limit_names_its_figure_and_how_to_raise_it(field, monkeypatch):
    kw = {"max_events": "events", "max_host_bytes": "host_bytes",
          "max_supersteps": "supersteps"}
    with budget_cm(**{field: 10}):
        B.check("a run", **{kw[field]: 10})                   # at the limit: accepted
        with pytest.raises(CapacityError, match=rf"a run would .* about 11 .* beyond the budget "
                                                rf"of 10; raise it with .*set_budget\({field}=.*"
                                                rf"{B._ENV[field]}, or 0 for no limit"):
            B.check("a run", **{kw[field]: 11})
    B.check("a run", **{kw[field]: 11})                       # the block's limit is gone
    monkeypatch.setenv(B._ENV[field], "0")                    # 0: unlimited
    B.check("a run", **{kw[field]: 10**18})


def test_sources_in_order_and_restored():
    import os
    os.environ[B._ENV["max_events"]] = "1_000"
    try:
        assert B.current().max_events == 1000                    # the environment
        prev = set_budget(max_events=50)                         # beats the environment
        assert prev.max_events == 1000 and B.current().max_events == 50
        with budget_cm(max_supersteps=7) as b:
            assert (b.max_events, b.max_supersteps) == (50, 7)
        assert B.current().max_supersteps == B.DEFAULT_MAX_SUPERSTEPS
    finally:
        del os.environ[B._ENV["max_events"]]


@pytest.mark.parametrize("value", [-1, True, 2.5, "10"])
def test_bad_limits_are_named(value):
    with pytest.raises(ConfigError, match=r"max_events=.* must be an integer >= 0"):
        set_budget(max_events=value)
    assert B.current() == B.Budget()                             # nothing changed


def test_a_bad_environment_value_is_named(monkeypatch):
    monkeypatch.setenv("CHIPEMU_MAX_SUPERSTEPS", "lots")
    with pytest.raises(ConfigError, match=r"CHIPEMU_MAX_SUPERSTEPS='lots' must be an integer"):
        B.current()
