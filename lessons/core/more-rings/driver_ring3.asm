# driver_ring3.asm: a user task prints through a serial driver, and the
# driver runs in ring 3.
#
# The three programs of this lesson (driver_ring0, driver_ring1, driver_ring3)
# differ only in their first two lines and in `.equ VARIANT`; the code is the same.
#   ring 0: the driver is part of the kernel. A request is one system call.
#   ring 1: the driver is its own server in ring 1, with IOPL = 1, so it does
#           its own port I/O and user code (ring 3) cannot. A request is a call
#           to the kernel, which passes it to the driver, which replies.
#   ring 3: the driver is a user-mode server, as in a microkernel that has only
#           two rings (MINIX 3 drivers work this way). Ring 3 may not touch
#           ports, so every port access is one more kernel call (inb, outb).
#
# The user task sends N bytes, one request each: N is the dword at 0x500 (a
# lesson parameter; 8 when it is 0). The exit code is N.
#
# Kernel calls (int 0x80): eax = number
#   1 send(bl = byte)       user -> driver        2 reply()       driver -> user
#   3 inb(dx) -> al         4 outb(dx, bl)        5 exit(bl = code)

.equ VARIANT, 3                    # the driver's ring: 0, 1 or 3
.equ COM1, 0x3f8
.equ COM1_LSR, 0x3fd
.equ DEBUG_EXIT, 0xf4
.equ PARAM_N, 0x500
.equ KCODE, 0x08
.equ KDATA, 0x10
.equ DCODE, 0x18 + VARIANT            # the driver's code segment, DPL = VARIANT
.equ DDATA, 0x20 + VARIANT            # the driver's stack segment
.equ UCODE, 0x2b
.equ UDATA, 0x33
.equ TSS_SEL, 0x38
.equ KSTACK_TOP, 0x90000
.equ DSTACK_TOP, 0x88000
.equ USTACK_TOP, 0x80000
.equ EFLAGS_IOPL1, 0x1002             # IF = 0, IOPL = 1: rings 0 and 1 may use ports
.equ INTGATE, 0x8e00
.equ USERGATE, 0xee00                 # DPL 3: int 0x80 from any ring

start:
    lgdt [gdt_ptr]
    .byte 0xea; .long reload; .word KCODE    # jmp KCODE:reload
reload:
    mov eax, UDATA                  # one flat data segment every ring may use
    mov ds, eax
    mov es, eax
    mov eax, KDATA
    mov ss, eax
    mov esp, KSTACK_TOP
    call setup_idt
    call setup_tss
    push 0x33                       # UDATA: ss
    push 0x80000                    # USTACK_TOP: esp
    push 0x1002                     # EFLAGS_IOPL1
    push 0x2b                       # UCODE: cs
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
    mov word ptr [eax + 0x66], 104          # no I/O bitmap: IOPL alone decides
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

# ---------------------------------------------------------------- kernel calls
syscall_isr:
    cmp eax, 1
    je k_send
    cmp eax, 2
    je k_reply
    cmp eax, 3
    je k_inb
    cmp eax, 4
    je k_outb
    cmp eax, 5
    je k_exit
    mov eax, -1
    iretd

# send: with the driver in the kernel, do the work here; otherwise switch to
# the driver. The user's frame and registers stay on the kernel stack, and the
# driver's own kernel calls land below them (TSS.esp0 moves down).
k_send:
    mov eax, VARIANT
    test eax, eax
    jnz k_send_server
    call kputc_bl
    iretd
k_send_server:
    pushad
    lea eax, [tss]
    mov [eax + 4], esp
    mov eax, DDATA
    push eax                        # ss
    push 0x88000                    # DSTACK_TOP: esp
    push 0x1002                     # EFLAGS_IOPL1
    mov eax, DCODE
    push eax                        # cs
    lea eax, [driver_main]
    push eax
    iretd                           # into the driver, ebx = the byte

# reply: drop the driver's frame, give the user back its registers
k_reply:
    add esp, 20
    lea eax, [tss]
    mov dword ptr [eax + 4], KSTACK_TOP
    popad
    iretd

k_inb:
    in al, dx
    iretd

k_outb:
    push eax
    mov al, bl
    out dx, al
    pop eax
    iretd

k_exit:
    mov al, bl
    out DEBUG_EXIT, al
    hlt

# the in-kernel driver: bl = byte; waits for the transmitter, then sends
kputc_bl:
    push eax
    push edx
    mov dx, COM1_LSR
kputc_wait:
    in al, dx
    test al, 0x20
    jz kputc_wait
    mov dx, COM1
    mov al, bl
    out dx, al
    pop edx
    pop eax
    ret

gp_isr:
    mov al, 0x4d                    # 0x40 + 13: general protection
    out DEBUG_EXIT, al
    hlt
pf_isr:
    mov al, 0x4e                    # 0x40 + 14: page fault
    out DEBUG_EXIT, al
    hlt
unexpected_isr:
    mov al, 0x7f
    out DEBUG_EXIT, al
    hlt

# ---------------------------------------------------------------- the driver
# Entered in its own ring with bl = the byte to send; ends with reply().
driver_main:
    mov eax, VARIANT
    cmp eax, 3
    je driver_user
driver_wait:                        # ring 1: the ports are ours (IOPL = 1)
    mov dx, COM1_LSR
    in al, dx
    test al, 0x20
    jz driver_wait
    mov dx, COM1
    mov al, bl
    out dx, al
    mov eax, 2
    int 0x80                        # reply
driver_user:                        # ring 3: ask the kernel for each access
    mov dx, COM1_LSR
    mov eax, 3
    int 0x80                        # inb
    test al, 0x20
    jz driver_user
    mov dx, COM1
    mov eax, 4
    int 0x80                        # outb
    mov eax, 2
    int 0x80                        # reply

# ---------------------------------------------------------------- ring 3
user_main:
    mov ecx, [PARAM_N]
    test ecx, ecx
    jnz user_have_n
    mov ecx, 8
user_have_n:
    cmp ecx, 64
    jbe user_n_ok
    mov ecx, 64
user_n_ok:
    mov esi, ecx                    # N, kept for exit()
    xor edi, edi                    # k: requests sent
user_next:
    lea eax, [edi + 1]
    cmp eax, esi
    mov bl, 10                      # the last byte ends the line
    je user_send
    mov ebx, edi
    add bl, 0x61                    # 'a' + k
user_send:
    mov eax, 1
    int 0x80                        # send
    inc edi
    cmp edi, esi
    jne user_next
    mov ebx, esi
    mov eax, 5
    int 0x80                        # exit(N)
user_hang:
    jmp user_hang

# ---------------------------------------------------------------- data
.align 8
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        # 0x08 kernel code
    .quad 0x00cf92000000ffff        # 0x10 kernel stack
    .long 0x0000ffff                # 0x18 driver code, DPL = VARIANT
    .long 0x00cf9a00 + (VARIANT << 13)
    .long 0x0000ffff                # 0x20 driver stack, DPL = VARIANT
    .long 0x00cf9200 + (VARIANT << 13)
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
