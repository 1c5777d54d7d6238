"""Named sites (PUE, on-site water, grid intensity) for a response's CO2e and water.

Each is a `chipemu.emulator.device.Site`: CO2e = device energy x PUE x grid gCO2e/kWh
(location-based, operational only: no hardware manufacturing, which Mistral's published figure
includes); water = device energy x on-site WUE (L/kWh of IT energy). Water used off site to make
the electricity (Li et al.'s second term) is not counted: no sourced factor was gathered.
Sources: ../shared/research/llm-serving.md and hardware-numbers.md §5.
"""
from __future__ import annotations

from chipemu.emulator import args
from chipemu.emulator.device import Site

__all__ = ["SITES", "site"]

_ECO = "EcoLogits v0.11 provider defaults (PUE, on-site WUE) and grid tables (v1)"

SITES = {
    "us-average": Site(grid_gco2e_per_kwh=367.0, pue=1.58, water_l_per_kwh=1.8),
    "azure-usa": Site(grid_gco2e_per_kwh=679.8, pue=1.20, water_l_per_kwh=0.569,
                      water_label=f"{_ECO}: OpenAI/Azure (USA) WUE 0.569 L/kWh, USA grid"),
    "google-usa": Site(grid_gco2e_per_kwh=679.8, pue=1.09, water_l_per_kwh=0.99,
                       water_label=f"{_ECO}: Google (USA) WUE 0.99 L/kWh, USA grid"),
    "mistral-eu": Site(grid_gco2e_per_kwh=509.4, pue=1.16, water_l_per_kwh=0.09,
                       water_label=f"{_ECO}: Mistral AI (Sweden) WUE 0.09 L/kWh, EU grid"),
    "france": Site(grid_gco2e_per_kwh=81.3, pue=1.16, water_l_per_kwh=0.09,
                   water_label=f"{_ECO}: Mistral AI's PUE and WUE on the French grid"),
    "world": Site(grid_gco2e_per_kwh=590.4, pue=1.58, water_l_per_kwh=1.8,
                  water_label="EcoLogits world grid 590.4 g/kWh; Uptime 2023 PUE 1.58; "
                              "A: assumed WUE 1.8 L/kWh"),
}
SOURCES = {
    "us-average": "EIA 2023 US grid 367 g/kWh; Uptime 2023 average PUE 1.58; A: WUE 1.8 L/kWh",
    "azure-usa": _ECO, "google-usa": _ECO, "mistral-eu": _ECO, "france": _ECO,
    "world": "EcoLogits world grid; Uptime 2023 PUE; WUE assumed",
}


def site(name_or_site) -> Site:
    """A Site from a preset name (SITES) or a Site."""
    if isinstance(name_or_site, Site):
        return name_or_site
    return SITES[args.choice("site", name_or_site, tuple(SITES))]
