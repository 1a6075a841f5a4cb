# nano_ptemod.asm: Adams and Agesen's "ptemod" nanobenchmark as a tiny kernel.
#
# Adams and Agesen (ASPLOS 2006, section 6.3) timed one virtualization-sensitive
# operation at a time in FrobOS, a small test kernel. This guest turns paging
# on and then, ITERATIONS times, stores into the page-table entry of the page
# at TARGET in the active tables, switching it between two physical frames,
# and flushes the old translation with INVLPG as a kernel must. A monitor that
# shadows the page tables has to notice each change. After the loop it reads
# the page through its last mapping: the marker of frame A or frame B. Prints
# the marker on COM1 and powers off with exit code 0 when it is the right
# one, 1 when not.
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
.equ TARGET, 0x300000               # the page remapped, identity-mapped to frame A
.equ FRAME_A, TARGET
.equ FRAME_B, 0x301000
.equ TARGET_PTE, PAGE_TABLE + (TARGET >> 12) * 4
.equ FLIP, FRAME_A ^ FRAME_B
.equ EXPECTED, 0x41 + (ITERATIONS & 1)  # 'A' after an even number of flips, else 'B'

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
    mov dword ptr [FRAME_A], 0x41   # paging is off: frames by physical address
    mov dword ptr [FRAME_B], 0x42
    call paging_on

    mov eax, FRAME_A | 3            # the entry as it is
    mov edi, TARGET_PTE
    mov ebx, TARGET
    mov ecx, ITERATIONS
bench:
    xor eax, FLIP                   # the other frame
    mov [edi], eax                  # the page-table store
    invlpg [ebx]                    # and the TLB flush that goes with it
    dec ecx
    jnz bench

    mov eax, [TARGET]               # through the last mapping
    mov ebx, EXPECTED
    lea esi, [name]
    jmp report

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
name:       .asciz "nano ptemod: marker "
.align 8
idt:        .space 256 * 8
