@ __aeabi_uldivmod / __aeabi_ldivmod (ARM run-time ABI): r0:r1 / r2:r3 -> quotient r0:r1, remainder r2:r3.
@ Both operands go to an 8-byte aligned stack buffer that the C helpers update in place.
    .syntax unified
    .arm
    .text

    .global __aeabi_uldivmod
    .type __aeabi_uldivmod, %function
__aeabi_uldivmod:
    push {r4, lr}
    sub sp, sp, #16
    stm sp, {r0-r3}
    mov r0, sp
    add r1, sp, #8
    bl libgcc_s_udivmod
    ldm sp, {r0-r3}
    add sp, sp, #16
    pop {r4, pc}
    .size __aeabi_uldivmod, . - __aeabi_uldivmod

    .global __aeabi_ldivmod
    .type __aeabi_ldivmod, %function
__aeabi_ldivmod:
    push {r4, lr}
    sub sp, sp, #16
    stm sp, {r0-r3}
    mov r0, sp
    add r1, sp, #8
    bl libgcc_s_divmod
    ldm sp, {r0-r3}
    add sp, sp, #16
    pop {r4, pc}
    .size __aeabi_ldivmod, . - __aeabi_ldivmod

    .section .note.GNU-stack, "", %progbits
