"""Test guests: a small ring-0 kernel skeleton to which each test adds its own code.

The skeleton loads its own GDT (kernel and user code and data, a TSS), fills
an IDT, and offers `putc`, `puthex`, `exit_with` (AL -> debug-exit) and
`enter_user` (EAX -> ring 3 at that address, interrupts as EBX says).
"""

from __future__ import annotations

from collections.abc import Mapping

PRELUDE = """
.equ COM1, 0x3f8
.equ DEBUG_EXIT, 0xf4
.equ KCODE, 0x08
.equ KDATA, 0x10
.equ UCODE, 0x1b
.equ UDATA, 0x23
.equ TSS_SEL, 0x28
.equ KSTACK, 0x90000
.equ USTACK, 0x80000
start:
    lgdt [gdt_ptr]
    .byte 0xea; .long reload; .word KCODE
reload:
    mov eax, KDATA
    mov ds, eax
    mov es, eax
    mov fs, eax
    mov gs, eax
    mov ss, eax
    mov esp, KSTACK
    xor ecx, ecx
idt_fill:
    lea eax, [unexpected]
    mov edx, 0x8e00
    call set_gate
    inc ecx
    cmp ecx, 256
    jne idt_fill
"""

SETUP_TAIL = """
    lidt [idt_ptr]
    lea eax, [tss]
    mov dword ptr [eax + 4], KSTACK
    mov dword ptr [eax + 8], KDATA
    mov word ptr [eax + 0x66], 104
    lea ebx, [tss_desc]
    mov word ptr [ebx], 103
    mov [ebx + 2], ax
    shr eax, 16
    mov [ebx + 4], al
    mov byte ptr [ebx + 5], 0x89
    mov [ebx + 7], ah
    mov eax, TSS_SEL
    ltr ax
"""

LIBRARY = """
# ecx = vector, eax = handler, edx = gate type and DPL bits
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

# al = byte
putc:
    push edx
    mov dx, COM1
    out dx, al
    pop edx
    ret

# eax = value, as 8 hex digits and a newline
puthex:
    push ecx
    push eax
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
    mov al, 10
    call putc
    pop eax
    pop ecx
    ret

# al = exit code
exit_with:
    out DEBUG_EXIT, al
    hlt

# eax = user entry point, ebx = EFLAGS for ring 3 (data segments: the user's)
enter_user:
    mov ecx, UDATA
    mov ds, ecx
    mov es, ecx
    push 0x23
    push 0x80000
    push ebx
    push 0x1b
    push eax
    iretd

unexpected:
    mov al, 0xee
    jmp exit_with
"""

DATA = """
.align 4
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff
    .quad 0x00cf92000000ffff
    .quad 0x00cffa000000ffff
    .quad 0x00cff2000000ffff
tss_desc:
    .quad 0
gdt_end:
gdt_ptr:    .word gdt_end - gdt - 1
            .long gdt
idt_ptr:    .word 256 * 8 - 1
            .long idt
.align 8
tss:        .space 104
idt:        .space 256 * 8
"""


def kernel(body: str, handlers: Mapping[int, str] | None = None, user_gates: tuple = (),
           code: str = "", data: str = "") -> str:
    """A whole guest: the skeleton, gates for `handlers` (vector -> label), then `body`.

    Vectors in `user_gates` get DPL 3 so that ring 3 may INT to them.
    """
    gates = []
    for vector, label in (handlers or {}).items():
        kind = "0xee00" if vector in user_gates else "0x8e00"
        gates.append(f"    mov ecx, {vector}\n    lea eax, [{label}]\n"
                     f"    mov edx, {kind}\n    call set_gate")
    return "\n".join([PRELUDE, *gates, SETUP_TAIL, body, LIBRARY, code, data, DATA])
