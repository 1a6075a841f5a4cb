# kernel_pv.asm: kernel.asm ported to the paravirt monitor (docs/paravirt.md).
#
# It loads its own GDT, IDT and TSS, remaps the two PICs to vectors 0x20-0x2f,
# programs the PIT to interrupt every PIT_COUNT instructions, and drops to a
# ring-3 task. The task computes a checksum while timer interrupts arrive and
# talks to the kernel only through system calls (int 0x80). The kernel powers
# the machine off with the low byte of the checksum as exit code.
#
# PV: The kernel runs in ring 1 and never executes a privileged instruction:
# PV: it hands its GDT, a trap table and its stack to the monitor, which owns
# PV: the PIC, the PIT and the serial port. Hypercalls: int 0x82, number in eax,
# PV: arguments in ebx, ecx, edx, esi, edi, result in eax. Each change from
# PV: kernel.asm is marked PV; `diff -u kernel.asm kernel_pv.asm` is the port.
#
# System calls: eax = number, ebx, ecx = arguments, result in eax.
#   1 write(ebx = address, ecx = length)   2 ticks()   3 exit(ebx = checksum)
#
# Dialect: see docs/assembly.md (lea for addresses, .byte for far jumps).

.equ KCODE, 0x09                    # PV: ring-1 selectors: DPL 1, RPL 1
.equ KDATA, 0x11
.equ UCODE, 0x1b
.equ UDATA, 0x23
.equ KSTACK_TOP, 0x90000
.equ USTACK_TOP, 0x80000
.equ PIT_COUNT, 3000
.equ ROUNDS, 24
.equ STEPS, 1500
.equ INTGATE, 4                     # PV: trap table flags: DPL 0, virtual IF off
.equ USERGATE, 7                    # PV: DPL 3, virtual IF off
.equ HYPERVISOR_console_write, 1    # PV: the hypercalls this kernel makes
.equ HYPERVISOR_set_gdt, 2
.equ HYPERVISOR_set_trap_table, 3
.equ HYPERVISOR_stack_switch, 4
.equ HYPERVISOR_set_timer, 6
.equ HYPERVISOR_iret, 8
.equ HYPERVISOR_poweroff, 9
.equ HYPERVISOR_multicall, 10

start:
    call setup_idt                  # PV: the trap table first, on the entry stack,
    lea ebx, [boot_calls]           # PV: then one multicall in place of LGDT,
    mov ecx, 4                      # PV: LIDT, setup_tss, setup_pic, setup_pit
    mov eax, HYPERVISOR_multicall
    int 0x82
    .byte 0xea; .long reload; .word KCODE    # jmp KCODE:reload
reload:
    mov eax, KDATA
    mov ds, eax
    mov es, eax
    mov fs, eax
    mov gs, eax
    mov ss, eax
    mov esp, KSTACK_TOP
    # PV: no setup calls here: setup_idt ran before the boot multicall
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
    jmp hypervisor_iret             # PV: IRETD at ring 1 cannot set the (virtual) IF

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
    ret                             # PV: no LIDT: the table goes in the boot multicall

# ecx = vector, eax = handler, edx = flags of the entry
# PV: an entry of the trap table: vector, flags, code selector, handler
set_gate:
    push ebx
    lea ebx, [trap_table]
    lea ebx, [ebx + ecx*8]
    mov [ebx], cl
    mov [ebx + 1], dl
    mov word ptr [ebx + 2], KCODE
    mov [ebx + 4], eax
    pop ebx
    ret

# PV: setup_tss, setup_pic and setup_pit are gone: see boot_calls

# ---------------------------------------------------------------- console
# esi = zero-terminated string
# PV: one console_write for the whole string, not a port write per byte
kputs:
    push eax
    push ebx
    push ecx
    mov ebx, esi
kputs_next:
    lodsb
    test al, al
    jnz kputs_next
    mov ecx, esi
    sub ecx, ebx
    dec ecx
    mov eax, HYPERVISOR_console_write
    int 0x82
    pop ecx
    pop ebx
    pop eax
    ret

# al = byte
# PV: console_write of the byte, from the stack
kputc:
    push ebx
    push ecx
    push eax
    mov ebx, esp
    mov ecx, 1
    mov eax, HYPERVISOR_console_write
    int 0x82
    pop eax
    pop ecx
    pop ebx
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
    pop eax                 # PV: no end of interrupt: the PIC is the monitor's
    pop ds
    jmp hypervisor_iret     # PV

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
    jmp hypervisor_iret     # PV
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
    mov eax, HYPERVISOR_console_write   # PV: the user's buffer in one hypercall,
    int 0x82                            # PV: which returns the length, as before
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
    mov eax, HYPERVISOR_poweroff        # PV: exit code: the low byte of ebx
    int 0x82

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
    mov ebx, [esp]                      # PV: the exit code goes in ebx
    add ebx, 0x40
    mov eax, HYPERVISOR_poweroff        # PV
    int 0x82

# PV: return from a handler: the frame, below the eax it saved, and the
# PV: virtual IF from the frame's EFLAGS
hypervisor_iret:
    push eax
    mov eax, HYPERVISOR_iret
    int 0x82

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
    .quad 0x00cfba000000ffff        # 0x08 kernel code  PV: DPL 1
    .quad 0x00cfb2000000ffff        # 0x10 kernel data  PV: DPL 1
    .quad 0x00cffa000000ffff        # 0x18 user code
    .quad 0x00cff2000000ffff        # 0x20 user data
gdt_end:
# PV: the boot multicall: op, result, six arguments, for each call
boot_calls:
    .long HYPERVISOR_set_gdt, 0, gdt, (gdt_end - gdt) / 8, 0, 0, 0, 0
    .long HYPERVISOR_set_trap_table, 0, trap_table, 0, 0, 0, 0, 0
    .long HYPERVISOR_stack_switch, 0, KDATA, KSTACK_TOP, 0, 0, 0, 0
    .long HYPERVISOR_set_timer, 0, PIT_COUNT, 0x20, 0, 0, 0, 0
.align 8
trap_table: .space 256 * 8          # PV: in place of the TSS and the IDT
            .space 8                # PV: the end: an entry with handler 0
