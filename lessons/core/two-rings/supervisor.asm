# supervisor.asm: paging has one user/supervisor bit, not four rings.
#
# The kernel turns paging on with every page marked supervisor except the
# user task's code and stack. Then two pieces of less privileged code write the
# same kernel variable at 0x700:
#   1. a driver in ring 1 writes the value it finds at 0x500 (a lesson
#      parameter; 0x1111 when it is 0). Rings 0, 1 and 2 are all "supervisor"
#      to the paging unit, so the write goes through.
#   2. the user task in ring 3 writes 0xBAD there. Ring 3 is "user": the page
#      is supervisor-only, so the CPU raises a page fault (#PF, vector 14).
# The kernel reports both on COM1 and powers off with exit code 0x4E (0x40 + 14)
# from its page-fault handler.

.equ COM1, 0x3f8
.equ COM1_LSR, 0x3fd
.equ DEBUG_EXIT, 0xf4
.equ PARAM_VALUE, 0x500
.equ KERNEL_VAR, 0x700
.equ KCODE, 0x08
.equ KDATA, 0x10
.equ TSS_SEL, 0x38
.equ KSTACK_TOP, 0x90000
.equ USTACK_TOP, 0x80000
.equ USTACK_PAGE, 0x7f000
.equ INTGATE, 0x8e00
.equ USERGATE, 0xee00
.equ PTE_KERNEL, 3                  # present, writable, supervisor
.equ PTE_USER, 7                    # present, writable, user
.equ PAGE_DIR, 0x200000             # the page directory and the one page table,
.equ PAGE_TABLE, 0x201000           # in RAM above the image

start:
    lgdt [gdt_ptr]
    .byte 0xea; .long reload; .word KCODE    # jmp KCODE:reload
reload:
    mov eax, 0x33                   # UDATA: one flat data segment for every ring
    mov ds, eax
    mov es, eax
    mov eax, KDATA
    mov ss, eax
    mov esp, KSTACK_TOP
    call setup_idt
    call setup_tss
    call setup_paging
    lea esi, [paging_msg]
    call kputs
    # run the driver in ring 1
    push 0x21                       # driver stack segment, DPL 1
    push 0x88000                    # its stack
    push 0x1002                     # IF = 0, IOPL = 1
    push 0x19                       # driver code segment, DPL 1
    lea eax, [driver_main]
    push eax
    iretd

# ---------------------------------------------------------------- set-up
# Every page of the first 4 MiB is supervisor, except the user task's code
# page and its stack page.
setup_paging:
    mov edi, PAGE_TABLE
    xor ecx, ecx
pt_fill:
    mov eax, ecx
    shl eax, 12
    or eax, PTE_KERNEL
    mov [edi + ecx*4], eax
    inc ecx
    cmp ecx, 1024
    jne pt_fill
    lea eax, [user_main]
    shr eax, 12
    or dword ptr [edi + eax*4], PTE_USER
    mov eax, USTACK_PAGE
    shr eax, 12
    or dword ptr [edi + eax*4], PTE_USER
    mov eax, PAGE_DIR
    mov [eax], edi
    or dword ptr [eax], PTE_USER    # the directory entry lets each page decide
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000              # PG
    mov cr0, eax
    ret

setup_idt:
    xor ecx, ecx
idt_fill:
    lea eax, [unexpected_isr]
    mov edx, INTGATE
    call set_gate
    inc ecx
    cmp ecx, 256
    jne idt_fill
    mov ecx, 13
    lea eax, [gp_isr]
    call set_gate
    mov ecx, 14
    lea eax, [pf_isr]
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
    mov word ptr [eax + 0x66], 104
    lea ebx, [tss_desc]
    mov word ptr [ebx], 103
    mov [ebx + 2], ax
    shr eax, 16
    mov [ebx + 4], al
    mov byte ptr [ebx + 5], 0x89
    mov byte ptr [ebx + 6], 0
    mov [ebx + 7], ah
    mov eax, TSS_SEL
    ltr ax
    ret

# ---------------------------------------------------------------- kernel
# int 0x80 from the driver: it is done. Report, then start the user task.
syscall_isr:
    lea esi, [driver_msg]
    call kputs
    mov eax, [KERNEL_VAR]
    call kputhex
    mov al, 10
    call kputc
    add esp, 20                     # the driver's frame: it does not return
    push 0x33                       # UDATA: ss
    push 0x80000                    # USTACK_TOP: esp
    push 0x1002
    push 0x2b                       # UCODE: cs
    lea eax, [user_main]
    push eax
    iretd

# stack: error code, eip, cs, eflags, esp, ss
pf_isr:
    lea esi, [pf_msg]
    call kputs
    mov eax, [esp]
    call kputhex
    lea esi, [cr2_msg]
    call kputs
    mov eax, cr2
    call kputhex
    lea esi, [value_msg]
    call kputs
    mov eax, [KERNEL_VAR]
    call kputhex
    mov al, 10
    call kputc
    mov al, 0x4e                    # 0x40 + 14
    out DEBUG_EXIT, al
    hlt

gp_isr:
    mov al, 0x4d                    # 0x40 + 13
    out DEBUG_EXIT, al
    hlt
unexpected_isr:
    mov al, 0x7f
    out DEBUG_EXIT, al
    hlt

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

# eax = value, printed as 0x and 8 hex digits
kputhex:
    push ecx
    push eax
    mov al, 0x30
    call kputc
    mov al, 0x78
    call kputc
    mov eax, [esp]
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

# ---------------------------------------------------------------- ring 1
driver_main:
    mov eax, [PARAM_VALUE]
    test eax, eax
    jnz driver_write
    mov eax, 0x1111
driver_write:
    mov [KERNEL_VAR], eax           # a supervisor page, written from ring 1
    mov eax, 2
    int 0x80                        # done

# ---------------------------------------------------------------- data
paging_msg: .asciz "kernel: paging on; only the user task's code and stack pages are user pages\n"
driver_msg: .asciz "kernel: the ring-1 driver wrote the kernel variable at 0x700: "
pf_msg:     .asciz "kernel: page fault from the user task, error code "
cr2_msg:    .asciz " at address "
value_msg:  .asciz "; the kernel variable is still "

.align 8
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        # 0x08 kernel code
    .quad 0x00cf92000000ffff        # 0x10 kernel stack
    .quad 0x00cfba000000ffff        # 0x18 driver code, DPL 1
    .quad 0x00cfb2000000ffff        # 0x20 driver stack, DPL 1
    .quad 0x00cffa000000ffff        # 0x28 user code
    .quad 0x00cff2000000ffff        # 0x30 user data, used by every ring
tss_desc:
    .quad 0                         # 0x38 the TSS
gdt_end:
gdt_ptr:    .word gdt_end - gdt - 1
            .long gdt
idt_ptr:    .word 256 * 8 - 1
            .long idt
.align 8
tss:        .space 104
idt:        .space 256 * 8

# ---------------------------------------------------------------- ring 3
# Alone in its page, the only code page marked user.
.align 4096
user_main:
    mov dword ptr [KERNEL_VAR], 0xbad   # a supervisor page, written from ring 3
    mov al, 0x7e                    # not reached: the write faults
    mov dx, DEBUG_EXIT
    out dx, al
user_hang:
    jmp user_hang
