# nano_syscall.asm: Adams and Agesen's "syscall" nanobenchmark as a tiny kernel.
#
# Adams and Agesen (ASPLOS 2006, section 6.3) timed one virtualization-sensitive
# operation at a time in FrobOS, a small test kernel. Here a ring-3 task makes
# ITERATIONS system calls with int 0x80 (the paper used SYSCALL/SYSRET, which
# this machine's guests do not); the kernel's handler counts each and IRETs
# back. int 0x81 ends the task. Prints the count on COM1 and powers off with
# exit code 0 when it is right, 1 when not.
#
# benchmarks/adams_agesen.py rewrites the ITERATIONS line to time one operation.

.equ ITERATIONS, 1000
.equ COM1, 0x3f8
.equ DEBUG_EXIT, 0xf4
.equ KCODE, 0x08
.equ KDATA, 0x10
.equ TSS_SEL, 0x28
.equ KSTACK_TOP, 0x90000
.equ INTGATE, 0x8e00
.equ USERGATE, 0xee00               # an interrupt gate ring 3 may INT to

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
    mov ecx, 0x80
    lea eax, [syscall_isr]
    mov edx, USERGATE
    call set_gate
    mov ecx, 0x81
    lea eax, [done_isr]
    mov edx, USERGATE
    call set_gate
    # the TSS holds the ring-0 stack the CPU switches to on a system call
    lea eax, [tss]
    mov dword ptr [eax + 4], KSTACK_TOP     # esp0
    mov dword ptr [eax + 8], KDATA          # ss0
    mov word ptr [eax + 0x66], 104          # no I/O bitmap
    lea ebx, [tss_desc]
    mov [ebx + 2], ax                       # base 15..0
    shr eax, 16
    mov [ebx + 4], al                       # base 23..16
    mov [ebx + 7], ah                       # base 31..24
    mov eax, TSS_SEL
    ltr ax
    # to ring 3, on the user's data segments, interrupts on
    mov eax, 0x23
    mov ds, eax
    mov es, eax
    push 0x23                       # ss: user data
    push 0x80000                    # esp: the user stack
    push 0x202                      # eflags: IF
    push 0x1b                       # cs: user code
    lea eax, [user_main]
    push eax
    iretd

user_main:
    mov ecx, ITERATIONS
bench:
    int 0x80
    dec ecx
    jnz bench
    int 0x81

syscall_isr:
    inc dword ptr [calls]           # the user's flat data segment serves here
    iretd

done_isr:
    mov eax, KDATA
    mov ds, eax
    mov es, eax
    mov eax, [calls]
    mov ebx, ITERATIONS
    lea esi, [name]
    jmp report

# ------------------------------------------- the same in every nano guest
# Every vector to `unexpected`, then load the IDT.
setup_idt:
    xor ecx, ecx
idt_fill:
    lea eax, [unexpected]
    mov edx, INTGATE
    call set_gate
    inc ecx
    cmp ecx, 256
    jne idt_fill
    lidt [idt_ptr]
    ret

# ecx = vector, eax = handler, edx = gate type and DPL bits (eax, ebx changed)
set_gate:
    lea ebx, [idt]
    lea ebx, [ebx + ecx*8]
    mov [ebx], ax
    mov word ptr [ebx + 2], KCODE
    and eax, 0xffff0000
    or eax, edx
    mov [ebx + 4], eax
    ret

# esi = name, eax = count, ebx = expected: prints "name count\n" in hex and
# powers off with 0 when count = expected, 1 otherwise
report:
    mov edi, eax
    mov dx, COM1
report_name:
    lodsb
    test al, al
    jz report_digits
    out dx, al
    jmp report_name
report_digits:
    mov ecx, 8
report_digit:                       # by table: the same instructions for every value
    rol edi, 4
    mov eax, edi
    and eax, 0x0f
    mov al, [digits + eax]
    out dx, al
    dec ecx
    jnz report_digit
    mov al, 10
    out dx, al
    cmp edi, ebx
    setne al
    out DEBUG_EXIT, al
    hlt

unexpected:
    mov al, 0xee
    out DEBUG_EXIT, al
    hlt

.align 8
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        # 0x08 kernel code
    .quad 0x00cf92000000ffff        # 0x10 kernel data
    .quad 0x00cffa000000ffff        # 0x1b user code
    .quad 0x00cff2000000ffff        # 0x23 user data
tss_desc:
    .quad 0x0000890000000067        # 0x28 TSS: limit 103, base filled in
gdt_end:
gdt_ptr:    .word gdt_end - gdt - 1
            .long gdt
idt_ptr:    .word 256 * 8 - 1
            .long idt
digits:     .ascii "0123456789ABCDEF"
calls:      .long 0
name:       .asciz "nano syscall: calls "
.align 8
tss:        .space 104
.align 8
idt:        .space 256 * 8
