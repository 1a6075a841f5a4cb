"""The emulated DMA storage controller, on a host memory of plain byte arrays."""

from __future__ import annotations

import pytest

from vizvm.machine.devices.bus import IoBus
from vizvm.machine.devices.dma import (
    CMD_DISK_TO_MEMORY,
    CMD_MEMORY_TO_DISK,
    DISK_SIZE,
    DMA_BASE,
    DMA_PORTS,
    STATUS_BAD_COMMAND,
    STATUS_NO_MEMORY,
    STATUS_NONE,
    STATUS_OK,
    STATUS_OUTSIDE_DISK,
    STATUS_OUTSIDE_RAM,
    DmaController,
)

RAM = 0x1000


class ArrayMemory:
    def __init__(self, vms: int) -> None:
        self.ram_size = RAM
        self.rams = [bytearray(RAM) for _ in range(vms)]

    def owner(self, host_address: int) -> int | None:
        index = host_address // RAM
        return index if index < len(self.rams) else None

    def read(self, vm: int, address: int, size: int) -> bytes:
        return bytes(self.rams[vm][address:address + size])

    def write(self, vm: int, address: int, data: bytes) -> None:
        self.rams[vm][address:address + len(data)] = data


def program(bus: IoBus, address: int, length: int, offset: int, command: int) -> int:
    for reg, value in ((0, address), (4, length), (8, offset), (12, command)):
        bus.write(DMA_BASE + reg, 4, value)
    return bus.read(DMA_BASE + 12, 4)


def host(checked: bool, vms: int = 2) -> tuple[ArrayMemory, DmaController, list[IoBus]]:
    memory = ArrayMemory(vms)
    controller = DmaController(memory, checked=checked)
    buses = []
    for vm in range(vms):
        bus = IoBus()
        bus.attach(controller.port(vm), DMA_PORTS)
        buses.append(bus)
    return memory, controller, buses


@pytest.mark.parametrize("checked", [False, True])
def test_a_transfer_inside_the_callers_ram_round_trips_through_its_disk(checked: bool) -> None:
    memory, controller, buses = host(checked)
    memory.rams[1][0x100:0x104] = b"data"
    assert buses[1].read(DMA_BASE + 12, 4) == STATUS_NONE
    assert program(buses[1], 0x100, 4, 8, CMD_MEMORY_TO_DISK) == STATUS_OK
    assert program(buses[1], 0x200, 4, 8, CMD_DISK_TO_MEMORY) == STATUS_OK
    assert memory.rams[1][0x200:0x204] == b"data"
    assert controller.disks[0] == bytearray(DISK_SIZE)  # another VM's disk untouched
    assert all(t.outside_bytes == 0 for t in controller.transfers)


def test_the_flawed_model_writes_past_the_callers_ram_into_the_next_vm() -> None:
    memory, controller, buses = host(checked=False)
    memory.rams[0][0:6] = b"attack"
    program(buses[0], 0, 6, 0, CMD_MEMORY_TO_DISK)
    assert program(buses[0], RAM - 2, 6, 0, CMD_DISK_TO_MEMORY) == STATUS_OK
    assert memory.rams[0][RAM - 2:] == b"at"
    assert memory.rams[1][:4] == b"tack"
    last = controller.transfers[-1]
    assert last.pieces == ((0, RAM - 2, 2), (1, RAM, 4))
    assert last.outside_bytes == 4


def test_the_flawed_model_reads_another_vms_memory() -> None:
    memory, controller, buses = host(checked=False)
    memory.rams[1][0x10:0x16] = b"secret"
    assert program(buses[0], RAM + 0x10, 6, 0, CMD_MEMORY_TO_DISK) == STATUS_OK
    assert controller.disks[0][:6] == b"secret"


def test_past_the_last_vm_there_is_no_memory() -> None:
    _memory, controller, buses = host(checked=False)
    assert program(buses[1], RAM, 4, 0, CMD_DISK_TO_MEMORY) == STATUS_NO_MEMORY
    assert controller.transfers[-1].pieces == ((None, 2 * RAM, 4),)


@pytest.mark.parametrize(("address", "length"), [(RAM - 2, 6), (RAM, 1), (0xFFFFFFFF, 2)])
def test_the_fixed_model_refuses_a_buffer_that_leaves_the_callers_ram(
    address: int, length: int
) -> None:
    memory, controller, buses = host(checked=True)
    before = [bytes(r) for r in memory.rams]
    assert program(buses[0], address, length, 0, CMD_DISK_TO_MEMORY) == STATUS_OUTSIDE_RAM
    assert [bytes(r) for r in memory.rams] == before
    assert controller.transfers[-1].pieces == ()


@pytest.mark.parametrize("checked", [False, True])
def test_disk_bounds_and_unknown_commands_are_refused(checked: bool) -> None:
    _memory, _controller, buses = host(checked)
    assert program(buses[0], 0, 16, DISK_SIZE - 8, CMD_MEMORY_TO_DISK) == STATUS_OUTSIDE_DISK
    assert program(buses[0], 0, 16, 0, 7) == STATUS_BAD_COMMAND


def test_registers_read_back() -> None:
    _memory, _controller, buses = host(checked=True)
    bus = buses[0]
    bus.write(DMA_BASE, 4, 0x1234)
    bus.write(DMA_BASE + 4, 4, 0x20)
    bus.write(DMA_BASE + 8, 4, 0x40)
    assert [bus.read(DMA_BASE + r, 4) for r in (0, 4, 8)] == [0x1234, 0x20, 0x40]
