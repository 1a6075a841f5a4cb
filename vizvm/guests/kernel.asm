# kernel.asm: a small protected-mode kernel for the vizvm guest machine.
#
# It loads its own GDT, IDT and TSS, remaps the two PICs to vectors 0x20-0x2f,
# programs the PIT to interrupt every PIT_COUNT instructions, and drops to a
# ring-3 task. The task computes a checksum while timer interrupts arrive and
# talks to the kernel only through system calls (int 0x80). The kernel powers
# the machine off with the low byte of the checksum as exit code.
#
# System calls: eax = number, ebx, ecx = arguments, result in eax.
#   1 write(ebx = address, ecx = length)   2 ticks()   3 exit(ebx = checksum)
#
# Dialect: see docs/assembly.md (lea for addresses, .byte for far jumps).

.equ COM1, 0x3f8
.equ COM1_LSR, 0x3fd
.equ DEBUG_EXIT, 0xf4
.equ KCODE, 0x08
.equ KDATA, 0x10
.equ UCODE, 0x1b
.equ UDATA, 0x23
.equ TSS_SEL, 0x28
.equ KSTACK_TOP, 0x90000
.equ USTACK_TOP, 0x80000
.equ PIT_COUNT, 3000
.equ ROUNDS, 24
.equ STEPS, 1500
.equ INTGATE, 0x8e00
.equ USERGATE, 0xee00

start:
    lgdt [gdt_ptr]
    .byte 0xea; .long reload; .word KCODE    # jmp KCODE:reload
reload:
    mov eax, KDATA
    mov ds, eax
    mov es, eax
    mov fs, eax
    mov gs, eax
    mov ss, eax
    mov esp, KSTACK_TOP
    call setup_idt
    call setup_tss
    call setup_pic
    call setup_pit
    lea esi, [banner]
    call kputs
    # enter the user task at ring 3 with interrupts enabled, on user data segments
    mov eax, UDATA
    mov ds, eax
    mov es, eax
    push 0x23                       # UDATA: ss
    push 0x80000                    # USTACK_TOP: esp
    push 0x202                      # eflags: IF=1
    push 0x1b                       # UCODE: cs
    lea eax, [user_main]
    push eax
    iretd

# ---------------------------------------------------------------- set-up
setup_idt:
    xor ecx, ecx
idt_fill:
    lea eax, [unexpected_isr]
    mov edx, INTGATE
    call set_gate
    inc ecx
    cmp ecx, 256
    jne idt_fill
    mov ecx, 0
    lea eax, [de_isr]
    call set_gate
    mov ecx, 6
    lea eax, [ud_isr]
    call set_gate
    mov ecx, 8
    lea eax, [df_isr]
    call set_gate
    mov ecx, 13
    lea eax, [gp_isr]
    call set_gate
    mov ecx, 14
    lea eax, [pf_isr]
    call set_gate
    mov ecx, 0x20
    lea eax, [timer_isr]
    call set_gate
    mov ecx, 0x80
    lea eax, [syscall_isr]
    mov edx, USERGATE
    call set_gate
    lidt [idt_ptr]
    ret

# ecx = vector, eax = handler, edx = type and DPL bits of the gate
set_gate:
    push ebx
    push eax
    lea ebx, [idt]
    lea ebx, [ebx + ecx*8]
    and eax, 0xffff
    or eax, KCODE << 16
    mov [ebx], eax
    pop eax
    push eax
    and eax, 0xffff0000
    or eax, edx
    mov [ebx + 4], eax
    pop eax
    pop ebx
    ret

setup_tss:
    lea eax, [tss]
    mov dword ptr [eax + 4], KSTACK_TOP     # esp0
    mov dword ptr [eax + 8], KDATA          # ss0
    mov word ptr [eax + 0x66], 104          # no I/O bitmap: ring 3 has no ports
    lea ebx, [tss_desc]
    mov word ptr [ebx], 103                 # limit
    mov [ebx + 2], ax                       # base 15..0
    shr eax, 16
    mov [ebx + 4], al                       # base 23..16
    mov byte ptr [ebx + 5], 0x89            # present, 32-bit TSS, available
    mov byte ptr [ebx + 6], 0
    mov [ebx + 7], ah                       # base 31..24
    mov eax, TSS_SEL
    ltr ax
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

# ---------------------------------------------------------------- console
# esi = zero-terminated string
kputs:
    push eax
kputs_next:
    lodsb
    test al, al
    jz kputs_done
    call kputc
    jmp kputs_next
kputs_done:
    pop eax
    ret

# al = byte; waits for the transmitter like a driver would
kputc:
    push edx
    push eax
    mov dx, COM1_LSR
kputc_wait:
    in al, dx
    test al, 0x20
    jz kputc_wait
    pop eax
    mov dx, COM1
    out dx, al
    pop edx
    ret

# eax = value, printed as 8 hex digits
kputhex:
    push ecx
    push eax
    mov ecx, 8
kputhex_digit:
    rol eax, 4
    push eax
    and al, 0x0f
    add al, 0x30
    cmp al, 0x3a
    jb kputhex_out
    add al, 7
kputhex_out:
    call kputc
    pop eax
    dec ecx
    jnz kputhex_digit
    pop eax
    pop ecx
    ret

# ---------------------------------------------------------------- handlers
# Handlers run on whatever data segments were loaded when the interrupt came,
# so those that touch memory load the kernel's first and restore the caller's.
timer_isr:
    push ds
    push eax
    mov eax, KDATA
    mov ds, eax
    inc dword ptr [ticks]
    mov al, 0x20            # end of interrupt
    out 0x20, al
    pop eax
    pop ds
    iretd

syscall_isr:
    push ds
    push es
    push edx
    mov edx, KDATA
    mov ds, edx
    mov es, edx
    pop edx
    call syscall
    pop es
    pop ds
    iretd
syscall:
    cmp eax, 1
    je sys_write
    cmp eax, 2
    je sys_ticks
    cmp eax, 3
    je sys_exit
    mov eax, -1
    ret
sys_write:
    push esi
    push ecx
    mov esi, ebx
sys_write_next:
    test ecx, ecx
    jz sys_write_done
    lodsb
    call kputc
    dec ecx
    jmp sys_write_next
sys_write_done:
    pop ecx
    pop esi
    mov eax, ecx
    ret
sys_ticks:
    mov eax, [ticks]
    ret
sys_exit:
    lea esi, [exit_msg]
    call kputs
    mov eax, ebx
    call kputhex
    lea esi, [timer_msg]
    call kputs
    lea esi, [yes_msg]
    cmp dword ptr [ticks], ROUNDS
    jae sys_exit_report
    lea esi, [no_msg]
sys_exit_report:
    call kputs
    mov eax, ebx
    out DEBUG_EXIT, al
    hlt

de_isr:
    push 0
    push 0
    jmp fault
ud_isr:
    push 0
    push 6
    jmp fault
df_isr:
    push 8
    jmp fault
gp_isr:
    push 13
    jmp fault
pf_isr:
    push 14
    jmp fault
unexpected_isr:
    push 0
    push 0xff
    jmp fault
# stack: vector, error code, eip, cs, eflags
fault:
    mov eax, KDATA
    mov ds, eax
    lea esi, [fault_msg]
    call kputs
    mov eax, [esp]
    call kputhex
    lea esi, [at_msg]
    call kputs
    mov eax, [esp + 8]
    call kputhex
    mov al, 10
    call kputc
    mov eax, [esp]
    add eax, 0x40
    out DEBUG_EXIT, al
    hlt

# ---------------------------------------------------------------- ring 3
# The task folds STEPS values per round into a checksum, prints a line per
# round through write(), and asks the kernel for the time now and then.
user_main:
    mov edi, 0x811c9dc5             # FNV-1a offset basis
    xor esi, esi                    # round
user_round:
    mov ecx, STEPS
user_step:
    mov eax, ecx
    imul eax, esi
    add eax, ecx
    xor edi, eax
    imul edi, edi, 0x01000193       # FNV prime
    dec ecx
    jnz user_step
    mov eax, 2                      # ticks(): the value is not printed, timing
    int 0x80                        # differs between techniques
    mov eax, 1
    lea ebx, [round_msg]
    mov ecx, [round_len]
    int 0x80
    inc esi
    cmp esi, ROUNDS
    jne user_round
    mov eax, 1
    lea ebx, [done_msg]
    mov ecx, [done_len]
    int 0x80
    mov eax, 3
    mov ebx, edi
    int 0x80
user_hang:
    jmp user_hang

# ---------------------------------------------------------------- data
banner:     .asciz "vizvm kernel: GDT, IDT, TSS, PIC and PIT ready; entering ring 3\n"
exit_msg:   .asciz "kernel: task exited, checksum "
timer_msg:  .asciz "\nkernel: timer interrupts arrived: "
yes_msg:    .asciz "yes\n"
no_msg:     .asciz "no\n"
fault_msg:  .asciz "kernel: exception "
at_msg:     .asciz " at eip "
round_msg:  .ascii "user: round done\n"
round_msg_end:
done_msg:   .ascii "user: all rounds done, exiting\n"
done_msg_end:

.align 4
round_len:  .long round_msg_end - round_msg
done_len:   .long done_msg_end - done_msg
ticks:      .long 0
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        # 0x08 kernel code
    .quad 0x00cf92000000ffff        # 0x10 kernel data
    .quad 0x00cffa000000ffff        # 0x18 user code
    .quad 0x00cff2000000ffff        # 0x20 user data
tss_desc:
    .quad 0                         # 0x28 the TSS, filled in by setup_tss
gdt_end:
gdt_ptr:    .word gdt_end - gdt - 1
            .long gdt
idt_ptr:    .word 256 * 8 - 1
            .long idt
.align 8
tss:        .space 104
idt:        .space 256 * 8
