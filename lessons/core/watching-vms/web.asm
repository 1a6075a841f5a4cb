# web.asm: a compromised web server that leaks data two ways.
#
# Its card (docs/hosts.md: ports 0xC100-0xC11F) is on the host's virtual
# switch. VMs get their card's address from their place on the host: the
# first VM 02:00:00:00:00:01, the second 02:00:00:00:00:02. This VM sends
#   - `copies` frames carrying "SECRET" to the database VM, 02:00:00:00:00:02,
#     on the same host (the lesson's parameter at 0x500; 3 when none is given),
#   - one ordinary request to the gateway, 0a:00:00:00:00:01, outside the host,
#   - one frame carrying "SECRET" to the gateway.
# It prints the status of each send (0x00 = sent) and powers off with the
# number of frames it sent.

.equ COM1, 0x3f8
.equ DEBUG_EXIT, 0xf4
.equ NIC_TX_ADDRESS, 0xc100
.equ NIC_TX_LENGTH, 0xc104
.equ NIC_COMMAND, 0xc108            # write: the command; read: its status
.equ SEND, 1
.equ DEFAULT_COPIES, 3
.equ TO_DB_LEN, 43                  # the frames below: 12 bytes of addresses + payload
.equ TO_GATEWAY_LEN, 27
.equ LEAK_OUT_LEN, 43

start:
    lea esi, [hello_msg]
    call puts
    mov ebp, [0x500]                # the lesson's number of copies, if any
    test ebp, ebp
    jnz have_copies
    mov ebp, DEFAULT_COPIES
have_copies:
    xor ebx, ebx                    # frames sent
inside:
    lea eax, [to_db]
    mov ecx, TO_DB_LEN
    call send
    dec ebp
    jnz inside
    lea eax, [to_gateway]
    mov ecx, TO_GATEWAY_LEN
    call send
    lea eax, [leak_out]
    mov ecx, LEAK_OUT_LEN
    call send
    lea esi, [done_msg]
    call puts
    mov eax, ebx
    out DEBUG_EXIT, al
    hlt

# eax = frame, ecx = its length; counts it in ebx and prints its status
send:
    mov dx, NIC_TX_ADDRESS
    out dx, eax
    mov eax, ecx
    mov dx, NIC_TX_LENGTH
    out dx, eax
    mov eax, SEND
    mov dx, NIC_COMMAND
    out dx, eax
    in eax, dx
    push eax
    lea esi, [sent_msg]
    call puts
    pop eax
    call puthex
    lea esi, [newline]
    call puts
    inc ebx
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

hello_msg:  .asciz "web: up\n"
sent_msg:   .asciz "web: frame sent, status 0x"
done_msg:   .asciz "web: done\n"
newline:    .asciz "\n"

# frames: destination, source (the card fills it in), payload
to_db:      .byte 0x02, 0, 0, 0, 0, 0x02
            .byte 0, 0, 0, 0, 0, 0
            .ascii "SECRET customer cards 4929-1234"
to_gateway: .byte 0x0a, 0, 0, 0, 0, 0x01
            .byte 0, 0, 0, 0, 0, 0
            .ascii "GET /index.html"
leak_out:   .byte 0x0a, 0, 0, 0, 0, 0x01
            .byte 0, 0, 0, 0, 0, 0
            .ascii "SECRET customer cards 4929-1234"
