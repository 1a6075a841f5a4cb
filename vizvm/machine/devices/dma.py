"""A storage controller with DMA, emulated by the monitor and shared by a host's VMs.

Real monitors emulate disk and network controllers in software, and a bug
in such a device model is reachable from any guest that owns one: the
classic example is VENOM (CVE-2015-3456), a buffer overflow in QEMU's
floppy controller. This controller reproduces the simplest kind of flaw
there is: the guest programs a guest-physical address and a length, the
device adds the VM's base in host memory, and the *flawed* model never
checks that the range stays inside the VM's own RAM. The fixed model
checks it and reports an error status instead.

Each VM has its own registers (`DmaPort`) and its own virtual disk; the
transfer itself goes through `HostMemory`, which the host provides: host
physical memory with VM i's RAM at i * RAM size.

Registers (32-bit, at DMA_BASE):
  +0x0 ADDRESS   guest-physical address of the buffer
  +0x4 LENGTH    bytes to move (at most DISK_SIZE)
  +0x8 OFFSET    byte offset in the VM's virtual disk
  +0xC COMMAND   write: CMD_DISK_TO_MEMORY or CMD_MEMORY_TO_DISK, carried out at once
                 read: STATUS of the last command
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

DMA_BASE = 0xC000
DMA_PORTS = range(DMA_BASE, DMA_BASE + 16)
REG_ADDRESS, REG_LENGTH, REG_OFFSET, REG_COMMAND = 0x0, 0x4, 0x8, 0xC
DISK_SIZE = 64 * 1024

CMD_DISK_TO_MEMORY = 1  # read a disk block into guest memory
CMD_MEMORY_TO_DISK = 2  # write guest memory to the disk

STATUS_OK = 0x00
STATUS_NONE = 0xFF  # no command yet
STATUS_OUTSIDE_RAM = 0xE1  # the buffer leaves the VM's RAM (fixed model only)
STATUS_OUTSIDE_DISK = 0xE2  # offset + length leave the virtual disk
STATUS_BAD_COMMAND = 0xE3
STATUS_NO_MEMORY = 0xE4  # the host address has no memory at all (past the last VM)


class HostMemory(Protocol):
    """Host physical memory: every VM's RAM, one after the other."""

    ram_size: int

    def owner(self, host_address: int) -> int | None:
        """Which VM's RAM holds the host address (None: no memory there)."""
        ...

    def read(self, vm: int, address: int, size: int) -> bytes: ...

    def write(self, vm: int, address: int, data: bytes) -> None: ...


@dataclass(frozen=True)
class Transfer:
    """One DMA command as the device carried it out, for the host's log and figures."""

    caller: int  # the VM that programmed it
    command: int
    guest_address: int
    length: int
    status: int
    # (VM whose RAM was touched or None for no memory, host address, bytes)
    pieces: tuple[tuple[int | None, int, int], ...] = ()

    @property
    def outside_bytes(self) -> int:
        """Bytes that touched memory other than the caller's own RAM."""
        return sum(n for vm, _host, n in self.pieces if vm != self.caller)


@dataclass
class DmaController:
    """The device model the monitor runs; `checked` is the fix."""

    memory: HostMemory
    checked: bool
    transfers: list[Transfer] = field(default_factory=list)
    disks: dict[int, bytearray] = field(default_factory=dict)

    def port(self, vm: int) -> DmaPort:
        self.disks.setdefault(vm, bytearray(DISK_SIZE))
        return DmaPort(self, vm)

    def execute(self, vm: int, command: int, address: int, length: int, offset: int) -> int:
        status, pieces = self._carry_out(vm, command, address, length, offset)
        self.transfers.append(Transfer(vm, command, address, length, status, tuple(pieces)))
        return status

    def _carry_out(
        self, vm: int, command: int, address: int, length: int, offset: int
    ) -> tuple[int, list[tuple[int | None, int, int]]]:
        if command not in (CMD_DISK_TO_MEMORY, CMD_MEMORY_TO_DISK):
            return STATUS_BAD_COMMAND, []
        if offset + length > DISK_SIZE:
            return STATUS_OUTSIDE_DISK, []
        ram = self.memory.ram_size
        if self.checked and address + length > ram:
            return STATUS_OUTSIDE_RAM, []
        host = vm * ram + address  # the flaw: nothing above stops this leaving the VM
        pieces = list(self._split(host, length))
        disk = self.disks[vm]
        status = STATUS_OK
        done = 0
        for owner, start, size in pieces:
            if owner is None:
                status = STATUS_NO_MEMORY
            elif command == CMD_DISK_TO_MEMORY:
                chunk = bytes(disk[offset + done:offset + done + size])
                self.memory.write(owner, start - owner * ram, chunk)
            else:
                chunk = self.memory.read(owner, start - owner * ram, size)
                disk[offset + done:offset + done + size] = chunk
            done += size
        return status, pieces

    def _split(self, host: int, length: int):
        """The host range cut at the boundaries between VMs' RAM."""
        ram = self.memory.ram_size
        while length > 0:
            owner = self.memory.owner(host)
            size = min(length, ram - host % ram)
            yield owner, host, size
            host += size
            length -= size


@dataclass
class DmaPort:
    """One VM's view of the controller: its registers at DMA_BASE."""

    controller: DmaController
    vm: int
    name: str = "dma-disk"
    io_width: int = 4
    address: int = 0
    length: int = 0
    offset: int = 0
    status: int = STATUS_NONE

    def read(self, port: int, size: int) -> int:
        reg = port - DMA_BASE
        return {REG_ADDRESS: self.address, REG_LENGTH: self.length, REG_OFFSET: self.offset,
                REG_COMMAND: self.status}.get(reg, 0xFFFFFFFF)

    def write(self, port: int, size: int, value: int) -> None:
        reg = port - DMA_BASE
        if reg == REG_ADDRESS:
            self.address = value
        elif reg == REG_LENGTH:
            self.length = value
        elif reg == REG_OFFSET:
            self.offset = value
        elif reg == REG_COMMAND:
            self.status = self.controller.execute(
                self.vm, value, self.address, self.length, self.offset)
