# irqsave.asm: a kernel's critical sections, the way kernels write them.
#
# "Save the flags, disable interrupts, do the work, restore the flags" is how
# a kernel protects data from its own interrupt handlers (Linux calls it
# local_irq_save / local_irq_restore). This guest runs N such sections (N is
# the dword at 0x500, a lesson parameter; 6 when it is 0, at most 100):
#
#     pushfd ; cli ; <work> ; popfd
#
# Then it disables interrupts once more, asks PUSHFD whether they are off, and
# powers off with the IF bit it read as exit code: 0 on bare hardware.

.equ DEBUG_EXIT, 0xf4
.equ PARAM_N, 0x500
.equ COUNTER, 0x600

start:
    mov ecx, [PARAM_N]
    test ecx, ecx
    jnz have_n
    mov ecx, 6
have_n:
    cmp ecx, 100
    jbe n_ok
    mov ecx, 100
n_ok:
    sti                             # interrupts on (no device will interrupt)
section:
    pushfd                          # save the flags, IF = 1
    cli                             # disable interrupts
    inc dword ptr [COUNTER]         # the work
    popfd                           # restore the flags: IF = 1 again
    dec ecx
    jnz section
    cli
    pushfd                          # are interrupts off?
    pop eax
    shr eax, 9
    and eax, 1                      # the IF bit
    out DEBUG_EXIT, al
    hlt
