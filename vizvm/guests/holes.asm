# holes.asm: a guest kernel that asks the CPU what it is doing, ten ways.
#
# Every question here is answered honestly by bare hardware. Under a
# trap-and-emulate monitor on classic x86 none of these instructions trap, so
# the monitor never gets to lie for the guest: the answers show the real,
# deprivileged state, and the guest can tell it is not alone. Robin and
# Irvine (2000) list these as the sensitive but unprivileged instructions
# that break Popek and Goldberg's condition on the Pentium.
#
# One line per question; the machine powers off with exit code 0.

.equ COM1, 0x3f8
.equ COM1_LSR, 0x3fd
.equ DEBUG_EXIT, 0xf4
.equ KCODE, 0x08
.equ KDATA, 0x10
.equ TSS_SEL, 0x18
.equ PIT_COUNT, 500
.equ SPIN, 4000
.equ INTGATE, 0x8e00

start:
    lgdt [gdt_ptr]
    .byte 0xea; .long reload; .word KCODE
reload:
    mov eax, KDATA
    mov ds, eax
    mov es, eax
    mov ss, eax
    mov esp, 0x90000
    call setup_tables
    call setup_timer
    lea esi, [title]
    call puts

# 1. POPF with IF clear, in a critical section: do interrupts stop?
    sti
    pushfd
    pop eax
    and eax, 0xfffffdff
    push eax
    popfd                            # "disable interrupts"
    mov dword ptr [ticks], 0
    mov ecx, SPIN
spin1:
    dec ecx
    jnz spin1
    mov ebx, [ticks]
    cli
    lea esi, [q_popf_off]
    call puts
    mov eax, ebx
    call putdec
    call newline

# 2. POPF with IF set after CLI: do interrupts come back?
    pushfd
    pop eax
    or eax, 0x200
    push eax
    popfd                            # "enable interrupts"
    mov dword ptr [ticks], 0
    mov ecx, SPIN
spin2:
    dec ecx
    jnz spin2
    mov ebx, [ticks]
    cli
    lea esi, [q_popf_on]
    call puts
    mov eax, ebx
    call putdec
    call newline

# 3. PUSHF after CLI: what does IF read?
    cli
    pushfd
    pop eax
    shr eax, 9
    and eax, 1
    lea esi, [q_pushf]
    call puts
    call putdec
    call newline

# 4. The CS selector's RPL: which ring am I in?
    mov eax, cs
    and eax, 3
    lea esi, [q_cs]
    call puts
    call putdec
    call newline

# 5. SGDT: is the GDT where I put it?
    sgdt [scratch]
    lea esi, [q_sgdt]
    call puts
    mov eax, [scratch + 2]
    call puthex
    call newline

# 6. SIDT: is the IDT where I put it?
    sidt [scratch]
    lea esi, [q_sidt]
    call puts
    mov eax, [scratch + 2]
    call puthex
    call newline

# 7. STR: which task register did I load?
    str eax
    and eax, 0xffff
    lea esi, [q_str]
    call puts
    call puthex
    call newline

# 8. SMSW: is TS clear, as I left it? (a monitor may own the real TS)
    clts
    smsw eax
    and eax, 0xffff
    lea esi, [q_smsw]
    call puts
    call puthex
    call newline

# 9. LAR on my own code segment: what are its access rights?
    mov ebx, KCODE
    lar eax, ebx
    lea esi, [q_lar]
    call puts
    call puthex
    call newline

# 10. LSL on my data segment: how far may I reach?
    mov ebx, KDATA
    lsl eax, ebx
    lea esi, [q_lsl]
    call puts
    call puthex
    call newline

    lea esi, [done]
    call puts
    mov al, 0
    out DEBUG_EXIT, al
    hlt

# ---------------------------------------------------------------- set-up
setup_tables:
    xor ecx, ecx
fill:
    lea eax, [timer_isr]
    call set_gate
    inc ecx
    cmp ecx, 256
    jne fill
    lidt [idt_ptr]
    lea eax, [tss]
    lea ebx, [tss_desc]
    mov word ptr [ebx], 103
    mov [ebx + 2], ax
    shr eax, 16
    mov [ebx + 4], al
    mov byte ptr [ebx + 5], 0x89
    mov [ebx + 7], ah
    mov eax, TSS_SEL
    ltr ax
    ret

# ecx = vector, eax = handler: a ring-0 interrupt gate
set_gate:
    push ebx
    lea ebx, [idt]
    lea ebx, [ebx + ecx*8]
    mov edx, eax
    and edx, 0xffff
    or edx, KCODE << 16
    mov [ebx], edx
    and eax, 0xffff0000
    or eax, INTGATE
    mov [ebx + 4], eax
    pop ebx
    ret

setup_timer:
    mov al, 0x11
    out 0x20, al
    mov al, 0x20
    out 0x21, al
    mov al, 4
    out 0x21, al
    mov al, 1
    out 0x21, al
    mov al, 0xfe
    out 0x21, al
    mov al, 0x34
    out 0x43, al
    mov eax, PIT_COUNT
    out 0x40, al
    mov al, ah
    out 0x40, al
    ret

# every vector lands here; only IRQ 0 is unmasked
timer_isr:
    push eax
    inc dword ptr [ticks]
    mov al, 0x20
    out 0x20, al
    pop eax
    iretd

# ---------------------------------------------------------------- console
puts:
    push eax
puts_next:
    lodsb
    test al, al
    jz puts_done
    call putc
    jmp puts_next
puts_done:
    pop eax
    ret

putc:
    push edx
    push eax
    mov dx, COM1_LSR
putc_wait:
    in al, dx
    test al, 0x20
    jz putc_wait
    pop eax
    mov dx, COM1
    out dx, al
    pop edx
    ret

newline:
    push eax
    mov al, 10
    call putc
    pop eax
    ret

# eax = value, printed as 0x and 8 hex digits
puthex:
    push ecx
    push eax
    mov al, 0x30
    call putc
    mov al, 0x78
    call putc
    mov eax, [esp]
    mov ecx, 8
puthex_digit:
    rol eax, 4
    push eax
    and al, 0x0f
    add al, 0x30
    cmp al, 0x3a
    jb puthex_out
    add al, 7
puthex_out:
    call putc
    pop eax
    dec ecx
    jnz puthex_digit
    pop eax
    pop ecx
    ret

# eax = value, printed in decimal
putdec:
    push eax
    push ebx
    push ecx
    push edx
    mov ebx, 10
    xor ecx, ecx
putdec_divide:
    xor edx, edx
    div ebx
    push edx
    inc ecx
    test eax, eax
    jnz putdec_divide
putdec_print:
    pop eax
    add al, 0x30
    call putc
    dec ecx
    jnz putdec_print
    pop edx
    pop ecx
    pop ebx
    pop eax
    ret

# ---------------------------------------------------------------- data
title:       .asciz "x86 holes: what a guest kernel sees\n"
q_popf_off:  .asciz "1 timer ticks after POPF cleared IF (expect 0): "
q_popf_on:   .asciz "2 timer ticks after POPF set IF again (expect >0): "
q_pushf:     .asciz "3 IF read by PUSHF after CLI (expect 0): "
q_cs:        .asciz "4 ring from the RPL of CS (expect 0): "
q_sgdt:      .asciz "5 GDT base from SGDT (expect my GDT): "
q_sidt:      .asciz "6 IDT base from SIDT (expect my IDT): "
q_str:       .asciz "7 task register from STR (expect 0x18): "
q_smsw:      .asciz "8 machine status word from SMSW (expect TS=8 clear): "
q_lar:       .asciz "9 access rights of my code segment from LAR (DPL 0, present): "
q_lsl:       .asciz "10 limit of my data segment from LSL (expect 0xFFFFFFFF): "
done:        .asciz "done\n"

.align 4
ticks:       .long 0
scratch:     .space 8
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        # 0x08 kernel code
    .quad 0x00cf92000000ffff        # 0x10 kernel data
tss_desc:
    .quad 0                         # 0x18 the TSS
gdt_end:
gdt_ptr:     .word gdt_end - gdt - 1
             .long gdt
idt_ptr:     .word 256 * 8 - 1
             .long idt
.align 8
tss:         .space 104
idt:         .space 256 * 8
