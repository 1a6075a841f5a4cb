"""The virtual-switch scenario: each VM's card on a switch inside the host, one uplink out.

A security team watches the physical network: here, an IDS tap on the
host's uplink that inspects every frame leaving the host and raises an
alert on frames carrying a marker. The virtual switch forwards frames
between VMs of the same host in software, so those frames never reach the
wire, and the IDS never sees them: that blind spot is what the scenario
measures.
"""

from __future__ import annotations

from dataclasses import dataclass

from vizvm.machine.devices.nic import BROADCAST, NIC_BASE, NIC_PORTS, Nic, mac_of, show_mac
from vizvm.session.host import Guest, Outcome

MARKER = b"SECRET"  # what the IDS flags in a frame leaving the host
LOGGED_FRAMES = 40  # the log narrates this many frames, then counts the rest


@dataclass(frozen=True)
class Sent:
    sender: str
    destination: bytes
    length: int
    receivers: tuple[str, ...]  # VMs on this host that got it
    on_wire: bool
    alert: bool
    marked: bool


class VirtualSwitch:
    """Forwards by destination address: to VMs on the host, else out on the uplink."""

    def __init__(self) -> None:
        self.cards: dict[bytes, tuple[str, Nic]] = {}
        self.sent: list[Sent] = []
        self.wire: list[bytes] = []  # frames on the physical network, as the IDS saw them

    def plug(self, name: str, card: Nic) -> None:
        self.cards[card.mac] = (name, card)

    def transmit(self, sender: Nic, frame: bytes) -> None:
        destination = frame[:6]
        if destination == BROADCAST:
            receivers = [(n, c) for n, c in self.cards.values() if c is not sender]
            on_wire = True
        elif destination in self.cards:
            receivers, on_wire = [self.cards[destination]], False
        else:
            receivers, on_wire = [], True
        for _name, card in receivers:
            card.deliver(frame)
        marked = MARKER in frame[12:]
        if on_wire:
            self.wire.append(frame)
        self.sent.append(Sent(self.cards[sender.mac][0], destination, len(frame),
                              tuple(n for n, _c in receivers), on_wire, on_wire and marked,
                              marked))


class SwitchedHost:
    """A scenario: a card per VM at NIC_BASE, all plugged into one virtual switch."""

    def __init__(self) -> None:
        self.switch = VirtualSwitch()
        self.switched: list[float] = []
        self.on_wire: list[float] = []

    def attach(self, guests: list[Guest]) -> None:
        for guest in guests:
            memory = guest.machine.memory
            card = Nic(mac_of(guest.index + 1), self.switch, memory.ram_size,
                       memory.read_physical, memory.write_physical)
            guest.machine.bus.attach(card, NIC_PORTS)
            self.switch.plug(guest.name, card)

    def after_slot(self, guests: list[Guest]) -> None:
        sent = self.switch.sent
        self.switched.append(float(sum(1 for s in sent if s.receivers and not s.on_wire)))
        self.on_wire.append(float(sum(1 for s in sent if s.on_wire)))

    def outcome(self, guests: list[Guest]) -> Outcome:
        sent = self.switch.sent
        inside = [s for s in sent if not s.on_wire]
        figures: dict[str, int | float] = {
            "frames_sent": len(sent),
            "frames_switched": sum(1 for s in inside if s.receivers),
            "frames_on_wire": len(self.switch.wire),
            "ids_frames_seen": len(self.switch.wire),
            "ids_alerts": sum(1 for s in sent if s.alert),
            "frames_unseen_by_ids": len(inside),
            "marked_frames_unseen_by_ids": sum(1 for s in inside if s.marked),
            "frames_dropped": sum(card.dropped for _n, card in self.switch.cards.values()),
        }
        cards = ", ".join(f"{name} {show_mac(mac)}" for mac, (name, _c) in
                          self.switch.cards.items())
        log = [f"host: a virtual switch with {len(guests)} cards at ports "
               f"{NIC_BASE:#06x}-{NIC_BASE + 0x1F:#06x} ({cards}); the uplink's IDS "
               f"flags frames containing {MARKER.decode()!r}"]
        log += [_narrate(s) for s in sent[:LOGGED_FRAMES]]
        if len(sent) > LOGGED_FRAMES:
            log.append(f"... and {len(sent) - LOGGED_FRAMES} more frames")
        return Outcome(figures=figures,
                       series={"frames_switched": tuple(self.switched),
                               "frames_on_wire": tuple(self.on_wire)},
                       log=log)


def _narrate(s: Sent) -> str:
    head = f"{s.sender} sent {s.length} bytes to {show_mac(s.destination)}"
    if not s.on_wire:
        secret = f", although it contains {MARKER.decode()!r}" if s.marked else ""
        return (f"{head}: switched inside the host to {s.receivers[0]}; "
                f"the IDS did not see it{secret}")
    verdict = f"ALERT, it contains {MARKER.decode()!r}" if s.alert else "no alert"
    also = f" (and to {', '.join(s.receivers)} on this host)" if s.receivers else ""
    return f"{head}: out on the uplink{also}; the IDS saw it: {verdict}"
