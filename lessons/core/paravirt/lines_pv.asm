# lines_pv.asm: lines.asm ported to the paravirt monitor (docs/paravirt.md).
#
# The kernel runs in ring 1 and may not touch the serial port. Instead of two
# port accesses per byte it asks the monitor to write each line with the
# hypercall console_write, and it does not even make those one by one: it fills
# a multicall list with N console_write entries and hands the whole list over
# in one int 0x82. Then it powers off with the hypercall poweroff(N).
#
# N is the dword at 0x500 (a lesson parameter; 4 when it is 0, at most 32).
# Hypercalls: int 0x82, number in eax, arguments in ebx, ecx, edx, esi, edi.

.equ PARAM_N, 0x500
.equ LINE_LEN, 5                    # "tick\n"
.equ HYPERVISOR_console_write, 1
.equ HYPERVISOR_poweroff, 9
.equ HYPERVISOR_multicall, 10
.equ ENTRY_SIZE, 32                 # Xen's multicall_entry: op, result, six args

start:
    mov ecx, [PARAM_N]
    test ecx, ecx
    jnz have_n
    mov ecx, 4
have_n:
    cmp ecx, 32
    jbe n_ok
    mov ecx, 32
n_ok:
    mov ebp, ecx                    # N, for poweroff
    lea edi, [calls]
    lea edx, [line]
fill:                               # one console_write(line, LINE_LEN) per line
    mov dword ptr [edi], HYPERVISOR_console_write
    mov dword ptr [edi + 4], 0      # result, filled in by the monitor
    mov [edi + 8], edx              # argument 1: the address
    mov dword ptr [edi + 12], LINE_LEN  # argument 2: the length
    add edi, ENTRY_SIZE
    dec ecx
    jnz fill
    lea ebx, [calls]
    mov ecx, ebp
    mov eax, HYPERVISOR_multicall
    int 0x82                        # all N writes in one trap
    mov ebx, ebp
    mov eax, HYPERVISOR_poweroff
    int 0x82

line:       .ascii "tick\n"
.align 4
calls:      .space 32 * 32          # room for 32 entries
