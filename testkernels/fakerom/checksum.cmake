# Second pass of the fake ROM build: sum the bytes of the first pass (checksum byte 0) and
# reassemble with the byte that makes the ROM sum to 0 mod 256.
# Inputs: NASM, SRC (the .asm), FIRST (first-pass image), OUT (final image).
file(READ ${FIRST} hex HEX)
string(LENGTH "${hex}" len)
set(sum 0)
set(i 0)
while(i LESS len)
  string(SUBSTRING "${hex}" ${i} 2 byte)
  math(EXPR sum "(${sum} + 0x${byte}) % 256")
  math(EXPR i "${i} + 2")
endwhile()
math(EXPR fix "(256 - ${sum}) % 256")
execute_process(COMMAND ${NASM} -f bin -DCHECKSUM=${fix} ${SRC} -o ${OUT} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fakevmi: nasm failed (${rc})")
endif()
