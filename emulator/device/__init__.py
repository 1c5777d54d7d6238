"""The emulated device: its config tree (`Device`, parts in `parts`), where it runs (`Site`), and
the shipped presets (presets/*.toml; fields and sources in docs/presets.md)."""
from chipemu.emulator.device.config import PRESET_DIR, D2DLink, Device, Site, as_device

__all__ = ["Device", "Site", "D2DLink", "PRESET_DIR", "as_device"]
