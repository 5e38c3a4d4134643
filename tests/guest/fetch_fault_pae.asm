; fetch_fault.asm with PAE tables and EFER.NXE: the #PF error code carries the fetch bit.
%define FETCH_PAE
%include "fetch_fault.inc"
