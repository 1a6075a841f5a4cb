# nano_clisti.asm: a stand-in for Adams and Agesen's "cr8wr" nanobenchmark.
#
# Adams and Agesen (ASPLOS 2006, section 6.3) timed one virtualization-sensitive
# operation at a time in FrobOS, a small test kernel. Their cr8wr wrote the
# task-priority register CR8, which 32-bit x86 does not have; CLI and STI are
# the same kind of operation (a privileged write to interrupt-masking state
# that a binary translator turns into a store to virtual state, section 3.2).
# Each of ITERATIONS loops does one CLI and one STI. Prints the number of loops
# on COM1 and powers off with exit code 0 when it is right, 1 when not.
#
# benchmarks/adams_agesen.py rewrites the ITERATIONS line to time one operation.

.equ ITERATIONS, 1000
.equ COM1, 0x3f8
.equ DEBUG_EXIT, 0xf4
.equ KCODE, 0x08
.equ KDATA, 0x10
.equ KSTACK_TOP, 0x90000
.equ INTGATE, 0x8e00

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
    mov ecx, ITERATIONS
bench:
    cli
    sti
    dec ecx
    jnz bench

    mov eax, ITERATIONS
    sub eax, ecx                    # loops completed
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
gdt_end:
gdt_ptr:    .word gdt_end - gdt - 1
            .long gdt
idt_ptr:    .word 256 * 8 - 1
            .long idt
digits:     .ascii "0123456789ABCDEF"
name:       .asciz "nano cli/sti: loops "
.align 8
idt:        .space 256 * 8
