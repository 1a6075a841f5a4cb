# nano_pgfault.asm: Adams and Agesen's "pgfault" nanobenchmark as a tiny kernel.
#
# Adams and Agesen (ASPLOS 2006, section 6.3) timed one virtualization-sensitive
# operation at a time in FrobOS, a small test kernel. This guest turns paging
# on with TARGET's page not present, then reads TARGET ITERATIONS times; the
# #PF handler counts the fault and returns past the read. A true guest page
# fault: a monitor that shadows the page tables (software, or VT-x without
# nested paging) must find out that the guest's own tables refuse the access
# before it can hand the fault on. Prints the count on COM1 and powers off
# with exit code 0 when it is right, 1 when not.
#
# benchmarks/adams_agesen.py rewrites the ITERATIONS line to time one operation.

.equ ITERATIONS, 1000
.equ COM1, 0x3f8
.equ DEBUG_EXIT, 0xf4
.equ KCODE, 0x08
.equ KDATA, 0x10
.equ KSTACK_TOP, 0x90000
.equ INTGATE, 0x8e00
.equ PAGE_DIR, 0x200000             # the guest's page directory
.equ PAGE_TABLE, 0x201000           # its one page table: the first 4 MiB, identity
.equ TARGET, 0x300000               # the page left not present
.equ TARGET_PTE, PAGE_TABLE + (TARGET >> 12) * 4

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
    mov ecx, 14                     # #PF
    lea eax, [pf_isr]
    mov edx, INTGATE
    call set_gate
    call paging_on
    mov dword ptr [TARGET_PTE], 0
    mov eax, TARGET
    invlpg [eax]

    mov ebx, TARGET
    mov ecx, ITERATIONS
bench:
    mov eax, [ebx]                  # #PF; the handler skips these 2 bytes
    dec ecx
    jnz bench

    mov eax, [faults]
    mov ebx, ITERATIONS
    lea esi, [name]
    jmp report

pf_isr:
    inc dword ptr [faults]
    add dword ptr [esp + 4], 2      # return past the read
    add esp, 4                      # drop the error code
    iretd

# Page directory: entry 0 -> PAGE_TABLE, the rest empty; the table maps the
# first 4 MiB one to one, writable, supervisor only. Then CR3 and CR0.PG.
paging_on:
    mov edi, PAGE_DIR
    xor eax, eax
    mov ecx, 1024
    rep stosd
    mov dword ptr [PAGE_DIR], PAGE_TABLE | 3
    mov edi, PAGE_TABLE
    mov eax, 3
    mov ecx, 1024
paging_fill:
    stosd
    add eax, 0x1000
    dec ecx
    jnz paging_fill
    mov eax, PAGE_DIR
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    ret

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
name:       .asciz "nano pgfault: faults "
.align 8
idt:        .space 256 * 8
