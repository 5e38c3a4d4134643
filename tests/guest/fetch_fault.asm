; fetch_fault.inc with 32-bit page tables: the #PF error code has no fetch bit.
%include "fetch_fault.inc"
