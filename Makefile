# hearback: plain Makefile in the Redis/hiredis mould.
#
#   make              build bin/hearbackd and bin/hearback
#   make test         unit tests, integration tests and fault tests
#   make run          the demo: local redis + SMTP sink + daemon + examples
#   make bench        benchmarks, printing figures
#   make fuzz         libFuzzer targets, FUZZ_SECONDS (60) each
#   make SAN=asan     build (and test) under ASan+UBSan into build-asan/
#   make SAN=tsan     build (and test) under TSan into build-tsan/
#   make install PREFIX=/usr/local DESTDIR=...

PREFIX	?= /usr/local
SYSCONFDIR ?= /etc
OPTIMIZATION ?= -O2
PKGS	= libevent libevent_pthreads hiredis jansson gmime-3.0 libical inih libsystemd libesmtp-1.0 openssl
CC	?= cc
WARN	= -Wall -Wextra -Werror -Wno-unused-parameter
CFLAGS	?= $(OPTIMIZATION) -g
CFLAGS	+= -std=c11 $(WARN) -D_GNU_SOURCE -iquote include $(shell pkg-config --cflags $(PKGS))
LDLIBS	+= $(shell pkg-config --libs $(PKGS)) -lpthread -lm

SAN	?=
ifeq ($(SAN),asan)
B	= build-asan
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
else ifeq ($(SAN),tsan)
B	= build-tsan
CFLAGS	+= -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS	+= -fsanitize=thread
else
B	= build
endif

LIB_SRC	= $(filter-out daemon/hearbackd.c,$(wildcard daemon/*.c)) \
	    $(wildcard daemon/store/*.c) $(wildcard workers/*.c)
# The data model's Lua scripts, embedded by scripts.S (.incbin).
STORE_LUA = $(wildcard daemon/store/*.lua)
CLI_SRC	= $(wildcard cli/*.c)
LIB_OBJ	= $(LIB_SRC:%.c=$(B)/%.o) $(B)/daemon/store/scripts.o
CLI_OBJ	= $(CLI_SRC:%.c=$(B)/%.o)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
BENCH_SRC = $(wildcard tests/bench/bench_*.c)
BENCH_BIN = $(BENCH_SRC:tests/bench/%.c=$(B)/tests/%)

all: $(B)/hearbackd $(B)/hearback
ifeq ($(B),build)
	@mkdir -p bin && ln -sf ../build/hearbackd bin/hearbackd && ln -sf ../build/hearback bin/hearback
endif

$(B)/%.o: %.c $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/daemon/store/scripts.o: daemon/store/scripts.S $(STORE_LUA)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/libhb.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(B)/hearbackd: $(B)/daemon/hearbackd.o $(B)/libhb.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/hearback: $(CLI_OBJ) $(B)/libhb.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libhb.a $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libhb.a $(LDLIBS) -lcmocka

$(B)/tests/bench_%: tests/bench/bench_%.c $(B)/libhb.a $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libhb.a $(LDLIBS)

unit: $(UNIT_BIN)
	@tests/run-unit $(UNIT_BIN)

integration: all
	@HB_BUILD=$(B) /usr/bin/python3 tests/integration/run.py $(T)

test-faults: all
	@HB_BUILD=$(B) /usr/bin/python3 tests/integration/run.py faults

test: all $(UNIT_BIN)
	@HB_BUILD=$(B) tests/run-all $(UNIT_BIN)

run: all
	@tests/demo

bench: all $(BENCH_BIN)
	@for b in $(BENCH_BIN); do $$b || exit 1; done
	@HB_BUILD=$(B) /usr/bin/python3 tests/integration/bench.py

FUZZ_SECONDS ?= 60

fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run

fuzz-ci:
	@FUZZ_SECONDS=10 tests/fuzz/run

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(B)/hearbackd $(DESTDIR)$(PREFIX)/sbin/hearbackd
	install -m 0755 $(B)/hearback $(DESTDIR)$(PREFIX)/bin/hearback
	install -d $(DESTDIR)$(SYSCONFDIR)/hearback/templates
	install -m 0644 config/templates/* $(DESTDIR)$(SYSCONFDIR)/hearback/templates/
	test -e $(DESTDIR)$(SYSCONFDIR)/hearback/hearback.conf || \
	    install -m 0640 config/hearback.conf $(DESTDIR)$(SYSCONFDIR)/hearback/hearback.conf
	install -d $(DESTDIR)/lib/systemd/system
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' systemd/hearback.service > $(DESTDIR)/lib/systemd/system/hearback.service
	chmod 0644 $(DESTDIR)/lib/systemd/system/hearback.service

clean:
	rm -rf build build-asan build-tsan build-fuzz bin

dep:
	$(CC) -MM -iquote include daemon/*.c daemon/store/*.c workers/*.c cli/*.c

.PHONY: all unit integration test-faults test run bench fuzz fuzz-ci install clean dep
.SECONDARY:
