"""The route a message takes between two tiles, as the engine takes it (docs/engine.md §4).

XY on each chiplet to the PHY tile of the next link on the chiplet route, the D2D link, and on from
the PHY tile it arrives at. Chiplet routes come from a breadth-first search over the links in
ascending index (csrc/engine/engine.c `build_routes`), so ties go to the lowest link index and the
route from b to a need not mirror the route from a to b.
"""
from typing import NamedTuple


class Route(NamedTuple):
    """NoC hops on each chiplet crossed (in order) and the D2D links taken (indices into
    `Device.d2d_links()`)."""

    legs: tuple[int, ...]
    links: tuple[int, ...]

    @property
    def noc_hops(self) -> int:
        return sum(self.legs)

    @property
    def d2d_hops(self) -> int:
        return len(self.links)


def next_links(dev) -> list[list[int]]:
    """next_links(dev)[s][t]: the first link on chiplet s's route to t (-1: none, or s == t)."""
    links = dev.d2d_links()
    out = []
    for s in range(dev.n_chiplets):
        via = {s: -1}
        queue = [s]
        for u in queue:                                  # grows while walked: breadth-first
            for i, k in enumerate(links):
                v = k.b if k.a == u else k.a if k.b == u else None
                if v is not None and v not in via:
                    via[v] = i if u == s else via[u]
                    queue.append(v)
        out.append([via.get(t, -1) for t in range(dev.n_chiplets)])
    return out


def route(dev, src: int, dst: int) -> Route:
    """The route from global tile src to global tile dst; ValueError when no links join them."""
    tpc, cols = dev.tiles_per_chiplet, dev.chiplet.tile_cols
    links, table = dev.d2d_links(), next_links(dev)

    def xy(a, b):
        return abs(a // cols - b // cols) + abs(a % cols - b % cols)

    chip, local = divmod(src, tpc)
    to_chip, to_local = divmod(dst, tpc)
    legs, taken = [], []
    while chip != to_chip:
        i = table[chip][to_chip]
        if i < 0:
            raise ValueError(f"no die-to-die route from chiplet {chip} to chiplet {to_chip}")
        k = links[i]
        phy, chip, arrive = (k.phy_a, k.b, k.phy_b) if k.a == chip else (k.phy_b, k.a, k.phy_a)
        legs.append(xy(local, phy))
        taken.append(i)
        local = arrive
    legs.append(xy(local, to_local))
    return Route(tuple(legs), tuple(taken))
