# Standalone C build of chipemu's core: build/libchipemu.so + csrc/include/chipemu*.h for C/C++ hosts
# (gem5, SST, ...; DESIGN §1) and the C test driver, plain and under ASan/UBSan (DESIGN §9).
# The cffi extension is built from the same csrc/**/*.c by csrc/build_ffi.py, not by this file.
#
#   make                      build/libchipemu.so
#   make driver | test        build/test_driver, and run it (every group; GROUPS="null runtime": those)
#   make sanitize             lib + driver with ASan/UBSan into build/asan/, and run it
#   make install PREFIX=/opt  $(PREFIX)/lib/libchipemu.so, $(PREFIX)/include/chipemu*.h (DESTDIR honoured)
#   make clean
# BUILD=<dir> puts every output elsewhere (tests build into a temp dir this way).

BUILD ?= build
PREFIX ?= /usr/local
DESTDIR ?=

# Flags that change numerical results. Must equal CFLAGS_RESULT in csrc/build_ffi.py
# (tests/test_build.py parses this line), so both builds give bit-identical results.
CFLAGS_RESULT := -O3 -fwrapv -ffp-contract=off -fno-fast-math
CFLAGS_OTHER := -fPIC -fvisibility=hidden -std=c11 -Wall -Wextra -Werror
# Extra flags (e.g. SAN below, or -g) go first so they can never override the result flags.
ALL_CFLAGS = $(CFLAGS) $(SAN) $(CFLAGS_RESULT) $(CFLAGS_OTHER) -Icsrc/include -Icsrc -MMD -MP
LDLIBS := -lm
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# Runtime options for `sanitize`: fail on any report; leak checks on (override if ptrace is denied).
SAN_ENV ?= ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# Same source set as build_ffi.c_sources(): every .c under csrc/, so new files are picked up.
SRCS := $(sort $(shell find csrc -name '*.c'))
OBJS := $(patsubst csrc/%.c,$(BUILD)/obj/%.o,$(SRCS))
LIB := $(BUILD)/libchipemu.so
DRIVER := $(BUILD)/test_driver

.PHONY: all driver test sanitize install clean print-sources
.DELETE_ON_ERROR:

all: $(LIB)

$(BUILD)/obj/%.o: csrc/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(OBJS)
	$(CC) $(SAN) -shared -Wl,-soname,libchipemu.so $(LDFLAGS) $^ $(LDLIBS) -o $@

# rpath $ORIGIN: the driver finds the lib beside it without LD_LIBRARY_PATH. The test tile
# kernels (tests/testkernels/, not part of the library) are compiled into the driver.
# test_driver.c #includes the other tests/csrc/*.c (runtime, engine, null-argument groups); with
# two sources in one command the .d file only records the last, so they are listed here.
TEST_KERNELS := tests/testkernels/tile.c
$(DRIVER): tests/csrc/test_driver.c $(wildcard tests/csrc/*.c) $(TEST_KERNELS) $(LIB) $(wildcard csrc/include/*.h)
	$(CC) $(ALL_CFLAGS) -Itests/testkernels -MF $(BUILD)/test_driver.d $< $(TEST_KERNELS) \
	    -L$(BUILD) -lchipemu -Wl,-rpath,'$$ORIGIN' $(LDFLAGS) $(LDLIBS) -o $@

driver: $(DRIVER)

test: $(DRIVER)
	$(RUN_ENV) $(DRIVER) $(GROUPS)

# A separate tree so sanitized objects never mix with the plain ones.
sanitize:
	$(MAKE) --no-print-directory BUILD=$(BUILD)/asan SAN="$(SAN_FLAGS)" RUN_ENV="$(SAN_ENV)" GROUPS="$(GROUPS)" test

install: $(LIB)
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include
	install -m 755 $(LIB) $(DESTDIR)$(PREFIX)/lib/libchipemu.so
	install -m 644 csrc/include/chipemu*.h $(DESTDIR)$(PREFIX)/include/

clean:
	rm -rf $(BUILD)

print-sources:
	@echo $(SRCS)

-include $(OBJS:.o=.d) $(BUILD)/test_driver.d
