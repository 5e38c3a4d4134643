# The benchmark kernels (bench/kernels/NAME.c -> $(OUT)/NAME.elf): freestanding Multiboot
# ELFs linked with the whole test-kernel library (testkernels/lib), compiled with the same gcc
# flags as testkernels/CMakeLists.txt (TK_CFLAGS / TK_LDFLAGS: keep the two in step).
# scripts/bench.sh runs it:  make -f bench/kernels.mk OUT=build/release/bench -j2
# Run from the repository root. Incremental: gcc's depfiles track the headers.

OUT ?= build/release/bench
CC := gcc
LIB := testkernels/lib
KERNELS := pteloop irqloop memstream mixed

CFLAGS := -m32 -march=i686 -std=c11 -ffreestanding -nostdlib -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fcf-protection=none \
	-mgeneral-regs-only -O2 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -I$(LIB)
LDFLAGS := -m32 -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=0x1000 \
	-Wl,-z,noexecstack -Wl,-T,$(LIB)/linker.ld

LIB_SRCS := $(sort $(wildcard $(LIB)/*.c $(LIB)/*.S))
LIB_OBJS := $(patsubst $(LIB)/%,$(OUT)/obj/lib/%.o,$(LIB_SRCS))
ELFS := $(KERNELS:%=$(OUT)/%.elf)

all: $(ELFS)

$(OUT)/%.elf: $(OUT)/obj/kernels/%.c.o $(LIB_OBJS) $(LIB)/linker.ld bench/kernels.mk
	$(CC) $(LDFLAGS) -o $@ $< $(LIB_OBJS)

$(OUT)/obj/lib/%.o: $(LIB)/% bench/kernels.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MD -MP -MF $@.d -c $< -o $@

$(OUT)/obj/kernels/%.c.o: bench/kernels/%.c bench/kernels.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MD -MP -MF $@.d -c $< -o $@

.PHONY: all
.DELETE_ON_ERROR:
.SECONDARY:

-include $(wildcard $(OUT)/obj/*/*.d)
