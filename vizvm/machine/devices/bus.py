"""Port I/O dispatch: which device answers which port."""

from __future__ import annotations

from typing import Protocol


class PortDevice(Protocol):
    name: str

    def read(self, port: int, size: int) -> int: ...

    def write(self, port: int, size: int, value: int) -> None: ...


class IoBus:
    """Routes IN and OUT to devices; unclaimed ports float high, as on a PC."""

    def __init__(self) -> None:
        self._devices: dict[int, PortDevice] = {}

    def attach(self, device: PortDevice, ports: range | tuple[int, ...]) -> None:
        for port in ports:
            self._devices[port] = device

    def device_at(self, port: int) -> PortDevice | None:
        return self._devices.get(port)

    def read(self, port: int, size: int) -> int:
        device = self._devices.get(port)
        if device is None:
            return (1 << (8 * size)) - 1
        return device.read(port, size) & ((1 << (8 * size)) - 1)

    def write(self, port: int, size: int, value: int) -> None:
        device = self._devices.get(port)
        if device is not None:
            device.write(port, size, value & ((1 << (8 * size)) - 1))
