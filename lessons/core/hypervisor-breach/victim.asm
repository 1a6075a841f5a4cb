# victim.asm: a VM that guards a secret with a password check.
#
# Every ROUND_DELAY loop iterations, someone tries the wrong password; the VM
# prints whether access was granted. The attempts: the lesson's parameter at
# 0x500 (4 when none is given). Its check routine sits at a fixed
# place, guest-physical 0x00100010, and its secret at 0x00100040, as a
# kernel's code and data sit at places anyone with the same image knows.
# The exit code is the number of attempts that were granted: 0 for an
# intact VM.

.equ COM1, 0x3f8
.equ DEBUG_EXIT, 0xf4
.equ DEFAULT_ROUNDS, 4
.equ ROUND_DELAY, 2000              # loop iterations between attempts (2 instructions each)

start:
    jmp main                        # 5 bytes; the check routine follows at 0x00100010
.align 16

# esi = the password tried; eax = 1 if it equals the secret, else 0
check_password:                     # guest-physical 0x00100010
    lea edi, [secret]
check_next:
    mov al, [esi]
    cmp al, [edi]
    jne check_denied
    test al, al
    jz check_granted
    inc esi
    inc edi
    jmp check_next
check_granted:
    mov eax, 1
    ret
check_denied:
    xor eax, eax
    ret

.align 64
secret:     .asciz "PIN 4711 vault"   # guest-physical 0x00100040
.align 16

main:
    lea esi, [hello_msg]
    call puts
    xor ebx, ebx                    # attempts granted
    mov ebp, [0x500]                # attempts to make
    test ebp, ebp
    jnz round
    mov ebp, DEFAULT_ROUNDS
round:
    mov ecx, ROUND_DELAY
delay:
    dec ecx
    jnz delay
    lea esi, [guess]
    call check_password
    lea esi, [denied_msg]
    test eax, eax
    jz report
    inc ebx
    lea esi, [granted_msg]
report:
    call puts
    dec ebp
    jnz round
    mov eax, ebx
    out DEBUG_EXIT, al
    hlt

# esi = zero-terminated string
puts:
    mov dx, COM1
puts_next:
    lodsb
    test al, al
    jz puts_done
    out dx, al
    jmp puts_next
puts_done:
    ret

hello_msg:   .asciz "victim: up, guarding its secret\n"
guess:       .asciz "PIN 0000 guess"
denied_msg:  .asciz "victim: wrong password, access denied\n"
granted_msg: .asciz "victim: access granted\n"
