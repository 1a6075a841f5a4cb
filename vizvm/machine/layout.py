"""The guest machine contract of BRIEF.md, as numbers."""

from __future__ import annotations

MiB = 1 << 20
DEFAULT_RAM = 16 * MiB
LOAD_ADDRESS = 0x0010_0000  # the image is loaded and entered here
PAGE = 0x1000

# The loader's flat ring-0 GDT ("firmware"), left in guest RAM like a boot
# loader's. A guest loads its own before it reloads a segment register.
BOOT_GDT = 0x000F_0000
BOOT_CODE_SELECTOR = 0x08
BOOT_DATA_SELECTOR = 0x10

# What a Multiboot loader hands over, so that kernels written for GRUB or
# QEMU's -kernel find what they check for: EAX = magic, EBX = information.
MULTIBOOT_MAGIC = 0x2BADB002
MULTIBOOT_INFO = 0x0000_9000

# Memory a monitor keeps for itself (shadow tables), above any guest RAM and
# below 4 GiB: the top 4 MiB, where VMware's monitor lived too.
MONITOR_BASE = 0xFFC0_0000
MONITOR_SIZE = 4 * MiB

DEFAULT_BUDGET = 100_000_000
