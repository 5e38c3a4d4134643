; Self-modifying code: a routine patched in place after it ran, and code stored into a data page
; (stores before any fetch there) that is run, patched and run again. Results: what each call
; returned. Checks that stores to a page code was fetched from drop its stale translations.
%include "common.inc"
%define FRESH 0x300000
start:
    call patch_me
    mov [RESULT + 0], eax       ; 1
    mov byte [patch_me + 1], 2  ; mov eax, imm32: patch the immediate's low byte
    call patch_me
    mov [RESULT + 4], eax       ; 2
    mov esi, template           ; copy the template into a page never executed before
    mov edi, FRESH
    mov ecx, template_end - template
    rep movsb
    call FRESH
    mov [RESULT + 8], eax       ; 3
    mov byte [FRESH + 1], 4
    call FRESH
    mov [RESULT + 12], eax      ; 4
    cli
    hlt

patch_me:
    mov eax, 1
    ret
template:
    mov eax, 3
    ret
template_end:
