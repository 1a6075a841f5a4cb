"""A network card emulated by the monitor: frames go to the host's virtual switch.

The card moves whole frames between guest memory and a link: a guest
programs a buffer address and a length and issues a command, the way
simple DMA network cards are driven. What happens to a frame after the
card is the host's business (`Link`): vizvm's virtual switch delivers it
to another VM's card, or sends it out of the host on the uplink.

A frame is Ethernet-shaped: destination address (6 bytes), source address
(6 bytes), then the payload. The card writes its own address as the
source, as a switch port with port security would.

Registers (32-bit, at NIC_BASE):
  +0x00 TX_ADDRESS  guest-physical address of the frame to send
  +0x04 TX_LENGTH   its length in bytes (MIN_FRAME .. MAX_FRAME)
  +0x08 COMMAND     write: CMD_SEND or CMD_RECEIVE, carried out at once
                    read: STATUS of the last command
  +0x0C RX_ADDRESS  guest-physical address where CMD_RECEIVE copies the next frame
  +0x10 RX_LENGTH   read: the length of the frame CMD_RECEIVE copied
  +0x14 PENDING     read: frames waiting to be received
  +0x18 MAC_LOW     read: bytes 0-3 of the card's address
  +0x1C MAC_HIGH    read: bytes 4-5 of the card's address
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

NIC_BASE = 0xC100
NIC_PORTS = range(NIC_BASE, NIC_BASE + 0x20)
REG_TX_ADDRESS, REG_TX_LENGTH, REG_COMMAND = 0x00, 0x04, 0x08
REG_RX_ADDRESS, REG_RX_LENGTH, REG_PENDING = 0x0C, 0x10, 0x14
REG_MAC_LOW, REG_MAC_HIGH = 0x18, 0x1C
MIN_FRAME = 12  # two addresses, no payload
MAX_FRAME = 1514
MAX_QUEUE = 64  # frames waiting in a card; more are dropped, as a full ring would

CMD_SEND = 1
CMD_RECEIVE = 2

STATUS_OK = 0x00
STATUS_NONE = 0xFF  # no command yet
STATUS_BAD_ADDRESS = 0xE1  # the buffer leaves the VM's RAM
STATUS_BAD_LENGTH = 0xE2
STATUS_BAD_COMMAND = 0xE3
STATUS_EMPTY = 0xE4  # CMD_RECEIVE with no frame waiting

BROADCAST = b"\xff" * 6


def mac_of(index: int) -> bytes:
    """The address a host gives its VM number `index`: locally administered, 02:00:00:00:00:NN."""
    return bytes((0x02, 0, 0, 0, (index >> 8) & 0xFF, index & 0xFF))


def show_mac(mac: bytes) -> str:
    return ":".join(f"{b:02x}" for b in mac)


class Link(Protocol):
    """Where a card's frames go: the host's virtual switch."""

    def transmit(self, sender: Nic, frame: bytes) -> None: ...


@dataclass
class Nic:
    """One VM's card. `read_ram` / `write_ram` reach the VM's own RAM (guest-physical)."""

    mac: bytes
    link: Link
    ram_size: int
    read_ram: Callable[[int, int], bytes]
    write_ram: Callable[[int, bytes], None]
    name: str = "nic"
    io_width: int = 4
    tx_address: int = 0
    tx_length: int = 0
    rx_address: int = 0
    rx_length: int = 0
    status: int = STATUS_NONE
    inbox: deque[bytes] = field(default_factory=deque)
    dropped: int = 0

    def deliver(self, frame: bytes) -> None:
        """A frame from the switch, queued until the guest receives it."""
        if len(self.inbox) >= MAX_QUEUE:
            self.dropped += 1
            return
        self.inbox.append(frame)

    def read(self, port: int, size: int) -> int:
        reg = port - NIC_BASE
        values = {
            REG_TX_ADDRESS: self.tx_address, REG_TX_LENGTH: self.tx_length,
            REG_COMMAND: self.status, REG_RX_ADDRESS: self.rx_address,
            REG_RX_LENGTH: self.rx_length, REG_PENDING: len(self.inbox),
            REG_MAC_LOW: int.from_bytes(self.mac[:4], "little"),
            REG_MAC_HIGH: int.from_bytes(self.mac[4:], "little"),
        }
        return values.get(reg, 0xFFFFFFFF)

    def write(self, port: int, size: int, value: int) -> None:
        reg = port - NIC_BASE
        if reg == REG_TX_ADDRESS:
            self.tx_address = value
        elif reg == REG_TX_LENGTH:
            self.tx_length = value
        elif reg == REG_RX_ADDRESS:
            self.rx_address = value
        elif reg == REG_COMMAND:
            self.status = self._command(value)

    def _inside(self, address: int, length: int) -> bool:
        return address + length <= self.ram_size

    def _command(self, command: int) -> int:
        if command == CMD_SEND:
            return self._send()
        if command == CMD_RECEIVE:
            return self._receive()
        return STATUS_BAD_COMMAND

    def _send(self) -> int:
        if not MIN_FRAME <= self.tx_length <= MAX_FRAME:
            return STATUS_BAD_LENGTH
        if not self._inside(self.tx_address, self.tx_length):
            return STATUS_BAD_ADDRESS
        frame = self.read_ram(self.tx_address, self.tx_length)
        self.link.transmit(self, frame[:6] + self.mac + frame[12:])
        return STATUS_OK

    def _receive(self) -> int:
        if not self.inbox:
            self.rx_length = 0
            return STATUS_EMPTY
        frame = self.inbox[0]
        if not self._inside(self.rx_address, len(frame)):
            return STATUS_BAD_ADDRESS
        self.inbox.popleft()
        self.write_ram(self.rx_address, frame)
        self.rx_length = len(frame)
        return STATUS_OK
