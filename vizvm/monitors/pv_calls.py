"""What the monitor does for each hypercall (the table is vizvm.monitors.pv_hypercalls).

Each call works on the virtual CPU and the monitor's own copies of the
guest's tables, or on the machine's devices, which belong to the monitor
under paravirtualization: the guest never touches a port. A call that
cannot be carried out raises HypercallError; the monitor then stops the
guest with that message, where Xen would return an error code that a
kernel typically treats as fatal anyway.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from vizvm.machine.cpu import IF
from vizvm.machine.devices.debug_exit import DEBUG_EXIT_PORT
from vizvm.machine.devices.serial import COM1_BASE
from vizvm.machine.memory import MachineError
from vizvm.machine.vectors import CpuFault
from vizvm.monitors import pv_tables, segments
from vizvm.monitors.core import MonitorCore
from vizvm.monitors.pv_hypercalls import (
    HYPERCALL_VECTOR,
    MAX_CONSOLE_WRITE,
    Hypercall,
    HypercallError,
)
from vizvm.monitors.segments import Unsupported

PIT_CONTROL, PIT_CHANNEL0 = 0x43, 0x40
PIT_CHANNEL0_MODE2 = 0x34  # channel 0, low byte then high byte, mode 2 (rate generator)
PIC_COMMAND, PIC_DATA = 0x20, 0x21
# ICW1 (edge, cascade, ICW4), ICW2 (vectors 0x20-0x27), ICW3 (slave on IRQ 2), ICW4
# (8086 mode, automatic EOI: the monitor never has to send one), then only IRQ 0 open
PIC_SETUP = ((PIC_COMMAND, 0x11), (PIC_DATA, 0x20), (PIC_DATA, 0x04), (PIC_DATA, 0x03),
             (PIC_DATA, 0xFE))
MIN_PERIOD, MAX_PERIOD = 2, 0xFFFF  # what the 8254's mode 2 can count


@dataclass(frozen=True)
class Done:
    """What a call did, for the event list, and what the monitor does next."""

    summary: str
    result: int | None  # into EAX; None when the call set the registers itself
    wake: bool = False  # the virtual IF may have opened: a held interrupt may be due
    halted: bool = False  # the virtual CPU now waits for an event
    report: bool = True  # an EMULATE event for the work (a multicall reports its entries)


def _text(data: bytes, limit: int = 40) -> str:
    shown = data[:limit].decode("ascii", errors="replace")
    return repr(shown + ("..." if len(data) > limit else ""))


class Calls:
    """The monitor's side of every hypercall but the multicall (see paravirt.py)."""

    def __init__(self, core: MonitorCore) -> None:
        self.core = core
        self.timer_vector: int | None = None  # where the timer's interrupts go
        self._pic_ready = False

    def run(self, call: Hypercall, args: tuple[int, ...]) -> Done:
        handler = getattr(self, f"_{call.name}")
        try:
            return handler(*args[: len(call.params)])
        except (CpuFault, Unsupported, MachineError) as exc:
            raise HypercallError(str(exc)) from None

    def _console_write(self, address: int, length: int) -> Done:
        if length > MAX_CONSOLE_WRITE:
            raise HypercallError(f"a buffer of {length} bytes: at most {MAX_CONSOLE_WRITE} per "
                                 f"call, so that one call cannot hold the monitor for long; "
                                 f"write longer text in pieces")
        data = pv_tables.guest_bytes(self.core, address, length, "the buffer")
        machine = self.core.machine
        for byte in data:
            machine.port_write(COM1_BASE, 1, byte, cost="")  # the monitor's own device
        unit = "byte" if length == 1 else "bytes"
        return Done(f"wrote {length} {unit} to the console: {_text(data)}", length)

    def _set_gdt(self, address: int, entries: int) -> Done:
        table = pv_tables.read_gdt(self.core, address, entries)
        clipped = pv_tables.install_gdt(self.core, table)
        cut = f"; {clipped} limits cut short of the monitor's memory" if clipped else ""
        return Done(f"checked {entries} descriptors (none grants ring 0) and installed a copy "
                    f"the guest cannot write{cut}", 0)

    def _set_trap_table(self, address: int) -> Done:
        if address == 0:
            pv_tables.clear_trap_table(self.core)
            return Done("emptied the trap table", 0)
        vectors = pv_tables.load_trap_table(self.core, address)
        note = (f"; vector {HYPERCALL_VECTOR:#x} stays the monitor's"
                if HYPERCALL_VECTOR in vectors else "")
        return Done(f"checked {len(vectors)} trap handlers and built an IDT from them that "
                    f"only the monitor can see{note}", 0)

    def _stack_switch(self, ss: int, esp: int) -> Done:
        pv_tables.stack_switch(self.core, ss, esp)
        return Done(f"noted {ss:#06x}:{esp:#010x} as the stack for events that interrupt "
                    f"ring 3", 0)

    def _set_interrupt_flag(self, on: int) -> Done:
        vcpu = self.core.vcpu
        old = vcpu.interrupts
        vcpu.interrupts = bool(on)
        state = "set the virtual IF: events may be delivered" if on else (
            "cleared the virtual IF: events are held back")
        return Done(f"{state} (it was {int(old)})", int(old), wake=bool(on))

    def _set_timer(self, period: int, vector: int) -> Done:
        machine = self.core.machine
        if period == 0:
            machine.pit.write(PIT_CONTROL, 1, PIT_CHANNEL0_MODE2)  # a control word stops it
            if self._pic_ready:
                machine.pic.write(PIC_DATA, 1, 0xFF)  # and a tick already raised stays masked
            self.timer_vector = None
            machine.request_stop()
            return Done("stopped the timer", 0)
        if not MIN_PERIOD <= period <= MAX_PERIOD:
            raise HypercallError(f"a period of {period} instructions: the timer counts "
                                 f"{MIN_PERIOD} to {MAX_PERIOD} (0 stops it)")
        if not 0x20 <= vector <= 0xFF or vector == HYPERCALL_VECTOR:
            raise HypercallError(f"vector {vector:#x}: 0-0x1f are the CPU's exceptions and "
                                 f"{HYPERCALL_VECTOR:#x} is the hypercall gate")
        if not self._pic_ready:  # the devices are the monitor's: it writes them directly
            for port, value in PIC_SETUP:
                machine.pic.write(port, 1, value)
            self._pic_ready = True
        machine.pit.write(PIT_CONTROL, 1, PIT_CHANNEL0_MODE2)
        machine.pit.write(PIT_CHANNEL0, 1, period & 0xFF)
        machine.pit.write(PIT_CHANNEL0, 1, period >> 8)
        self.timer_vector = vector
        machine.request_stop()  # the next timer edge moved: let the run loop look again
        return Done(f"programmed its PIT to interrupt every {period} instructions and its PIC "
                    f"to pass IRQ 0 with automatic EOI; timer events go to vector "
                    f"{vector:#04x} of the trap table", 0)

    def _yield(self) -> Done:
        self.core.vcpu.interrupts = True
        self.core.machine.halted = True
        return Done("set the virtual IF and let the virtual CPU wait for the next event", 0,
                    halted=True)

    def _iret(self) -> Done:
        """Xen's HYPERVISOR_iret: the frame below a saved EAX, the virtual IF from it."""
        core = self.core
        cpu = core.cpu
        ss_base = cpu.begin().segment("ss")[1]
        esp = cpu.read("esp")
        at = (ss_base + esp) & 0xFFFFFFFF
        frame = pv_tables.guest_bytes(core, at, 16, "the iret frame")
        eax, _eip, cs, eflags = struct.unpack("<4I", frame)
        if cs & 3 > core.vcpu.cpl:  # outward: ESP and SS follow, and must be the guest's too
            pv_tables.guest_bytes(core, at, 24, "the iret frame")
        cpu.write("esp", esp + 4)
        try:
            segments.iret(core)
        except (CpuFault, Unsupported) as exc:
            cpu.write("esp", esp)
            raise HypercallError(f"the frame at ESP {esp:#010x} cannot be returned to: "
                                 f"{exc}") from None
        cpu.write("eax", eax)
        core.vcpu.interrupts = bool(eflags & IF)
        state = "on" if core.vcpu.interrupts else "off"
        return Done(f"returned to {core.virtual_selector('cs'):#06x}:{cpu.eip:#010x} with the "
                    f"virtual IF {state}, as IRETD at ring 1 could not", None, wake=True)

    def _poweroff(self, code: int) -> Done:
        self.core.machine.port_write(DEBUG_EXIT_PORT, 1, code & 0xFF, cost="")
        return Done(f"powered the machine off with exit code {code & 0xFF}", None)
