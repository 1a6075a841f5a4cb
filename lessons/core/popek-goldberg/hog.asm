# hog.asm: a guest kernel that takes the CPU and never gives it back.
#
# It sets the timer (the 8254, channel 0) to interrupt every 1,000 instructions
# and unmasks that interrupt at the 8259, then disables interrupts (CLI) and
# spins forever. Its interrupt table is empty: it never wants to be interrupted.
#
# On bare hardware nothing can take the CPU from it: with IF clear the timer's
# interrupt waits at the 8259 forever, and only the instruction budget ends the
# run. Under a monitor the guest's CLI cleared a *virtual* IF: the real one stays
# set, so the timer still interrupts the real CPU, and the monitor is back in
# charge at the next tick. It holds the interrupt for the guest (which asked not
# to be disturbed) and could run another guest, or stop this one.

.equ PIC1_CMD, 0x20
.equ PIC1_DATA, 0x21
.equ PIT_CH0, 0x40
.equ PIT_MODE, 0x43

start:
    mov al, 0x11                    # 8259: initialise, ICW4 follows
    out PIC1_CMD, al
    mov al, 0x20                    # IRQ 0-7 at vectors 0x20-0x27
    out PIC1_DATA, al
    mov al, 0x04                    # the slave on IRQ 2
    out PIC1_DATA, al
    mov al, 0x01                    # 8086 mode
    out PIC1_DATA, al
    mov al, 0xfe                    # unmask IRQ 0 only: the timer
    out PIC1_DATA, al
    mov al, 0x34                    # 8254 channel 0, mode 2 (rate generator)
    out PIT_MODE, al
    mov al, 0xe8                    # 1,000 = 0x03e8 instructions per tick
    out PIT_CH0, al
    mov al, 0x03
    out PIT_CH0, al
    cli                             # "no interrupts, please"
hog:
    jmp hog                         # ... and keep the CPU
