# nano_divzero.asm: Adams and Agesen's "divzero" nanobenchmark as a tiny kernel.
#
# Adams and Agesen (ASPLOS 2006, section 6.3) timed one virtualization-sensitive
# operation at a time in FrobOS, a small test kernel. This guest divides by
# zero ITERATIONS times; its #DE handler counts the fault and returns past the
# DIV: a guest fault that needs no MMU work. Prints the count on COM1 and
# powers off with exit code 0 when it is right, 1 when not.
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
    mov ecx, 0                      # #DE
    lea eax, [de_isr]
    mov edx, INTGATE
    call set_gate

    xor esi, esi                    # the divisor
    mov ecx, ITERATIONS
bench:
    div esi                         # #DE; the handler skips these 2 bytes
    dec ecx
    jnz bench

    mov eax, [faults]
    mov ebx, ITERATIONS
    lea esi, [name]
    jmp report

de_isr:
    inc dword ptr [faults]
    add dword ptr [esp], 2          # return past the DIV
    iretd

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
faults:     .long 0
name:       .asciz "nano divzero: faults "
.align 8
idt:        .space 256 * 8
