; No usable IDT: #UD -> #GP -> #DF -> triple fault.
%include "common.inc"
start:
    lidt [idtr]
    ud2
    hlt
align 8
idtr: dw 0
      dd 0
