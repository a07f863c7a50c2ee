# nettally - GNU Makefile.  pkg-config for every library.
#   make            build nettally-agent, nettally-stored, nettally into $(O)
#   make check      install missing packages, build with ASan+UBSan, run every test
#   make run        install missing packages, build, run store + agent live
#   make deps       install the Debian packages needed to build and test
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS (default 600)
#   V=1 shows commands; SANITIZE=1 builds with -fsanitize=address,undefined.

CC	?= cc
PKG_CONFIG ?= pkg-config
SANITIZE ?= 0
ifeq ($(SANITIZE),1)
O	?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT	?= -O1 -g
else
O	?= build
SANFLAGS :=
OPT	?= -O2 -g
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN	:= -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Werror
CFLAGS	?= $(OPT)
# Where the programs look for nettally/agent.conf and stored.conf (and
# where make install puts the examples); compiled in, so rebuild (make
# clean) after changing it.
SYSCONFDIR ?= /etc
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) -Iinclude -MMD -MP \
	-DNETTALLY_SYSCONFDIR='"$(SYSCONFDIR)"'
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS)

# msgpack-c's pkg-config module is "msgpack" up to 5.x, "msgpack-c" from 6.0.
MSGPACK_PC := $(shell $(PKG_CONFIG) --exists msgpack-c 2>/dev/null && echo msgpack-c || echo msgpack)
pc_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null)
pc_libs = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null)

PROTO_SRCS  := $(wildcard proto/*.c)
AGENT_SRCS  := $(wildcard agent/*.c)
REPORT_SRCS := $(wildcard stored/report*.c) stored/schema.c stored/addrtext.c \
	       stored/satsum.c
STORED_SRCS := $(filter-out $(wildcard stored/report*.c),$(wildcard stored/*.c))
GEN_SRCS    := $(wildcard tests/gen/*.c)

obj = $(patsubst %.c,$(O)/obj/%.o,$(1))

AGENT_LIBS  := libpcap $(MSGPACK_PC) libseccomp libcap-ng
STORED_LIBS := libuv sqlite3 $(MSGPACK_PC)
REPORT_LIBS := sqlite3 $(MSGPACK_PC)

BINS := $(O)/nettally-agent $(O)/nettally-stored $(O)/nettally $(O)/nettally-gen

all: $(BINS)

$(O)/libproto.a: $(call obj,$(PROTO_SRCS))
	$(Q)ar rcs $@ $^

$(O)/nettally-agent: $(call obj,$(AGENT_SRCS)) $(O)/libproto.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(call pc_libs,$(AGENT_LIBS)) -lpthread

$(O)/nettally-stored: $(call obj,$(STORED_SRCS)) $(O)/libproto.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(call pc_libs,$(STORED_LIBS)) -lpthread

$(O)/nettally: $(call obj,$(REPORT_SRCS)) $(O)/libproto.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(call pc_libs,$(REPORT_LIBS))

$(O)/nettally-gen: $(call obj,$(GEN_SRCS))
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^

$(O)/obj/agent/%.o: CPPFLAGS_EXTRA = $(call pc_cflags,$(AGENT_LIBS))
$(O)/obj/stored/%.o: CPPFLAGS_EXTRA = $(call pc_cflags,$(STORED_LIBS))
$(O)/obj/proto/%.o: CPPFLAGS_EXTRA = $(call pc_cflags,$(MSGPACK_PC))
$(O)/obj/tests/%.o: CPPFLAGS_EXTRA = $(call pc_cflags,$(AGENT_LIBS) $(STORED_LIBS) cmocka) -Iagent -Istored

$(O)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(CPPFLAGS_EXTRA) -c -o $@ $<

# Unit tests: tests/DIR/test_NAME.c links every object of DIR but its main.
AGENT_LIB_OBJS  := $(call obj,$(filter-out agent/agent.c,$(AGENT_SRCS)))
STORED_LIB_OBJS := $(call obj,$(filter-out stored/stored.c,$(STORED_SRCS)))
REPORT_LIB_OBJS := $(call obj,$(filter-out stored/report.c stored/schema.c \
		   stored/addrtext.c stored/satsum.c,$(REPORT_SRCS)))
UNIT_AGENT  := $(patsubst tests/agent/%.c,$(O)/tests/agent/%,$(wildcard tests/agent/test_*.c))
UNIT_PROTO  := $(patsubst tests/proto/%.c,$(O)/tests/proto/%,$(wildcard tests/proto/test_*.c))
UNIT_STORED := $(patsubst tests/stored/%.c,$(O)/tests/stored/%,$(wildcard tests/stored/test_*.c))
UNITS := $(UNIT_AGENT) $(UNIT_PROTO) $(UNIT_STORED)

$(O)/tests/agent/%: $(O)/obj/tests/agent/%.o $(AGENT_LIB_OBJS) $(O)/libproto.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(call pc_libs,$(AGENT_LIBS) cmocka) -lpthread
$(O)/tests/proto/%: $(O)/obj/tests/proto/%.o $(O)/libproto.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(call pc_libs,$(MSGPACK_PC) cmocka)
$(O)/tests/stored/%: $(O)/obj/tests/stored/%.o $(O)/obj/tests/stored/scratch.o \
	$(STORED_LIB_OBJS) $(REPORT_LIB_OBJS) $(O)/libproto.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) $(TEST_LDFLAGS) -o $@ $^ $(call pc_libs,$(STORED_LIBS) cmocka) -lpthread
# test_conn makes conn.c's calloc fail on demand: every calloc of the
# objects it links goes to the test's __wrap_calloc, so that the daemon
# itself carries no test hook.
$(O)/tests/stored/test_conn: TEST_LDFLAGS = -Wl,--wrap=calloc

units: $(UNITS)

# libFuzzer targets, always built with clang, ASan and UBSan.
FUZZ_CC := clang
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -Iagent -Istored \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZDIR ?= build/fuzz
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(FUZZDIR)/%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_DEPS_fuzz_decode := agent/decode.c agent/ip4opt.c
FUZZ_DEPS_fuzz_proto  := $(PROTO_SRCS)
FUZZ_DEPS_fuzz_flowtab := agent/decode.c agent/ip4opt.c agent/flowtab.c agent/localnet.c $(PROTO_SRCS)
FUZZ_DEPS_fuzz_batch  := stored/validate.c stored/recspare.c $(PROTO_SRCS)
FUZZ_DEPS_fuzz_spool  := agent/spool.c $(PROTO_SRCS)

.SECONDEXPANSION:
$(FUZZDIR)/%: tests/fuzz/%.c $$(FUZZ_DEPS_%) $(wildcard include/*.h agent/*.h)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) $(call pc_cflags,$(MSGPACK_PC)) -o $@ $< $(FUZZ_DEPS_$*) $(call pc_libs,$(MSGPACK_PC))

fuzz-build: $(FUZZ_TARGETS)

FUZZ_SECONDS ?= 600
fuzz: deps fuzz-build
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
		mkdir -p $(FUZZDIR)/corpus/$$(basename $$t); \
		extra=; if [ $$(basename $$t) = fuzz_flowtab ] && tests/fuzz/pcap-seeds.sh $(FUZZDIR)/pcap-seeds $(O)/nettally-gen; then extra=$(FUZZDIR)/pcap-seeds; fi; \
		$$t -max_total_time=$(FUZZ_SECONDS) $(FUZZDIR)/corpus/$$(basename $$t) tests/fuzz/seeds/$$(basename $$t) $$extra || exit 1; \
	done

# Install: programs, man pages (those present), systemd units with the
# sbin path filled in, sysusers.d and tmpfiles.d files, and commented
# example configurations beside where the programs look for theirs
# ($(SYSCONFDIR)/nettally/*.conf, never overwritten).  uninstall removes
# exactly these files.  DESTDIR stages into another root.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
MANPAGES    := $(wildcard agent/*.[18] stored/*.[18])
UNITS_IN    := $(wildcard systemd/*.service.in)
UNITS_PLAIN := $(wildcard systemd/*.socket)
CONF_EXAMPLES := $(wildcard agent/*.conf.example stored/*.conf.example)

install: $(O)/nettally-agent $(O)/nettally-stored $(O)/nettally
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(SYSCONFDIR)/nettally
	install -m 0755 $(O)/nettally-agent $(O)/nettally-stored \
	    $(DESTDIR)$(SBINDIR)
	install -m 0755 $(O)/nettally $(DESTDIR)$(BINDIR)
	for m in $(MANPAGES); do \
		install -D -m 0644 $$m \
		    $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/} || exit 1; \
	done
	for u in $(UNITS_IN); do \
		n=$${u##*/}; \
		sed 's|@sbindir@|$(SBINDIR)|g' $$u >$(DESTDIR)$(UNITDIR)/$${n%.in} && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$${n%.in} || exit 1; \
	done
	install -m 0644 $(UNITS_PLAIN) $(DESTDIR)$(UNITDIR)
	install -m 0644 systemd/nettally.sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/nettally.conf
	install -m 0644 systemd/nettally.tmpfiles \
	    $(DESTDIR)$(TMPFILESDIR)/nettally.conf
	for c in $(CONF_EXAMPLES); do \
		install -m 0644 $$c $(DESTDIR)$(SYSCONFDIR)/nettally || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/nettally-agent \
	    $(DESTDIR)$(SBINDIR)/nettally-stored $(DESTDIR)$(BINDIR)/nettally \
	    $(DESTDIR)$(SYSUSERSDIR)/nettally.conf \
	    $(DESTDIR)$(TMPFILESDIR)/nettally.conf
	for m in $(MANPAGES); do \
		rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; \
	done
	for u in $(UNITS_IN) $(UNITS_PLAIN); do \
		n=$${u##*/}; rm -f $(DESTDIR)$(UNITDIR)/$${n%.in}; \
	done
	for c in $(CONF_EXAMPLES); do \
		rm -f $(DESTDIR)$(SYSCONFDIR)/nettally/$${c##*/}; \
	done
	-rmdir $(DESTDIR)$(SYSCONFDIR)/nettally 2>/dev/null

deps:
	@tests/deps.sh

# make check builds on every core unless the caller chose its own -j
# (recursive: MAKEFLAGS holds -j only once recipes run).
CHECK_JOBS = $(if $(findstring -j,$(MAKEFLAGS)),,-j$(shell nproc 2>/dev/null || echo 1))

check: deps
	$(Q)$(MAKE) --no-print-directory $(CHECK_JOBS) SANITIZE=1 all units
	$(Q)$(MAKE) --no-print-directory $(CHECK_JOBS) all fuzz-build
	$(Q)tests/run-tests.sh

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/run-live.sh

# make bench: optimised build, then tests/bench/bench.sh (figures in
# build/bench/results.txt).  Its peers (tcpdump, pmacct, netsniff-ng) come
# from tests/bench/deps.sh, not from `make deps`; the compiler and the
# libraries the build needs do come from `make deps`.
BENCH_HELPERS := $(O)/bench/pcapread $(O)/bench/sqlfloor $(O)/bench/latency \
	$(O)/bench/ackwait
$(O)/bench/pcapread: $(O)/obj/tests/bench/pcapread.o
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(call pc_libs,libpcap)
$(O)/bench/sqlfloor: $(O)/obj/tests/bench/sqlfloor.o $(O)/obj/stored/schema.o
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(call pc_libs,sqlite3)
$(O)/bench/latency: $(O)/obj/tests/bench/latency.o
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(call pc_libs,sqlite3)
$(O)/bench/ackwait: $(O)/obj/tests/bench/ackwait.o $(O)/libproto.a
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(call pc_libs,$(MSGPACK_PC))

bench-build: all $(BENCH_HELPERS)

bench: deps
	$(Q)tests/bench/deps.sh
	$(Q)$(MAKE) --no-print-directory SANITIZE=0 bench-build
	$(Q)tests/bench/bench.sh $(O)

clean:
	rm -rf build

.PHONY: all units fuzz-build fuzz deps check run clean bench bench-build install uninstall

# Header dependencies of this output directory's objects (-MMD), wherever O= puts it.
-include $(wildcard $(O)/obj/*/*.d $(O)/obj/tests/*/*.d)
