; Legacy SSE instructions whose 128-bit memory operand must be 16-byte aligned raise #GP(0) on
; a misaligned one, before any of it is read or written; the unaligned forms and scalar
; operands do not (cpu/disasm.c's list, checked by cpu/model.c).
; Slots (#GPs so far): 1 movaps load +8, 2 movaps load aligned, 3 movups load +8, 4 movdqa
; store +4, 5 paddd +8, 6 addss +4, 7 movaps through a SIB operand +8, 8 movapd store aligned,
; 9 movntps store +8, 10 pshufd +8, 11 movaps store +8. RESULT+0x40: the dword at buf+8 after the
; refused store (unchanged: 0x11111111); 0x44: done.
%include "common.inc"
%include "model_try.inc"
start:
    gate 13, h_gp, 0x8E
    lidt [idtr]
    mov eax, cr4
    or eax, 0x600                       ; OSFXSR, OSXMMEXCPT
    mov cr4, eax
    mov eax, cr0
    and eax, ~0xC                       ; EM, TS clear
    mov cr0, eax
    pcmpeqd xmm0, xmm0                  ; all ones
    try 1, {movaps xmm1, [buf + 8]}
    try 2, {movaps xmm1, [buf]}
    try 3, {movups xmm1, [buf + 8]}
    try 4, {movdqa [buf + 4], xmm0}
    try 5, {paddd xmm1, [buf + 8]}
    try 6, {addss xmm1, [buf + 4]}
    mov esi, buf
    mov ecx, 1
    try 7, {movaps xmm1, [esi + ecx*8]}
    try 8, {movapd [buf + 16], xmm0}
    try 9, {movntps [buf + 8], xmm0}
    try 10, {pshufd xmm1, [buf + 8], 0}
    try 11, {movaps [buf + 8], xmm0}
    mov eax, [buf + 8]
    mov [RESULT + 0x40], eax
    mov dword [RESULT + 0x44], 1
    cli
    hlt
    model_gp_code
align 16
buf: times 12 dd 0x11111111
    idt_table
