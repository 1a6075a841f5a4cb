# db.asm: the database VM, on the same host as the web server.
#
# It polls its card (docs/hosts.md: ports 0xC100-0xC11F) for frames, prints
# the payload of each one it receives, and stops once it has received
# `copies` frames (the lesson's parameter at 0x500; 3 when none is given) or
# after POLLS polls without a frame. Exit code: the frames it received.

.equ COM1, 0x3f8
.equ DEBUG_EXIT, 0xf4
.equ NIC_COMMAND, 0xc108            # write: the command; read: its status
.equ NIC_RX_ADDRESS, 0xc10c
.equ NIC_RX_LENGTH, 0xc110
.equ RECEIVE, 2
.equ DEFAULT_COPIES, 3
.equ POLLS, 200
.equ POLL_DELAY, 100                # loop iterations between polls
.equ ADDRESSES, 12                  # destination and source before the payload

start:
    lea esi, [hello_msg]
    call puts
    mov ebp, [0x500]                # frames to wait for
    test ebp, ebp
    jnz have_copies
    mov ebp, DEFAULT_COPIES
have_copies:
    xor ebx, ebx                    # frames received
    mov edi, POLLS
poll:
    lea eax, [buffer]
    mov dx, NIC_RX_ADDRESS
    out dx, eax
    mov eax, RECEIVE
    mov dx, NIC_COMMAND
    out dx, eax
    in eax, dx
    test eax, eax
    jnz nothing                     # 0xE4: no frame waiting
    call show_frame
    inc ebx
    cmp ebx, ebp
    je finished
    jmp poll
nothing:
    dec edi
    jz finished
    mov ecx, POLL_DELAY
wait_loop:
    dec ecx
    jnz wait_loop
    jmp poll

finished:
    lea esi, [done_msg]
    call puts
    mov eax, ebx
    out DEBUG_EXIT, al
    hlt

# prints the payload of the frame in buffer
show_frame:
    mov dx, NIC_RX_LENGTH
    in eax, dx
    lea esi, [buffer]
    lea ecx, [esi + eax]            # the end of the frame
    mov byte ptr [ecx], 0           # ends the payload as a string
    add esi, ADDRESSES
    push esi
    lea esi, [got_msg]
    call puts
    pop esi
    call puts
    lea esi, [newline]
    call puts
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

hello_msg:  .asciz "db: up, waiting for frames\n"
got_msg:    .asciz "db: received: "
done_msg:   .asciz "db: done\n"
newline:    .asciz "\n"
.align 4
buffer:     .space 1536
