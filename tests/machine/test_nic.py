"""The emulated network card, on a link that records what it is given."""

from __future__ import annotations

import pytest

from vizvm.machine.devices.bus import IoBus
from vizvm.machine.devices.nic import (
    CMD_RECEIVE,
    CMD_SEND,
    MAX_FRAME,
    MAX_QUEUE,
    NIC_BASE,
    NIC_PORTS,
    STATUS_BAD_ADDRESS,
    STATUS_BAD_COMMAND,
    STATUS_BAD_LENGTH,
    STATUS_EMPTY,
    STATUS_OK,
    Nic,
    mac_of,
    show_mac,
)

RAM = 0x1000


class Recorder:
    def __init__(self) -> None:
        self.frames: list[tuple[Nic, bytes]] = []

    def transmit(self, sender: Nic, frame: bytes) -> None:
        self.frames.append((sender, frame))


def card() -> tuple[Nic, IoBus, bytearray, Recorder]:
    ram = bytearray(RAM)
    link = Recorder()

    def write(address: int, data: bytes) -> None:
        ram[address:address + len(data)] = data

    nic = Nic(mac_of(3), link, RAM, lambda a, n: bytes(ram[a:a + n]), write)
    bus = IoBus()
    bus.attach(nic, NIC_PORTS)
    return nic, bus, ram, link


def command(bus: IoBus, value: int) -> int:
    bus.write(NIC_BASE + 8, 4, value)
    return bus.read(NIC_BASE + 8, 4)


def test_send_reads_the_frame_from_ram_and_stamps_the_source_address() -> None:
    nic, bus, ram, link = card()
    ram[0x100:0x112] = b"\x0a" * 6 + b"\x00" * 6 + b"hello!"
    bus.write(NIC_BASE, 4, 0x100)
    bus.write(NIC_BASE + 4, 4, 18)
    assert command(bus, CMD_SEND) == STATUS_OK
    assert link.frames == [(nic, b"\x0a" * 6 + mac_of(3) + b"hello!")]


@pytest.mark.parametrize(("address", "length", "status"), [
    (0x100, 11, STATUS_BAD_LENGTH),
    (0x100, MAX_FRAME + 1, STATUS_BAD_LENGTH),
    (RAM - 12, 13, STATUS_BAD_ADDRESS),
])
def test_send_refuses_bad_buffers(address: int, length: int, status: int) -> None:
    _nic, bus, _ram, link = card()
    bus.write(NIC_BASE, 4, address)
    bus.write(NIC_BASE + 4, 4, length)
    assert command(bus, CMD_SEND) == status
    assert link.frames == []


def test_receive_copies_frames_in_order_then_reports_empty() -> None:
    nic, bus, ram, _link = card()
    nic.deliver(b"A" * 14)
    nic.deliver(b"B" * 20)
    assert bus.read(NIC_BASE + 0x14, 4) == 2
    bus.write(NIC_BASE + 0x0C, 4, 0x200)
    assert command(bus, CMD_RECEIVE) == STATUS_OK
    assert bus.read(NIC_BASE + 0x10, 4) == 14
    assert ram[0x200:0x20E] == b"A" * 14
    assert command(bus, CMD_RECEIVE) == STATUS_OK
    assert ram[0x200:0x214] == b"B" * 20
    assert command(bus, CMD_RECEIVE) == STATUS_EMPTY
    assert bus.read(NIC_BASE + 0x10, 4) == 0


def test_receive_into_a_buffer_past_ram_keeps_the_frame() -> None:
    nic, bus, _ram, _link = card()
    nic.deliver(b"C" * 20)
    bus.write(NIC_BASE + 0x0C, 4, RAM - 10)
    assert command(bus, CMD_RECEIVE) == STATUS_BAD_ADDRESS
    assert list(nic.inbox) == [b"C" * 20]


def test_a_full_queue_drops_frames() -> None:
    nic, _bus, _ram, _link = card()
    for _ in range(MAX_QUEUE + 2):
        nic.deliver(b"D" * 14)
    assert len(nic.inbox) == MAX_QUEUE and nic.dropped == 2


def test_mac_registers_and_unknown_commands() -> None:
    _nic, bus, _ram, _link = card()
    low, high = bus.read(NIC_BASE + 0x18, 4), bus.read(NIC_BASE + 0x1C, 4)
    assert (low | high << 32).to_bytes(6, "little") == mac_of(3)
    assert show_mac(mac_of(3)) == "02:00:00:00:00:03"
    assert command(bus, 9) == STATUS_BAD_COMMAND
