"""Port I/O dispatch: which device answers which port."""

from __future__ import annotations

from typing import Protocol


class PortDevice(Protocol):
    name: str

    def read(self, port: int, size: int) -> int: ...

    def write(self, port: int, size: int, value: int) -> None: ...


def _mask(size: int) -> int:
    return (1 << (8 * size)) - 1


class IoBus:
    """Routes IN and OUT to devices; unclaimed ports float high, as on a PC.

    The PC's chips are 8-bit devices: a 16- or 32-bit access to one of them is
    split into byte accesses to consecutive ports, low byte first, as the ISA
    bus (and QEMU) does. A device with an `io_width` attribute of 2 or 4 takes
    accesses up to that size whole (the debug-exit port takes a whole EAX).
    """

    def __init__(self) -> None:
        self._devices: dict[int, PortDevice] = {}

    def attach(self, device: PortDevice, ports: range | tuple[int, ...]) -> None:
        for port in ports:
            self._devices[port] = device

    def device_at(self, port: int) -> PortDevice | None:
        return self._devices.get(port)

    def _whole(self, device: PortDevice | None, size: int) -> bool:
        return size == 1 or (device is not None and getattr(device, "io_width", 1) >= size)

    def read(self, port: int, size: int) -> int:
        device = self._devices.get(port)
        if device is None and size == 1:
            return 0xFF
        if self._whole(device, size):
            assert device is not None
            return device.read(port, size) & _mask(size)
        return sum(self.read((port + i) & 0xFFFF, 1) << (8 * i) for i in range(size))

    def write(self, port: int, size: int, value: int) -> None:
        device = self._devices.get(port)
        value &= _mask(size)
        if self._whole(device, size):
            if device is not None:
                device.write(port, size, value)
            return
        for i in range(size):
            self.write((port + i) & 0xFFFF, 1, (value >> (8 * i)) & 0xFF)
