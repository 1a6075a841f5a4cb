# web.asm: a web shop's server, busy by day.
#
# The timer interrupts every PIT_COUNT instructions (a "tick"). On each tick
# the server does the work its load curve asks for, then halts until the
# next tick: a server that is idle most of the night. The curve has PHASES
# phases ("hours") of PHASE_TICKS ticks each; the work for one phase is
# load_table[phase] units of `scale` loop iterations (4 instructions each),
# `scale` being the lesson's parameter at 0x500 (10 when none is given).
# After TOTAL_TICKS ticks (two days) it reports on COM1 and powers off.

.equ COM1, 0x3f8
.equ DEBUG_EXIT, 0xf4
.equ KCODE, 0x08
.equ KDATA, 0x10
.equ KSTACK_TOP, 0x90000
.equ PIT_COUNT, 1000
.equ PHASE_TICKS, 5
.equ PHASES, 12
.equ TOTAL_TICKS, 120
.equ DEFAULT_SCALE, 10
.equ INTGATE, 0x8e00
.equ IDT_GATES, 0x21            # the exceptions and the timer: a short boot

start:
    lgdt [gdt_ptr]
    .byte 0xea; .long reload; .word KCODE    # jmp KCODE:reload
reload:
    mov eax, KDATA
    mov ds, eax
    mov es, eax
    mov ss, eax
    mov esp, KSTACK_TOP
    call setup_idt
    call setup_pic
    call setup_pit
    mov eax, [0x500]                # the lesson's scale, if any
    test eax, eax
    jnz have_scale
    mov eax, DEFAULT_SCALE
have_scale:
    mov [scale], eax

# ---------------------------------------------------------------- one tick
tick_loop:
    mov eax, [ticks]
    cmp eax, TOTAL_TICKS
    jae finished
    xor edx, edx
    mov ecx, PHASE_TICKS
    div ecx                         # eax = phase since the start
    xor edx, edx
    mov ecx, PHASES
    div ecx                         # edx = phase of the day
    movzx ecx, byte ptr [load_table + edx]
    add [units], ecx
    imul ecx, [scale]               # loop iterations for this tick
    test ecx, ecx
    jz wait_tick
work:
    add eax, ecx
    xor ebx, eax
    dec ecx
    jnz work
wait_tick:
    sti                             # the interrupt comes after HLT (the STI shadow)
    hlt
    cli
    jmp tick_loop

finished:
    lea esi, [done_msg]
    call puts
    mov eax, [units]
    call putdec
    lea esi, [units_msg]
    call puts
    mov al, 0
    out DEBUG_EXIT, al
    hlt

# ---------------------------------------------------------------- set-up
setup_idt:
    xor ecx, ecx
idt_fill:
    lea eax, [unexpected_isr]
    call set_gate
    inc ecx
    cmp ecx, IDT_GATES
    jne idt_fill
    mov ecx, 0x20
    lea eax, [timer_isr]
    call set_gate
    lidt [idt_ptr]
    ret

# ecx = vector, eax = handler: an interrupt gate to ring 0
set_gate:
    lea ebx, [idt]
    lea ebx, [ebx + ecx*8]
    mov edx, eax
    and edx, 0xffff
    or edx, KCODE << 16
    mov [ebx], edx
    and eax, 0xffff0000
    or eax, INTGATE
    mov [ebx + 4], eax
    ret

setup_pic:
    mov al, 0x11            # ICW1: edge, cascade, ICW4 follows
    out 0x20, al
    out 0xa0, al
    mov al, 0x20            # ICW2: master vectors 0x20-0x27
    out 0x21, al
    mov al, 0x28            # slave vectors 0x28-0x2f
    out 0xa1, al
    mov al, 4               # ICW3: slave on IRQ 2
    out 0x21, al
    mov al, 2
    out 0xa1, al
    mov al, 1               # ICW4: 8086 mode
    out 0x21, al
    out 0xa1, al
    mov al, 0xfe            # only IRQ 0, the timer
    out 0x21, al
    mov al, 0xff
    out 0xa1, al
    ret

setup_pit:
    mov al, 0x34            # channel 0, low then high byte, mode 2
    out 0x43, al
    mov eax, PIT_COUNT
    out 0x40, al
    mov al, ah
    out 0x40, al
    ret

# ---------------------------------------------------------------- handlers
timer_isr:
    push eax
    inc dword ptr [ticks]
    mov al, 0x20            # end of interrupt
    out 0x20, al
    pop eax
    iretd

unexpected_isr:
    mov al, 0xee
    out DEBUG_EXIT, al
    hlt

# ---------------------------------------------------------------- console
# esi = zero-terminated string
puts:
    mov dx, COM1
puts_next:
    lodsb
    test al, al
    jz puts_done
    out dx, al
    jmp puts_next
puts_done:
    ret

# eax = value, printed in decimal
putdec:
    mov ecx, 10
    xor ebx, ebx            # digits pushed
putdec_split:
    xor edx, edx
    div ecx
    push edx
    inc ebx
    test eax, eax
    jnz putdec_split
    mov dx, COM1
putdec_out:
    pop eax
    add al, 0x30
    out dx, al
    dec ebx
    jnz putdec_out
    ret

# ---------------------------------------------------------------- data
done_msg:   .asciz "web: two days done, work units: "
units_msg:  .asciz "\n"
# work units per tick, for each phase of the day: busy by day
load_table: .byte 5, 3, 2, 1, 1, 1, 2, 4, 7, 10, 9, 7

.align 4
ticks:      .long 0
units:      .long 0
scale:      .long 0
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        # 0x08 kernel code
    .quad 0x00cf92000000ffff        # 0x10 kernel data
gdt_end:
gdt_ptr:    .word gdt_end - gdt - 1
            .long gdt
idt_ptr:    .word IDT_GATES * 8 - 1
            .long idt
.align 8
idt:        .space IDT_GATES * 8
