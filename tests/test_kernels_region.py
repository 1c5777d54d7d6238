"""chipemu.kernels.region: a region's ids are normalised and checked against the device, and every
bad field is a ConfigError naming it and the allowed range."""
import pytest

from chipemu.emulator import Device
from chipemu.emulator.errors import ConfigError
from chipemu.kernels.region import Region, resolve_region

TINY = Device.preset("tiny")            # 4 chiplets x 4 tiles (2 x 2 mesh), 2 DIMC slots
CORSAIR = Device.preset("corsair")      # 8 chiplets x 256 tiles (16 x 16 mesh), 64 slots


def test_ids_are_sorted_tuples_and_a_lone_id_is_a_list_of_one():
    r = Region(2, [3, 1], range(1, 2))
    assert (r.chiplets, r.tiles, r.slots) == ((2,), (1, 3), (1, 2))
    assert (r.s0, r.n_slots, r.n_tiles) == (1, 1, 2)
    assert r == Region([2], (1, 3), (1, 2)) and hash(r) == hash(Region([2], (1, 3), (1, 2)))


def test_whole_is_every_chiplet_tile_and_slot():
    w = Region.whole(CORSAIR)
    assert (w.chiplets, w.tiles, w.slots) == (tuple(range(8)), tuple(range(256)), (0, 64))
    assert w.tile_ids(CORSAIR) == list(range(CORSAIR.n_tiles))
    assert w.is_whole(CORSAIR) and not Region([0], range(256), (0, 64)).is_whole(CORSAIR)
    assert resolve_region(None, CORSAIR) == w


def test_rect_takes_mesh_rows_and_columns():
    r = Region.rect(CORSAIR, rows=(1, 3), cols=(14, 16), chiplets=[5], slots=(2, 6))
    assert r.tiles == (30, 31, 46, 47) and r.chiplets == (5,) and r.slots == (2, 6)
    assert r.tile_ids(CORSAIR) == [5 * 256 + t for t in (30, 31, 46, 47)]
    assert Region.rect(TINY, rows=(0, 2), cols=(1, 2)) == Region(range(4), [1, 3], (0, 2))


def test_describe_names_runs_and_lists():
    assert Region([1], range(32), (2, 6)).describe() == "chiplets 1, tiles 0..31, slots 2..5"
    assert Region([0, 2], [5, 9], (0, 1)).describe() == "chiplets [0, 2], tiles [5, 9], slots 0..0"


@pytest.mark.parametrize("kwargs,text", [
    (dict(chiplets=[], tiles=[0], slots=(0, 1)), "region chiplets=[] is empty"),
    (dict(chiplets=[0], tiles=[1, 2, 1], slots=(0, 1)), "lists [1] more than once"),
    (dict(chiplets=[-1], tiles=[0], slots=(0, 1)), "region chiplets[0]=-1 is out of range"),
    (dict(chiplets=[0], tiles=[True], slots=(0, 1)), "region tiles[0]=True (bool)"),
    (dict(chiplets=[0], tiles=[1.0], slots=(0, 1)), "region tiles[0]=1.0 (float)"),
    (dict(chiplets="0", tiles=[0], slots=(0, 1)), "region chiplets[0]='0' (str)"),
    (dict(chiplets=[0], tiles=[0], slots=(2, 2)), "region slots[1] (s1)=2 is out of range"),
    (dict(chiplets=[0], tiles=[0], slots=(-1, 2)), "region slots[0] (s0)=-1 is out of range"),
    (dict(chiplets=[0], tiles=[0], slots=3), "allowed: (s0, s1)"),
    (dict(chiplets=[0], tiles=[0], slots=(0, 1, 2)), "allowed: (s0, s1)"),
])
def test_bad_fields_are_named(kwargs, text):
    with pytest.raises(ConfigError) as e:
        Region(**kwargs)
    assert text in str(e.value)


@pytest.mark.parametrize("region,text", [
    (Region([4], [0], (0, 1)), "region chiplets=4 includes 4; allowed on device 'tiny': ids in 0..3"),
    (Region([0], range(3, 5), (0, 1)), "region tiles=3..4 includes 4; allowed on device 'tiny': "
                                       "ids in 0..3"),
    (Region([0], [0], (1, 3)), "region slots=[1, 3) ends past the DIMC; allowed on device 'tiny': "
                               "0 <= s0 < s1 <= 2"),
    ("all", "region='all' (str); allowed: None (the whole device) or a"),
])
def test_regions_outside_the_device_are_named(region, text):
    with pytest.raises(ConfigError) as e:
        resolve_region(region, TINY)
    assert text in str(e.value)


@pytest.mark.parametrize("kwargs,text", [
    (dict(rows=(0, 3), cols=(0, 1)), "region rows[1]=3 is out of range; allowed: an integer in [1, 2]"),
    (dict(rows=(1, 1), cols=(0, 1)), "region rows[1]=1 is out of range"),
    (dict(rows=(0, 1), cols=5), "region cols=5; allowed: (first, end)"),
])
def test_bad_rectangles_are_named(kwargs, text):
    with pytest.raises(ConfigError) as e:
        Region.rect(TINY, **kwargs)
    assert text in str(e.value)
