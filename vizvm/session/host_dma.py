"""The flawed-dma and fixed-dma scenarios: one emulated storage controller for every VM.

Host physical memory holds VM i's RAM at host address i * RAM size, as a
monitor that gives each VM one contiguous block would. The controller's
model (vizvm.machine.devices.dma) turns a guest-physical address into a
host one by adding the caller's base; without the bounds check, one VM's
DMA lands in the next VM's RAM. Those bytes are written into that VM's
Machine with write_physical, so its translations are dropped as for any
write to code.
"""

from __future__ import annotations

from vizvm.machine.devices.dma import (
    CMD_DISK_TO_MEMORY,
    DMA_BASE,
    DMA_PORTS,
    STATUS_BAD_COMMAND,
    STATUS_NO_MEMORY,
    STATUS_OK,
    STATUS_OUTSIDE_DISK,
    STATUS_OUTSIDE_RAM,
    DmaController,
    Transfer,
)
from vizvm.session.host import Guest, Outcome

DONE = (STATUS_OK, STATUS_NO_MEMORY)  # carried out (the second only in part)
STATUS_NAMES = {
    STATUS_OUTSIDE_RAM: "refused: the buffer leaves the VM's RAM",
    STATUS_OUTSIDE_DISK: "refused: outside the virtual disk",
    STATUS_BAD_COMMAND: "refused: unknown command",
}


class GuestsMemory:
    """Host physical memory, as the VMs' RAM one after the other."""

    def __init__(self, guests: list[Guest]) -> None:
        self.guests = guests
        self.ram_size = guests[0].machine.memory.ram_size

    def owner(self, host_address: int) -> int | None:
        index = host_address // self.ram_size
        return index if index < len(self.guests) else None

    def read(self, vm: int, address: int, size: int) -> bytes:
        return self.guests[vm].machine.memory.read_physical(address, size)

    def write(self, vm: int, address: int, data: bytes) -> None:
        self.guests[vm].machine.memory.write_physical(address, data)


class SharedDisk:
    """A scenario: every VM gets the controller's registers at DMA_BASE."""

    def __init__(self, *, checked: bool) -> None:
        self.checked = checked
        self.controller: DmaController | None = None

    def attach(self, guests: list[Guest]) -> None:
        self.controller = DmaController(GuestsMemory(guests), checked=self.checked)
        for guest in guests:
            guest.machine.bus.attach(self.controller.port(guest.index), DMA_PORTS)

    def after_slot(self, guests: list[Guest]) -> None:
        pass

    def outcome(self, guests: list[Guest]) -> Outcome:
        assert self.controller is not None
        transfers = self.controller.transfers
        written = [t for t in transfers if t.command == CMD_DISK_TO_MEMORY]
        read = [t for t in transfers if t.command != CMD_DISK_TO_MEMORY]
        figures: dict[str, int | float] = {
            "dma_requests": len(transfers),
            "dma_refused": sum(1 for t in transfers if t.status not in DONE),
            "cross_vm_bytes": sum(_into_others(t) for t in written),
            "cross_vm_bytes_read": sum(_into_others(t) for t in read),
            "bounds_checked": int(self.checked),
        }
        names = [g.name for g in guests]
        ram = guests[0].machine.memory.ram_size
        log = [f"host: {len(guests)} VMs of {ram >> 20} MiB each; "
               + ", ".join(f"{g.name} at host {g.index * ram:#010x}" for g in guests)
               + f"; the DMA controller at ports {DMA_BASE:#06x}-{DMA_BASE + 15:#06x} "
               + ("checks each request against the caller's RAM"
                  if self.checked else "does not check requests against the caller's RAM")]
        log += [line for t in transfers for line in _narrate(t, names, ram)]
        return Outcome(figures=figures, log=log)


def _into_others(transfer: Transfer) -> int:
    """Bytes moved to or from another VM's RAM (not the caller's, not missing memory)."""
    return sum(n for vm, _host, n in transfer.pieces if vm is not None and vm != transfer.caller)


def _narrate(t: Transfer, names: list[str], ram: int) -> list[str]:
    who = names[t.caller]
    verb = "wrote" if t.command == CMD_DISK_TO_MEMORY else "read"
    if t.status not in DONE:
        reason = STATUS_NAMES.get(t.status, f"status {t.status:#04x}")
        return [f"{who}'s DMA of {t.length} bytes at guest-physical {t.guest_address:#010x}: "
                f"{reason} (status {t.status:#04x})"]
    lines = []
    for vm, host, size in t.pieces:
        if vm is None:
            where = "past the end of host memory: lost"
        elif vm == t.caller:
            where = f"inside {who}'s own RAM"
        else:
            where = f"inside {names[vm]}'s RAM (its guest-physical {host - vm * ram:#010x})"
        lines.append(f"{who}'s DMA {verb} {size} bytes at host {host:#010x}: {where}")
    return lines
