# devices.asm: a guest kernel uses a device it was given, and one it was not.
#
# 1. It reads the CMOS clock's data port (0x71) N times: N is the dword at
#    0x500 (a lesson parameter; 5 when it is 0, at most 50). The clock is part
#    of this machine.
# 2. It writes N at 0x600, in its own RAM.
# 3. It reads the status port of a hard disk controller (0x1F7). This machine
#    was given no disk: on a PC, a port with no device behind it reads as all
#    ones (0xFF).
# It powers off with the byte it read from 0x1F7 as exit code.
#
# A device belongs to whoever runs the machine. On bare hardware the guest
# talks to the chips itself; under a monitor every one of these reads is the
# monitor's to see and to answer.

.equ DEBUG_EXIT, 0xf4
.equ PARAM_N, 0x500
.equ MY_RAM, 0x600
.equ DISK_STATUS, 0x1f7

start:
    mov ecx, [PARAM_N]
    test ecx, ecx
    jnz have_n
    mov ecx, 5
have_n:
    cmp ecx, 50
    jbe n_ok
    mov ecx, 50
n_ok:
    mov ebx, ecx
read_clock:
    in al, 0x71                     # a device port: the CMOS clock's data
    dec ecx
    jnz read_clock
    mov [MY_RAM], ebx               # my own memory
    mov dx, DISK_STATUS
    in al, dx                       # a disk this machine was not given
    out DEBUG_EXIT, al
    hlt
