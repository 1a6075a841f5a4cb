"""Loading a flat image and the state the guest is entered in (BRIEF.md)."""

from __future__ import annotations

import struct

from vizvm.machine.cpu import Cpu
from vizvm.machine.descriptors import Descriptor
from vizvm.machine.layout import (
    BOOT_CODE_SELECTOR,
    BOOT_DATA_SELECTOR,
    BOOT_GDT,
    LOAD_ADDRESS,
    MULTIBOOT_INFO,
    MULTIBOOT_MAGIC,
    MiB,
)
from vizvm.machine.memory import GuestMemory

ENTRY_EFLAGS = 0x2  # interrupts disabled


class LoadError(ValueError):
    """The image cannot be put in this machine; the message says why."""


def check_image(image: bytes, ram_size: int) -> None:
    if not image:
        raise LoadError("the image is empty: there is no code to run")
    room = ram_size - LOAD_ADDRESS
    if len(image) > room:
        raise LoadError(
            f"the image is {len(image):,} bytes but only {room:,} fit between its load "
            f"address {LOAD_ADDRESS:#010x} and the end of the {ram_size // MiB} MiB of RAM"
        )


def boot_gdt() -> bytes:
    """Null, flat ring-0 code, flat ring-0 data; accessed bits preset."""
    code = Descriptor.build(0, 0xFFFFF, 0xB)
    data = Descriptor.build(0, 0xFFFFF, 0x3)
    return bytes(8) + code.to_bytes() + data.to_bytes()


def load(memory: GuestMemory, cpu: Cpu, image: bytes) -> None:
    """Write the image at 1 MiB and enter it: ring 0, flat, IF=0, ESP at the top of RAM."""
    check_image(image, memory.ram_size)
    memory.write_physical(LOAD_ADDRESS, image)
    gdt = boot_gdt()
    memory.write_physical(BOOT_GDT, gdt)
    cpu.set_table_register("gdt", BOOT_GDT, len(gdt) - 1)
    cpu.set_table_register("idt", 0, 0)
    for segment in ("ss", "ds", "es", "fs", "gs"):
        cpu.write(segment, BOOT_DATA_SELECTOR)
    cpu.write("cs", BOOT_CODE_SELECTOR)
    # Multiboot information: flags bit 0, memory below 1 MiB and above it, in KiB
    info = struct.pack("<III", 1, 640, (memory.ram_size - MiB) // 1024)
    memory.write_physical(MULTIBOOT_INFO, info)
    for register in ("ecx", "edx", "esi", "edi", "ebp"):
        cpu.write(register, 0)
    cpu.write("eax", MULTIBOOT_MAGIC)
    cpu.write("ebx", MULTIBOOT_INFO)
    cpu.write("esp", memory.ram_size)
    cpu.write("eflags", ENTRY_EFLAGS)
    cpu.write("eip", LOAD_ADDRESS)
