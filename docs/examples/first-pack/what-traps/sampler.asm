# sampler.asm: a guest kernel that runs a few instructions a monitor may or may
# not see, then powers off. Run it under native and trap-emulate and compare.
#
# The lesson's first parameter, `reads`, is at 0x500: how many times the guest
# reads the CMOS data port. A second one would be at 0x504.

.equ COM1, 0x3f8          # the serial port's data register
.equ CMOS_DATA, 0x71      # a chipset port: reading it is port I/O
.equ DEBUG_EXIT, 0xf4     # writing here powers the machine off

start:
    cli                   # privileged: clears the interrupt flag
    mov ecx, [0x500]      # the student's `reads`
    test ecx, ecx         # 0 when run outside a lesson (vizvm run):
    jnz have_reads        # read 3 times then, rather than 4 billion
    mov ecx, 3
have_reads:
    mov dx, COM1
read_once:
    in al, CMOS_DATA      # port I/O: only the kernel may do it
    mov al, 0x2e          # '.'
    out dx, al            # one dot on COM1 per read
    loop read_once
    mov al, 0x0a          # then a new line
    out dx, al

    pushfd                # copy EFLAGS to the stack ...
    pop eax
    or eax, 0x200         # ... with IF set ...
    push eax
    popfd                 # ... and load it back: sensitive, but is it privileged?

    mov eax, cr0          # read a control register
    add eax, 1            # plain arithmetic

    mov al, 0
    out DEBUG_EXIT, al    # power off with exit code 0
    hlt                   # not reached
