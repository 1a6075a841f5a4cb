"""The device models, driven through their ports as a guest would, without a CPU.

The expected behaviour is the datasheets' (Intel 8259A, 8254, NS 16550A) and
the PC's wiring; where the machine departs on purpose (the PIT's clock is
the instruction count), the test says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from vizvm.machine.devices import serial as serial_module
from vizvm.machine.devices.bus import IoBus
from vizvm.machine.devices.debug_exit import DEBUG_EXIT_PORT, DebugExit
from vizvm.machine.devices.pic import PicPair
from vizvm.machine.devices.pit import Pit
from vizvm.machine.devices.serial import COM1_PORTS, Serial

# --- the bus ---------------------------------------------------------------------------


@dataclass
class Recorder:
    """A device that remembers every access and answers a fixed value."""

    name: str = "recorder"
    answer: int = 0x1FF
    io_width: int = 1
    accesses: list[tuple[str, int, int, int | None]] = field(default_factory=list)

    def read(self, port: int, size: int) -> int:
        self.accesses.append(("in", port, size, None))
        return self.answer

    def write(self, port: int, size: int, value: int) -> None:
        self.accesses.append(("out", port, size, value))


@pytest.mark.parametrize(("size", "expected"), [(1, 0xFF), (2, 0xFFFF), (4, 0xFFFF_FFFF)])
def test_an_unclaimed_port_reads_all_ones(size: int, expected: int) -> None:
    assert IoBus().read(0x80, size) == expected


def test_a_write_to_an_unclaimed_port_reaches_no_device() -> None:
    bus, neighbour = IoBus(), Recorder()
    bus.attach(neighbour, (0x81,))
    bus.write(0x80, 1, 0x12)
    assert neighbour.accesses == []
    assert bus.read(0x80, 1) == 0xFF


@pytest.mark.parametrize(
    ("size", "value", "delivered"),
    [(1, 0x1234_5678, 0x78), (2, 0x1234_5678, 0x5678), (4, 0x1_2345_6789, 0x2345_6789)],
)
def test_a_written_value_is_cut_to_the_access_size(size: int, value: int, delivered: int) -> None:
    bus, device = IoBus(), Recorder(io_width=4)
    bus.attach(device, (0x60,))
    bus.write(0x60, size, value)
    assert device.accesses == [("out", 0x60, size, delivered)]


@pytest.mark.parametrize(("size", "expected"), [(1, 0xFF), (2, 0x01FF), (4, 0x01FF)])
def test_a_read_value_is_cut_to_the_access_size(size: int, expected: int) -> None:
    bus = IoBus()
    bus.attach(Recorder(answer=0x01FF, io_width=4), (0x60,))
    assert bus.read(0x60, size) == expected


def test_a_word_access_to_a_byte_device_is_split_into_bytes_low_first() -> None:
    bus, device = IoBus(), Recorder(answer=0xAB)
    bus.attach(device, (0x20, 0x21))
    bus.write(0x20, 2, 0x1234)
    assert device.accesses == [("out", 0x20, 1, 0x34), ("out", 0x21, 1, 0x12)]
    assert bus.read(0x20, 2) == 0xABAB


def test_a_dword_read_straddling_an_unclaimed_port_gets_ones_there() -> None:
    bus = IoBus()
    bus.attach(Recorder(answer=0x12), (0x40,))
    assert bus.read(0x40, 4) == 0xFFFF_FF12


# --- the debug-exit port ------------------------------------------------------------------


def test_the_first_write_to_debug_exit_is_the_exit_code() -> None:
    device = DebugExit()
    device.write(DEBUG_EXIT_PORT, 1, 3)
    device.write(DEBUG_EXIT_PORT, 1, 7)
    assert device.code == 3


def test_debug_exit_takes_a_whole_dword_through_the_bus() -> None:
    bus, device = IoBus(), DebugExit()
    bus.attach(device, (DEBUG_EXIT_PORT,))
    bus.write(DEBUG_EXIT_PORT, 4, 0x1234_5678)
    assert device.code == 0x1234_5678


def test_debug_exit_has_no_code_until_written_and_reads_ones() -> None:
    device = DebugExit()
    assert device.code is None
    assert device.read(DEBUG_EXIT_PORT, 1) == 0xFF


# --- COM1 -------------------------------------------------------------------------------

THR = RBR = DLL = 0x3F8
IER = DLM = 0x3F9
IIR = 0x3FA
LCR = 0x3FB
MCR = 0x3FC
LSR = 0x3FD
MSR = 0x3FE
SCR = 0x3FF


def test_com1_occupies_eight_ports() -> None:
    assert list(COM1_PORTS) == list(range(0x3F8, 0x400))


def test_bytes_written_to_the_transmitter_are_collected() -> None:
    uart = Serial()
    for byte in b"hi\n":
        uart.write(THR, 1, byte)
    assert bytes(uart.output) == b"hi\n"


def test_the_line_status_reports_the_transmitter_empty_and_no_data() -> None:
    uart = Serial()
    assert uart.read(LSR, 1) == 0x60
    uart.write(THR, 1, 0x41)
    assert uart.read(LSR, 1) == 0x60  # transmission is instant


def test_fed_bytes_raise_data_ready_and_are_read_in_order() -> None:
    uart = Serial()
    uart.feed(b"ok")
    assert uart.read(LSR, 1) == 0x61
    assert [uart.read(RBR, 1), uart.read(RBR, 1)] == [ord("o"), ord("k")]
    assert uart.read(LSR, 1) == 0x60


def test_the_receiver_buffer_keeps_its_last_byte_once_read() -> None:
    uart = Serial()
    uart.feed(b"z")
    uart.read(RBR, 1)
    assert uart.read(RBR, 1) == ord("z")
    assert uart.read(LSR, 1) & 1 == 0


def test_dlab_switches_the_first_two_ports_to_the_divisor_latch() -> None:
    uart = Serial()
    uart.write(IER, 1, 0x01)
    uart.write(LCR, 1, 0x83)  # DLAB, 8 bits
    uart.write(DLL, 1, 0x03)
    uart.write(DLM, 1, 0x00)
    assert (uart.read(DLL, 1), uart.read(DLM, 1)) == (0x03, 0x00)
    assert uart.output == b""  # the divisor write did not transmit
    uart.write(LCR, 1, 0x03)
    assert uart.read(IER, 1) == 0x01
    uart.write(THR, 1, 0x42)
    assert bytes(uart.output) == b"B"
    assert uart.divisor == 3


def test_the_scratch_register_keeps_what_was_written() -> None:
    uart = Serial()
    uart.write(SCR, 1, 0x5A)
    assert uart.read(SCR, 1) == 0x5A


def test_no_interrupt_is_ever_pending() -> None:
    uart = Serial()
    uart.write(IER, 1, 0x0F)
    assert uart.read(IIR, 1) & 1 == 1


def test_loopback_returns_sent_bytes_to_the_receiver_and_prints_nothing() -> None:
    """OSDev-style driver code checks the UART by sending 0xAE to itself."""
    uart = Serial()
    uart.feed(b"x")
    uart.write(MCR, 1, 0x1E)  # loopback, RTS, OUT1, OUT2
    assert uart.read(LSR, 1) & 1 == 0  # the line from outside is cut
    uart.write(THR, 1, 0xAE)
    assert uart.read(LSR, 1) & 1 == 1
    assert uart.read(RBR, 1) == 0xAE
    assert uart.output == b""
    assert uart.read(MSR, 1) == 0xD0  # RTS->CTS, OUT1->RI, OUT2->DCD
    uart.write(MCR, 1, 0x0F)
    assert uart.read(RBR, 1) == ord("x")
    uart.write(THR, 1, 0x41)
    assert bytes(uart.output) == b"A"


def test_output_beyond_the_limit_is_counted_as_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serial_module, "OUTPUT_LIMIT", 4)
    uart = Serial()
    for byte in b"abcdefg":
        uart.write(THR, 1, byte)
    assert (bytes(uart.output), uart.dropped) == (b"abcd", 3)


# --- the two 8259A ------------------------------------------------------------------------


def initialise(pic: PicPair, icw4: int = 0x01, slave_icw4: int | None = None) -> None:
    """What a PC kernel writes: vectors 0x20 and 0x28, the slave on IRQ 2."""
    pic.write(0x20, 1, 0x11)
    pic.write(0xA0, 1, 0x11)
    pic.write(0x21, 1, 0x20)
    pic.write(0xA1, 1, 0x28)
    pic.write(0x21, 1, 0x04)
    pic.write(0xA1, 1, 0x02)
    pic.write(0x21, 1, icw4)
    pic.write(0xA1, 1, icw4 if slave_icw4 is None else slave_icw4)


def ready_pic(masks: tuple[int, int] = (0x00, 0x00), **kw: int) -> PicPair:
    pic = PicPair()
    initialise(pic, **kw)
    pic.write(0x21, 1, masks[0])
    pic.write(0xA1, 1, masks[1])
    return pic


def isr(pic: PicPair, command: int = 0x20) -> int:
    pic.write(command, 1, 0x0B)  # OCW3: read ISR
    return pic.read(command, 1)


def irr(pic: PicPair, command: int = 0x20) -> int:
    pic.write(command, 1, 0x0A)  # OCW3: read IRR
    return pic.read(command, 1)


def test_initialisation_sets_the_vector_bases_and_clears_the_masks() -> None:
    pic = PicPair()
    assert (pic.read(0x21, 1), pic.read(0xA1, 1)) == (0xFF, 0xFF)  # as the BIOS left them
    initialise(pic)
    assert (pic.master.vector_base, pic.slave.vector_base) == (0x20, 0x28)
    assert (pic.read(0x21, 1), pic.read(0xA1, 1)) == (0x00, 0x00)  # ICW1 clears IMR
    pic.raise_irq(0)
    assert pic.acknowledge() == (0x20, 0)


def test_the_low_three_bits_of_icw2_are_ignored() -> None:
    pic = PicPair()
    pic.write(0x20, 1, 0x11)
    pic.write(0x21, 1, 0x47)
    assert pic.master.vector_base == 0x40


@pytest.mark.parametrize(
    ("icw1", "words"),
    [
        (0x11, 3),  # cascade, ICW4: ICW2, ICW3, ICW4
        (0x10, 2),  # cascade, no ICW4: ICW2, ICW3
        (0x13, 2),  # single, ICW4: ICW2, ICW4
        (0x12, 1),  # single, no ICW4: ICW2
    ],
)
def test_the_initialisation_words_expected_follow_icw1(icw1: int, words: int) -> None:
    pic = PicPair()
    pic.write(0x20, 1, icw1)
    for _ in range(words):
        pic.write(0x21, 1, 0x08)
    pic.write(0x21, 1, 0xA5)  # the next data write is OCW1
    assert pic.read(0x21, 1) == 0xA5


def test_a_masked_request_waits_in_irr_until_unmasked() -> None:
    pic = ready_pic(masks=(0x01, 0x00))
    pic.raise_irq(0)
    assert not pic.has_interrupt()
    assert irr(pic) == 0x01
    pic.write(0x21, 1, 0x00)
    assert pic.has_interrupt()
    assert pic.acknowledge() == (0x20, 0)
    assert irr(pic) == 0


@pytest.mark.parametrize(
    ("masks", "irq", "expected"),
    [
        ((0x00, 0x00), 0, True),
        ((0x01, 0x00), 0, False),
        ((0x00, 0x00), 12, True),
        ((0x00, 0x10), 12, False),
        ((0x04, 0x00), 12, False),  # the cascade line is masked on the master
    ],
)
def test_unmasked_follows_both_masks(masks: tuple[int, int], irq: int, expected: bool) -> None:
    assert ready_pic(masks=masks).unmasked(irq) is expected


def test_the_lowest_line_has_the_highest_priority() -> None:
    pic = ready_pic()
    pic.raise_irq(3)
    pic.raise_irq(1)
    assert pic.acknowledge() == (0x21, 1)
    assert isr(pic) == 0b0000_0010


def test_an_interrupt_in_service_blocks_its_level_and_the_ones_below() -> None:
    pic = ready_pic()
    pic.raise_irq(3)
    pic.acknowledge()
    pic.raise_irq(5)
    pic.raise_irq(3)
    assert not pic.has_interrupt()
    pic.raise_irq(1)
    assert pic.acknowledge() == (0x21, 1)  # a higher level nests
    assert isr(pic) == 0b0000_1010


def test_a_non_specific_eoi_ends_the_highest_level_in_service() -> None:
    pic = ready_pic()
    pic.raise_irq(3)
    pic.acknowledge()
    pic.raise_irq(1)
    pic.acknowledge()
    pic.write(0x20, 1, 0x20)
    assert isr(pic) == 0b0000_1000
    pic.write(0x20, 1, 0x20)
    assert isr(pic) == 0


def test_a_specific_eoi_ends_the_level_it_names() -> None:
    pic = ready_pic()
    pic.raise_irq(3)
    pic.acknowledge()
    pic.raise_irq(1)
    pic.acknowledge()
    pic.write(0x20, 1, 0x63)  # specific EOI, level 3
    assert isr(pic) == 0b0000_0010


def test_rotate_on_non_specific_eoi_makes_the_served_level_lowest() -> None:
    pic = ready_pic()
    pic.raise_irq(1)
    pic.acknowledge()
    pic.write(0x20, 1, 0xA0)
    pic.raise_irq(1)
    pic.raise_irq(4)
    assert pic.acknowledge() == (0x24, 4)  # order is now 2, 3, ..., 7, 0, 1


def test_rotate_on_specific_eoi_makes_the_named_level_lowest() -> None:
    pic = ready_pic()
    pic.raise_irq(2)
    pic.acknowledge()
    pic.write(0x20, 1, 0xE2)
    assert isr(pic) == 0
    pic.raise_irq(2)
    pic.raise_irq(7)
    assert pic.acknowledge() == (0x27, 7)


def test_set_priority_names_the_lowest_level() -> None:
    pic = ready_pic()
    pic.write(0x20, 1, 0xC4)  # IRQ 4 lowest, so 5 is highest
    pic.raise_irq(3)
    pic.raise_irq(5)
    assert pic.acknowledge() == (0x25, 5)


def test_rotation_also_changes_which_level_a_non_specific_eoi_ends() -> None:
    pic = ready_pic()
    pic.write(0x20, 1, 0xC4)  # priority 5, 6, 7, 0, 1, 2, 3, 4
    pic.raise_irq(1)
    pic.acknowledge()
    pic.raise_irq(6)
    pic.acknowledge()  # 6 outranks 1 now
    pic.write(0x20, 1, 0x20)
    assert isr(pic) == 0b0000_0010


def test_auto_eoi_leaves_nothing_in_service() -> None:
    pic = ready_pic(icw4=0x03)
    pic.raise_irq(1)
    assert pic.acknowledge() == (0x21, 1)
    assert isr(pic) == 0
    pic.raise_irq(5)
    assert pic.has_interrupt()  # no level blocks a lower one


@pytest.mark.parametrize(("command", "second"), [(0x80, (0x21, 1)), (0x00, (0x20, 0))])
def test_rotate_in_auto_eoi_mode_is_set_and_cleared_by_ocw2(
    command: int, second: tuple[int, int]
) -> None:
    pic = ready_pic(icw4=0x03)
    pic.write(0x20, 1, command)
    pic.raise_irq(0)
    pic.acknowledge()
    pic.raise_irq(0)
    pic.raise_irq(1)
    assert pic.acknowledge() == second


def test_irr_and_isr_are_read_through_ocw3_and_the_choice_sticks() -> None:
    pic = ready_pic()
    pic.raise_irq(4)
    pic.raise_irq(6)
    pic.acknowledge()
    pic.write(0x20, 1, 0x0A)
    assert [pic.read(0x20, 1), pic.read(0x20, 1)] == [0b0100_0000, 0b0100_0000]
    pic.write(0x20, 1, 0x0B)
    assert [pic.read(0x20, 1), pic.read(0x20, 1)] == [0b0001_0000, 0b0001_0000]
    pic.write(0x20, 1, 0x08)  # OCW3 without RR: the choice stays
    assert pic.read(0x20, 1) == 0b0001_0000


def test_a_slave_interrupt_comes_through_master_irq_2() -> None:
    pic = ready_pic()
    pic.raise_irq(12)
    assert pic.has_interrupt()
    assert pic.acknowledge() == (0x2C, 12)
    assert isr(pic, 0x20) == 0b0000_0100
    assert isr(pic, 0xA0) == 0b0001_0000
    pic.write(0xA0, 1, 0x20)
    pic.write(0x20, 1, 0x20)
    assert (isr(pic, 0x20), isr(pic, 0xA0)) == (0, 0)


def test_a_master_line_above_the_cascade_outranks_the_slave() -> None:
    pic = ready_pic()
    pic.raise_irq(9)
    pic.raise_irq(1)
    assert pic.acknowledge() == (0x21, 1)
    assert not pic.has_interrupt()  # IRQ 1 in service holds back the cascade
    pic.write(0x20, 1, 0x20)
    assert pic.acknowledge() == (0x29, 9)


def test_the_slave_is_silenced_by_masking_irq_2_on_the_master() -> None:
    pic = ready_pic(masks=(0x04, 0x00))
    pic.raise_irq(8)
    assert not pic.has_interrupt()


def test_without_special_fully_nested_mode_a_slave_interrupt_blocks_the_slave() -> None:
    pic = ready_pic()
    pic.raise_irq(9)
    pic.acknowledge()
    pic.raise_irq(8)  # higher than 9 on the slave, but the master has IRQ 2 in service
    assert not pic.has_interrupt()


def test_special_fully_nested_mode_lets_a_higher_slave_interrupt_nest() -> None:
    pic = ready_pic(icw4=0x11, slave_icw4=0x01)
    pic.raise_irq(9)
    pic.acknowledge()
    pic.raise_irq(10)  # lower than 9 on the slave: the slave holds it back
    assert not pic.has_interrupt()
    pic.raise_irq(8)
    assert pic.acknowledge() == (0x28, 8)


def test_an_acknowledge_with_nothing_pending_is_a_spurious_irq_7() -> None:
    pic = ready_pic()
    assert not pic.has_interrupt()
    assert pic.acknowledge() == (0x27, 7)
    assert isr(pic) == 0


def test_the_poll_command_acknowledges_the_highest_request() -> None:
    pic = ready_pic()
    pic.raise_irq(5)
    pic.write(0x20, 1, 0x0C)  # OCW3: poll
    assert pic.read(0x20, 1) == 0x85
    assert isr(pic) == 0b0010_0000
    assert irr(pic) == 0
    pic.write(0x20, 1, 0x0C)
    assert pic.read(0x20, 1) == 0x00  # nothing requesting (5 is in service)


def test_polling_the_master_reports_a_slave_request_as_irq_2() -> None:
    pic = ready_pic()
    pic.raise_irq(11)
    pic.write(0x20, 1, 0x0C)
    assert pic.read(0x20, 1) == 0x82
    pic.write(0xA0, 1, 0x0C)
    assert pic.read(0xA0, 1) == 0x83


def test_special_mask_mode_lets_lower_levels_past_a_masked_level_in_service() -> None:
    pic = ready_pic()
    pic.raise_irq(1)
    pic.acknowledge()
    pic.raise_irq(4)
    assert not pic.has_interrupt()
    pic.write(0x21, 1, 0x02)  # mask the level in service
    pic.write(0x20, 1, 0x68)  # OCW3: set special mask mode
    assert pic.acknowledge() == (0x24, 4)
    pic.write(0x20, 1, 0x48)  # OCW3: reset special mask mode
    pic.raise_irq(6)
    assert not pic.has_interrupt()


def test_icw1_ends_what_was_in_service_and_pending() -> None:
    pic = ready_pic()
    pic.raise_irq(3)
    pic.acknowledge()
    pic.raise_irq(4)
    initialise(pic)
    assert (isr(pic), irr(pic)) == (0, 0)


# --- the 8254 ---------------------------------------------------------------------------


@dataclass
class Clock:
    ticks: int = 0

    def __call__(self) -> int:
        return self.ticks


def control(channel: int, access: int, mode: int, bcd: bool = False) -> int:
    return (channel << 6) | (access << 4) | (mode << 1) | int(bcd)


def program(pit: Pit, count: int, mode: int = 2, channel: int = 0, bcd: bool = False) -> None:
    pit.write(0x43, 1, control(channel, 3, mode, bcd))
    pit.write(0x40 + channel, 1, count & 0xFF)
    pit.write(0x40 + channel, 1, count >> 8)


def latched_count(pit: Pit, channel: int = 0) -> int:
    pit.write(0x43, 1, control(channel, 0, 0))
    low = pit.read(0x40 + channel, 1)
    return low | pit.read(0x40 + channel, 1) << 8


@pytest.mark.parametrize(("written", "mode"), [(0, 0), (2, 2), (3, 3), (4, 4), (6, 2), (7, 3)])
def test_the_control_word_selects_the_mode_and_6_and_7_mean_2_and_3(
    written: int, mode: int
) -> None:
    pit = Pit(Clock())
    pit.write(0x43, 1, control(0, 3, written))
    assert pit.channels[0].mode == mode


@pytest.mark.parametrize(
    ("access", "writes", "period"),
    [(1, [0x34], 0x34), (2, [0x12], 0x1200), (3, [0x34, 0x12], 0x1234), (3, [0, 0], 0x10000)],
)
def test_the_access_mode_decides_which_bytes_of_the_count_are_written(
    access: int, writes: list[int], period: int
) -> None:
    clock = Clock(100)
    pit = Pit(clock)
    pit.write(0x43, 1, control(0, access, 2))
    for byte in writes:
        assert pit.next_edge() is None  # not counting until the count is complete
        pit.write(0x40, 1, byte)
    assert pit.next_edge() == 100 + period


@pytest.mark.parametrize(("count", "period"), [(0x0000, 10000), (0x0100, 100), (0x9999, 9999)])
def test_a_bcd_count_is_read_as_decimal_digits(count: int, period: int) -> None:
    pit = Pit(Clock())
    program(pit, count, bcd=True)
    assert pit.next_edge() == period


@pytest.mark.parametrize("mode", [2, 3])
def test_a_periodic_mode_gives_one_edge_per_period_at_exact_ticks(mode: int) -> None:
    clock = Clock(50)
    pit = Pit(clock)
    program(pit, 1000, mode)
    assert pit.next_edge() == 1050
    assert pit.collect_edges(1049) == 0
    assert pit.collect_edges(1050) == 1
    assert pit.collect_edges(1050) == 0  # collected edges are gone
    assert pit.next_edge() == 2050
    assert pit.collect_edges(4049) == 2
    assert pit.collect_edges(4050) == 1
    assert pit.next_edge() == 5050


@pytest.mark.parametrize("mode", [0, 4])
def test_a_one_shot_mode_gives_one_edge_once(mode: int) -> None:
    clock = Clock(10)
    pit = Pit(clock)
    program(pit, 500, mode)
    assert pit.next_edge() == 510
    assert pit.collect_edges(509) == 0
    assert pit.collect_edges(100_000) == 1
    assert pit.next_edge() is None
    assert pit.collect_edges(1_000_000) == 0


def test_a_new_count_restarts_a_one_shot() -> None:
    clock = Clock()
    pit = Pit(clock)
    program(pit, 500, mode=0)
    clock.ticks = 600
    assert pit.collect_edges(600) == 1
    pit.write(0x40, 1, 100)
    pit.write(0x40, 1, 0)
    assert pit.next_edge() == 700


def test_in_mode_0_the_first_byte_of_a_new_count_stops_counting() -> None:
    clock = Clock()
    pit = Pit(clock)
    program(pit, 500, mode=0)
    clock.ticks = 200
    pit.write(0x40, 1, 0x00)
    assert pit.next_edge() is None
    assert latched_count(pit) == 300  # held where it stopped
    clock.ticks = 1000
    pit.write(0x40, 1, 0x01)
    assert pit.next_edge() == 1256


def test_a_control_word_stops_the_counter_until_a_new_count() -> None:
    clock = Clock()
    pit = Pit(clock)
    program(pit, 100)
    clock.ticks = 150
    pit.write(0x43, 1, control(0, 3, 2))
    assert pit.next_edge() == 100  # the edge already due is still collected
    assert pit.collect_edges(150) == 1
    assert pit.next_edge() is None
    clock.ticks = 10_000
    assert pit.collect_edges(10_000) == 0
    pit.write(0x40, 1, 50)
    pit.write(0x40, 1, 0)
    assert pit.next_edge() == 10_050


def test_reprogramming_with_a_new_period_moves_the_edges() -> None:
    clock = Clock()
    pit = Pit(clock)
    program(pit, 1000)
    clock.ticks = 2500
    assert pit.collect_edges(2500) == 2
    program(pit, 300)
    assert [pit.next_edge(), pit.collect_edges(3400), pit.next_edge()] == [2800, 3, 3700]


def test_in_mode_2_a_new_count_alone_waits_for_the_end_of_the_period() -> None:
    clock = Clock()
    pit = Pit(clock)
    program(pit, 1000)
    clock.ticks = 400
    pit.write(0x40, 1, 100)
    pit.write(0x40, 1, 0)
    assert pit.next_edge() == 1000
    assert latched_count(pit) == 600  # still the old count
    assert pit.collect_edges(1000) == 1
    assert pit.next_edge() == 1100
    assert pit.collect_edges(1300) == 3


def test_in_mode_3_a_new_count_alone_waits_for_the_end_of_the_half_period() -> None:
    clock = Clock()
    pit = Pit(clock)
    program(pit, 1000, mode=3)
    clock.ticks = 200  # in the high half, which ends at 500
    pit.write(0x40, 1, 100)
    pit.write(0x40, 1, 0)
    assert pit.next_edge() == 550  # a low half of the new count, then the edge
    assert pit.collect_edges(650) == 2


def test_channels_1_and_2_count_but_raise_nothing() -> None:
    clock = Clock()
    pit = Pit(clock)
    program(pit, 100, channel=1)
    program(pit, 200, channel=2)
    assert pit.next_edge() is None
    assert pit.collect_edges(100_000) == 0
    clock.ticks = 30
    assert (latched_count(pit, 1), latched_count(pit, 2)) == (70, 170)


def test_the_latched_count_is_read_low_byte_then_high_byte_and_frozen() -> None:
    clock = Clock()
    pit = Pit(clock)
    program(pit, 0x1234)
    clock.ticks = 0x34
    pit.write(0x43, 1, control(0, 0, 0))
    clock.ticks = 0x1000  # time passes between the latch and the reads
    assert [pit.read(0x40, 1), pit.read(0x40, 1)] == [0x00, 0x12]
    assert latched_count(pit) == 0x1234 - 0x1000


def test_a_second_latch_before_the_reads_is_ignored() -> None:
    clock = Clock()
    pit = Pit(clock)
    program(pit, 1000)
    clock.ticks = 100
    pit.write(0x43, 1, control(0, 0, 0))
    clock.ticks = 200
    pit.write(0x43, 1, control(0, 0, 0))
    assert pit.read(0x40, 1) | pit.read(0x40, 1) << 8 == 900


@pytest.mark.parametrize(("access", "expected"), [(1, [0x34, 0x34]), (2, [0x12, 0x12])])
def test_a_one_byte_access_mode_reads_that_byte_each_time(access: int, expected: list[int]) -> None:
    clock = Clock()
    pit = Pit(clock)
    pit.write(0x43, 1, control(0, access, 0))
    pit.write(0x40, 1, expected[0])
    assert [pit.read(0x40, 1), pit.read(0x40, 1)] == expected


def test_an_unlatched_read_alternates_low_and_high_byte() -> None:
    clock = Clock()
    pit = Pit(clock)
    program(pit, 0x0300)
    clock.ticks = 1
    assert [pit.read(0x40, 1), pit.read(0x40, 1)] == [0xFF, 0x02]


@pytest.mark.parametrize(("elapsed", "count"), [(0, 1000), (1, 999), (999, 1), (1000, 1000)])
def test_the_count_in_mode_2_runs_from_n_down_to_1(elapsed: int, count: int) -> None:
    clock = Clock()
    pit = Pit(clock)
    program(pit, 1000)
    clock.ticks = elapsed
    assert latched_count(pit) == count


@pytest.mark.parametrize(
    ("n", "elapsed", "count"),
    [(1000, 0, 1000), (1000, 100, 800), (1000, 499, 2), (1000, 500, 1000), (1000, 600, 800),
     (7, 0, 6), (7, 3, 0), (7, 4, 6), (7, 6, 2)],
)  # fmt: skip
def test_the_count_in_mode_3_goes_down_by_two_each_half(n: int, elapsed: int, count: int) -> None:
    clock = Clock()
    pit = Pit(clock)
    program(pit, n, mode=3)
    clock.ticks = elapsed
    assert latched_count(pit) == count


def test_a_bcd_count_reads_back_in_bcd() -> None:
    clock = Clock()
    pit = Pit(clock)
    program(pit, 0x1000, bcd=True)
    clock.ticks = 1
    assert latched_count(pit) == 0x0999


def test_read_back_latches_status_then_count() -> None:
    clock = Clock()
    pit = Pit(clock)
    pit.write(0x43, 1, control(0, 3, 2))
    pit.write(0x43, 1, 0xE2)  # read-back: status of channel 0
    assert pit.read(0x40, 1) == 0xC0 | 0x34  # OUT high, null count, the control bits
    program(pit, 1000)
    clock.ticks = 10
    pit.write(0x43, 1, 0xC2)  # read-back: count and status of channel 0
    assert [pit.read(0x40, 1) for _ in range(3)] == [0x80 | 0x34, 990 & 0xFF, 990 >> 8]


@pytest.mark.parametrize(("elapsed", "out"), [(0, 0x80), (499, 0x80), (500, 0x00), (999, 0x00)])
def test_read_back_shows_the_square_wave_of_mode_3(elapsed: int, out: int) -> None:
    clock = Clock()
    pit = Pit(clock)
    program(pit, 1000, mode=3)
    clock.ticks = elapsed
    pit.write(0x43, 1, 0xE2)
    assert pit.read(0x40, 1) & 0x80 == out


def test_the_control_port_reads_as_all_ones() -> None:
    assert Pit(Clock()).read(0x43, 1) == 0xFF


def test_rewriting_a_count_again_and_again_keeps_no_history() -> None:
    """A guest may rewrite channel 2's count in a loop; the model must not grow."""
    clock = Clock()
    pit = Pit(clock)
    program(pit, 100, channel=2)
    for tick in range(0, 100_000, 50):
        clock.ticks = tick
        pit.write(0x42, 1, 100)
        pit.write(0x42, 1, 0)
    assert len(pit.channels[2].segments) <= 2


# --- the other legacy ports ----------------------------------------------------------

def test_keyboard_controller_is_idle_and_answers_its_self_test() -> None:
    from vizvm.machine.devices.legacy import KeyboardController

    kbc = KeyboardController()
    assert kbc.read(0x64, 1) & 0x03 == 0  # both buffers empty: a driver may write
    kbc.write(0x64, 1, 0xAA)
    assert kbc.read(0x64, 1) & 0x01
    assert kbc.read(0x60, 1) == 0x55
    kbc.write(0x64, 1, 0xD0)
    assert kbc.read(0x60, 1) & 0x02  # A20 reported on


def test_port_61_refresh_bit_toggles_so_delay_loops_end() -> None:
    from vizvm.machine.devices.legacy import SystemControl

    port = SystemControl()
    bits = {port.read(0x61, 1) & 0x10 for _ in range(4)}
    assert bits == {0, 0x10}


def test_cmos_clock_is_fixed_and_reports_memory() -> None:
    from vizvm.machine.devices.legacy import CmosClock

    cmos = CmosClock(16 << 20)
    def read(index: int) -> int:
        cmos.write(0x70, 1, index)
        return cmos.read(0x71, 1)
    assert (read(0x09), read(0x08), read(0x07)) == (0x00, 0x01, 0x01)
    assert not read(0x0A) & 0x80  # no update in progress
    assert read(0x17) | read(0x18) << 8 == 15 * 1024
