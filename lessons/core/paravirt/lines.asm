# lines.asm: a guest kernel prints N lines on the serial console, the way an
# unmodified kernel does: for every byte, it polls the line status register
# and writes the byte to the data register (two port accesses).
#
# N is the dword at 0x500 (a lesson parameter; 4 when it is 0, at most 32).
# It powers off with exit code N. Its paravirtual port is lines_pv.asm.

.equ COM1, 0x3f8
.equ COM1_LSR, 0x3fd
.equ DEBUG_EXIT, 0xf4
.equ PARAM_N, 0x500
.equ LINE_LEN, 5                    # "tick\n"

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
    mov ebx, ecx
next_line:
    lea esi, [line]
    mov edi, LINE_LEN
next_byte:
    mov dx, COM1_LSR
wait:
    in al, dx                       # is the transmitter ready?
    test al, 0x20
    jz wait
    lodsb
    mov dx, COM1
    out dx, al                      # send the byte
    dec edi
    jnz next_byte
    dec ecx
    jnz next_line
    mov al, bl
    out DEBUG_EXIT, al
    hlt

line:       .ascii "tick\n"
