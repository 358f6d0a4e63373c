# SPDX-License-Identifier: GPL-2.0-only
#
# xlb top-level build. Sources are found by folder, so adding a file needs no
# edit here:
#   bpf/*.bpf.c          -> $(OUTPUT)/*.bpf.o and $(OUTPUT)/*.skel.h
#   user/lib/*.c         -> $(OUTPUT)/libxlb.a (shared by every tool)
#   user/<tool>/*.c      -> build/bin/<tool>
#   tests/lib/*.c        -> linked into every test
#   tests/{unit,bpf}/test_*.c -> $(OUTPUT)/tests/<dir>/test_* (one binary each)
#   tests/bench/bench_*.c -> $(OUTPUT)/tests/bench/bench_*
# Quiet by default; V=1 shows the commands.

OUTPUT   ?= .output
BIN      ?= build/bin
CLANG    ?= clang
CC       ?= gcc
BPFTOOL  ?= bpftool
PREFIX   ?= /usr/local

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -dumpmachine)

BPF_CFLAGS := -O2 -g -Wall -target bpf -D__TARGET_ARCH_$(ARCH) \
	      -Iinclude -Ibpf -I/usr/include/$(MULTIARCH) $(EXTRA_BPF_CFLAGS)
CFLAGS     ?= -O2 -g
CFLAGS     += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	      -std=gnu11 -D_GNU_SOURCE -Iinclude -Iuser/lib -I$(OUTPUT)
DEPFLAGS   := -MMD -MP
LDLIBS     := -lxdp -lbpf -lelf -lz -ljansson -lxxhash -lcurl -lmicrohttpd -lm

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

LIB_SRCS  := $(wildcard user/lib/*.c)
LIB_OBJS  := $(patsubst %.c,$(OUTPUT)/%.o,$(LIB_SRCS))
LIB       := $(OUTPUT)/libxlb.a

TOOL_DIRS := $(filter-out user/lib,$(patsubst %/,%,$(dir $(wildcard user/*/*.c))))
TOOLS     := $(sort $(notdir $(TOOL_DIRS)))
TOOL_BINS := $(addprefix $(BIN)/,$(TOOLS))

TLIB_SRCS := $(wildcard tests/lib/*.c)
TLIB_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(TLIB_SRCS))
TEST_SRCS := $(wildcard tests/unit/test_*.c tests/bpf/test_*.c)
TEST_BINS := $(patsubst %.c,$(OUTPUT)/%,$(TEST_SRCS))
BENCH_SRCS := $(wildcard tests/bench/bench_*.c)
BENCH_BINS := $(patsubst %.c,$(OUTPUT)/%,$(BENCH_SRCS))

DEPS_STAMP := $(OUTPUT)/.deps-ok

# Build version (xlb_build_info): a VERSION file when there is one, else git.
# The stamp changes only with the version, so only what prints it rebuilds.
XLB_VERSION   := $(shell cat VERSION 2>/dev/null || git describe --always --dirty 2>/dev/null || echo unknown)
VERSION_STAMP := $(OUTPUT)/.version

.PHONY: all deps check test-bins bench demo install clean lab-up lab-down FORCE
.DEFAULT_GOAL := all

all: $(DEPS_STAMP) $(TOOL_BINS)

# Installs what is missing (see scripts/deps.sh); the stamp keeps later runs fast.
deps:
	$(Q)scripts/deps.sh
	$(Q)mkdir -p $(OUTPUT) && touch $(DEPS_STAMP)

$(DEPS_STAMP):
	$(Q)scripts/deps.sh
	$(Q)mkdir -p $(OUTPUT) && touch $@

# ---- BPF ----
$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h include/xlb/*.h) | $(DEPS_STAMP)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp && mv $@.tmp $@

# ---- userspace ----
$(OUTPUT)/%.o: %.c $(SKELS) | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(VERSION_STAMP): FORCE
	$(Q)mkdir -p $(@D) && (echo '$(XLB_VERSION)' | cmp -s - $@ || echo '$(XLB_VERSION)' > $@)

$(OUTPUT)/user/xlbd/metrics.o: CFLAGS += -DXLB_VERSION='"$(XLB_VERSION)"'
$(OUTPUT)/user/xlbd/metrics.o: $(VERSION_STAMP)

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

.SECONDEXPANSION:
# (subst, not patsubst: make replaces a pattern rule's % by the stem before
# the second expansion, which left the .c files as prerequisites.)
$(BIN)/%: $$(addprefix $(OUTPUT)/,$$(subst .c,.o,$$(wildcard user/$$*/*.c))) $(LIB)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/%: $(OUTPUT)/tests/%.o $(TLIB_OBJS) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

test-bins: $(TEST_BINS) $(BENCH_BINS)

# ---- tests, benchmarks, demo ----
check: all test-bins
	$(Q)OUTPUT=$(OUTPUT) BIN=$(BIN) tests/run.sh

bench: all test-bins
	$(Q)OUTPUT=$(OUTPUT) BIN=$(BIN) tests/bench/run.sh

demo: all
	$(Q)scripts/demo.sh

# The netns lab on its own (scripts/lab.sh up|down|status), for poking at it by hand.
lab-up: all
	$(Q)scripts/lab.sh up

lab-down:
	$(Q)scripts/lab.sh down

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin
	install -m 0755 $(TOOL_BINS) $(DESTDIR)$(PREFIX)/sbin/

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUTPUT) build

.PRECIOUS: $(OUTPUT)/%.o $(OUTPUT)/tests/%.o $(OUTPUT)/%.bpf.o $(OUTPUT)/%.skel.h
.SECONDARY:

-include $(wildcard $(OUTPUT)/user/*/*.d $(OUTPUT)/tests/*/*.d)
