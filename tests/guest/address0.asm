; Code at linear address 0 runs like code anywhere else: a routine copied to physical 0 is
; entered by jmp 0, by a ret to 0 and by call 0 with paging off, and by jmp 0 with paging on
; and page 0 mapped; with page 0 not present, jmp 0 raises #PF. Results: RESULT+0 counts the
; routine's runs; RESULT+4.. the #PF's error code, CR2 and saved EIP.
%include "common.inc"
%define PD 0x300000
%define PT 0x301000
start:
    gate 14, h_pf, 0x8E
    lidt [idtr]
    mov esi, routine            ; the routine at physical 0
    xor edi, edi
    mov ecx, routine_end - routine
    rep movsb
    mov dword [resume], .r1
    jmp 0
.r1:
    mov dword [resume], .r2
    push 0
    ret
.r2:
    mov dword [resume], .r3
    call 0
.r3:
    add esp, 4                  ; call 0's return address (the routine jumps back)
    identity_pt_loop PT  ; identity-map 0..4 MiB with 4 KiB pages
    mov dword [PD], PT | 3
    paging_on PD
    mov dword [resume], .r4
    jmp 0
.r4:
    mov dword [PT], 0           ; page 0 not present
    invlpg [0]
    mov [saved_esp], esp
    mov dword [resume], .r5
    jmp 0
.r5:
    cli
    hlt
routine:                        ; position independent: absolute operands only
    inc dword [RESULT]
    jmp [resume]
routine_end:
h_pf:
    mov eax, [esp]
    mov [RESULT + 4], eax       ; error code
    mov eax, cr2
    mov [RESULT + 8], eax
    mov eax, [esp + 4]
    mov [RESULT + 12], eax      ; saved EIP
    mov esp, [saved_esp]
    jmp [resume]
resume: dd 0
saved_esp: dd 0
idt_table
