# hello.asm: the smallest guest. Prints a line on COM1 and powers off with 0.

.equ COM1, 0x3f8
.equ DEBUG_EXIT, 0xf4

    lea esi, [message]
    mov dx, COM1
next:
    lodsb
    test al, al
    jz done
    out dx, al
    jmp next
done:
    mov al, 0
    out DEBUG_EXIT, al
    hlt

message: .asciz "hello from the guest\n"
