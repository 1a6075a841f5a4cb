"""Test guests for `paravirt`: a small ported kernel to which each test adds its code.

The prelude hands the monitor a GDT (ring-1 kernel, ring-3 user), a trap
table and a ring-1 stack, as a ported kernel must; the library offers
`puthex` (EAX through console_write), `exit_with` (poweroff with AL),
`hyp_iret` (return from a handler), `enter_user` (ring 3 at EAX with EFLAGS
EBX) and `spin` (about 6,000 instructions of nothing).
"""

from __future__ import annotations

from vizvm.monitors.pv_hypercalls import BY_NAME

HC = {name: call.number for name, call in BY_NAME.items()}

PRELUDE = f"""
.equ KCODE, 0x09
.equ KDATA, 0x11
.equ UDATA, 0x23
.equ KSTACK, 0x90000
start:
    lea ebx, [gdt]
    mov ecx, 5
    mov eax, {HC['set_gdt']}
    int 0x82
    .byte 0xea; .long reload; .word KCODE
reload:
    mov eax, KDATA
    mov ds, eax
    mov es, eax
    mov ss, eax
    mov esp, KSTACK
    lea ebx, [traps]
    mov eax, {HC['set_trap_table']}
    int 0x82
    mov ebx, KDATA
    mov ecx, KSTACK
    mov eax, {HC['stack_switch']}
    int 0x82
"""

LIBRARY = f"""
puthex:
    push eax
    push ebx
    push ecx
    push edx
    lea ebx, [hexbuf]
    mov ecx, 8
puthex_digit:
    rol eax, 4
    mov edx, eax
    and dl, 0x0f
    add dl, 0x30
    cmp dl, 0x3a
    jb puthex_store
    add dl, 7
puthex_store:
    mov [ebx], dl
    inc ebx
    dec ecx
    jnz puthex_digit
    mov byte ptr [ebx], 10
    lea ebx, [hexbuf]
    mov ecx, 9
    mov eax, {HC['console_write']}
    int 0x82
    pop edx
    pop ecx
    pop ebx
    pop eax
    ret
exit_with:
    movzx ebx, al
    mov eax, {HC['poweroff']}
    int 0x82
hyp_iret:
    push eax
    mov eax, {HC['iret']}
    int 0x82
enter_user:
    mov ecx, UDATA
    mov ds, ecx
    mov es, ecx
    push 0x23
    push 0x80000
    push ebx
    push 0x1b
    push eax
    jmp hyp_iret
spin:
    push ecx
    mov ecx, 3000
spin_again:
    loop spin_again
    pop ecx
    ret
"""

DATA = """
.align 4
gdt:
    .quad 0
    .quad 0x00cfba000000ffff
    .quad 0x00cfb2000000ffff
    .quad 0x00cffa000000ffff
    .quad 0x00cff2000000ffff
hexbuf: .space 12
"""


def pv_kernel(body: str, traps: dict[int, tuple[str, int]] | None = None, code: str = "",
              data: str = "") -> str:
    """A whole PV guest; `traps` maps a vector to (handler label, trap_info flags)."""
    entries = [f"    .byte {v}, {flags}; .word KCODE; .long {label}"
               for v, (label, flags) in (traps or {}).items()]
    table = "\n".join(["traps:", *entries, "    .long 0, 0"])
    return "\n".join([PRELUDE, body, LIBRARY, code, DATA, data, table])


def hypercall(name: str, *args: int | str) -> str:
    """Load EBX, ECX, EDX (a label's address for a str) and make the call."""
    lines = [f"    lea {r}, [{a}]" if isinstance(a, str) else f"    mov {r}, {a}"
             for r, a in zip(("ebx", "ecx", "edx"), args, strict=False)]
    return "\n".join([*lines, f"    mov eax, {HC[name]}", "    int 0x82"])
