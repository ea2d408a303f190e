# hearback: plain Makefile in the Redis/hiredis mould.
#
#   make              build bin/hearbackd and bin/hearback
#   make test         unit tests, integration tests and fault tests
#   make run          the demo: local redis + SMTP sink + daemon + examples
#   make bench        benchmarks, printing figures
#   make fuzz         libFuzzer targets, FUZZ_SECONDS (60) each
#   make fuzz-ci      the same, 10 s each (make fuzz-build only builds them)
#   make SAN=asan     build (and test) under ASan+UBSan into build-asan/
#   make SAN=tsan     build (and test) under TSan into build-tsan/
#   make install PREFIX=/usr/local SYSCONFDIR=/etc DESTDIR=...
#   make uninstall    the same variables; keeps $(SYSCONFDIR)/hearback
#   make man-lint     mandoc -T lint over man/*; fails on any warning

PREFIX	?= /usr/local
SYSCONFDIR ?= /etc
SBINDIR	?= $(PREFIX)/sbin
BINDIR	?= $(PREFIX)/bin
DATADIR	?= $(PREFIX)/share/hearback
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/hearback
UNITDIR	?= $(PREFIX)/lib/systemd/system
# man/NAME.SECTION, installed into $(MANDIR)/manSECTION
MAN_PAGES = $(wildcard man/*.[1-9])
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

# The command reads spreadsheets with Debian's libcsv (libcsv-dev).
$(B)/hearback: $(CLI_OBJ) $(B)/libhb.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcsv

$(B)/tests/%: tests/unit/%.c $(B)/libhb.a $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(filter %.o,$^) $(B)/libhb.a \
	    $(LDLIBS) -lcmocka

# The unit tests that run the Lua scripts share a real redis-server.
$(B)/tests/test_store $(B)/tests/test_mpage: \
    $(B)/tests/unit/redis_fixture.o tests/unit/redis_fixture.h

$(B)/tests/bench_%: tests/bench/bench_%.c $(B)/libhb.a $(wildcard include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)/libhb.a $(LDLIBS)

# The SMTP layer alone, beside the fan-out (tests/bench/fanout.py runs it).
$(B)/tests/smtp_alone: tests/bench/smtp_alone.c $(B)/libhb.a \
    $(wildcard include/*.h)
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

bench: all $(BENCH_BIN) $(B)/tests/smtp_alone
	@for b in $(BENCH_BIN); do $$b || exit 1; done
	@HB_BUILD=$(B) /usr/bin/python3 tests/integration/bench.py
	@HB_BUILD=$(B) /usr/bin/python3 tests/bench/fanout.py 1000 20000 100000
	@HB_BUILD=$(B) /usr/bin/python3 tests/bench/layout.py
	@HB_BUILD=$(B) /usr/bin/python3 tests/bench/meeting.py 1000 20000
	@HB_BUILD=$(B) /usr/bin/python3 tests/bench/latency.py 200
	@HB_BUILD=$(B) /usr/bin/python3 tests/bench/scheduled.py
	@HB_BUILD=$(B) /usr/bin/python3 tests/bench/emails.py

# libFuzzer targets (tests/fuzz/fuzz_*.c): clang, ASan + UBSan, into
# build-fuzz/. Each target links only the sources it needs, so that a
# half-written file elsewhere in the tree does not stop the fuzzing.
# tests/fuzz/run runs them (and asks this Makefile to bring each one up to
# date first, so that it also works on its own). FUZZ_CC and FUZZ_CFLAGS
# (e.g. -DFUZZ_ALLOW_C1) are recorded in build-fuzz/flags: changing them
# rebuilds everything.
FUZZ_SECONDS ?= 60
FUZZ_B	?= build-fuzz
FUZZ_CC	?= clang
FUZZ_CFLAGS ?=
FUZZ_TARGETS = record config render compose http smtp did token view scrub
FUZZ_BIN = $(FUZZ_TARGETS:%=$(FUZZ_B)/fuzz_%)
FUZZ_FLAGS = -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-std=c11 $(WARN) -D_GNU_SOURCE -iquote include -iquote tests/fuzz \
	$(FUZZ_CFLAGS)
# Compiled with the headers of every package any target needs; linked with
# its own packages only. Every target that links daemon/util.c links jansson
# (util_json_has).
FUZZ_PKGS = jansson gmime-3.0 libical inih glib-2.0 libevent hiredis openssl

FUZZ_SRC_record	= daemon/record.c daemon/record_field.c daemon/record_form.c \
	daemon/record_text.c daemon/record_value.c \
	daemon/address.c daemon/duration.c \
	daemon/util.c daemon/log.c
FUZZ_PKGS_record = jansson gmime-3.0 libical
FUZZ_SRC_config	= daemon/config.c daemon/config_key.c daemon/address.c \
	daemon/clock.c \
	daemon/duration.c daemon/util.c daemon/log.c
FUZZ_PKGS_config = jansson gmime-3.0 libical inih
FUZZ_SRC_render	= workers/render.c workers/tmpl.c workers/tmplset.c \
	daemon/util.c daemon/log.c
FUZZ_PKGS_render = jansson glib-2.0
FUZZ_SRC_compose = workers/compose.c daemon/util.c daemon/log.c
FUZZ_PKGS_compose = gmime-3.0 jansson
FUZZ_SRC_http	= daemon/http.c daemon/http_parse.c daemon/metrics.c \
	$(FUZZ_SRC_record)
FUZZ_PKGS_http	= libevent jansson gmime-3.0 libical
FUZZ_SRC_smtp	= workers/relay.c workers/tunnel.c daemon/util.c daemon/log.c
FUZZ_PKGS_smtp	= openssl jansson
FUZZ_SRC_did	= daemon/store/store.c daemon/store/scripts.S daemon/util.c \
	daemon/log.c
FUZZ_PKGS_did	= jansson hiredis openssl
FUZZ_SRC_token	= daemon/token.c daemon/util.c daemon/log.c
FUZZ_PKGS_token	= openssl jansson
FUZZ_SRC_view	= workers/view.c workers/view_meeting.c workers/view_said.c \
	workers/invite.c daemon/access.c \
	$(wildcard daemon/plan*.c daemon/meeting*.c) daemon/venue_page.c \
	daemon/clock.c daemon/config.c \
	daemon/config_key.c \
	daemon/store/store.c daemon/store/op.c daemon/store/scripts.S \
	workers/compose.c \
	$(FUZZ_SRC_record)
FUZZ_PKGS_view	= jansson gmime-3.0 libical inih hiredis openssl
# match.lua runs in Debian's Lua 5.1 (what Redis embeds): liblua5.1-0-dev,
# needed by this target only.
FUZZ_SRC_scrub	= daemon/store/scripts.S daemon/util.c daemon/log.c
FUZZ_PKGS_scrub	= lua5.1 jansson
$(FUZZ_B)/obj/tests/fuzz/fuzz_scrub.o: FUZZ_OBJ_CFLAGS = \
	$(shell pkg-config --cflags lua5.1)

$(FUZZ_B)/flags: FORCE
	@mkdir -p $(dir $@)
	@echo '$(FUZZ_CC) $(FUZZ_FLAGS)' | cmp -s - $@ || \
	    echo '$(FUZZ_CC) $(FUZZ_FLAGS)' > $@

$(FUZZ_B)/obj/%.o: %.c $(wildcard include/*.h) tests/fuzz/fuzz.h $(FUZZ_B)/flags
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_OBJ_CFLAGS) \
	    $(shell pkg-config --cflags $(FUZZ_PKGS)) -c -o $@ $<

# The store's Lua scripts, embedded (.incbin, paths from the top).
$(FUZZ_B)/obj/%.o: %.S $(STORE_LUA) $(FUZZ_B)/flags
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -c -o $@ $<

fuzz_obj = $(patsubst %.S,$(FUZZ_B)/obj/%.o,$(patsubst %.c,$(FUZZ_B)/obj/%.o,$(1)))

.SECONDEXPANSION:
$(FUZZ_B)/fuzz_%: $(FUZZ_B)/obj/tests/fuzz/fuzz_%.o \
    $$(call fuzz_obj,$$(FUZZ_SRC_$$*))
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ \
	    $(shell pkg-config --libs $(FUZZ_PKGS_$*)) -lpthread -lm

fuzz-build: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@FUZZ_BUILD=$(FUZZ_B) FUZZ_CC='$(FUZZ_CC)' FUZZ_CFLAGS='$(FUZZ_CFLAGS)' \
	    FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run

fuzz-ci: $(FUZZ_BIN)
	@FUZZ_BUILD=$(FUZZ_B) FUZZ_CC='$(FUZZ_CC)' FUZZ_CFLAGS='$(FUZZ_CFLAGS)' \
	    FUZZ_SECONDS=10 tests/fuzz/run

# The shipped templates go to $(DATADIR)/templates and are replaced on
# every install; the operator's own go in $(SYSCONFDIR)/hearback/templates,
# where a file replaces the shipped one of its name, and which install
# never writes to. The config is installed once, 0644 (it holds no
# secrets: the service's passwords are systemd credentials), and never
# overwritten.
CONF	= $(DESTDIR)$(SYSCONFDIR)/hearback/hearback.conf
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(B)/hearbackd $(DESTDIR)$(SBINDIR)/hearbackd
	install -m 0755 $(B)/hearback $(DESTDIR)$(BINDIR)/hearback
	rm -rf $(DESTDIR)$(DATADIR)/templates
	install -d $(DESTDIR)$(DATADIR)/templates
	install -m 0644 config/templates/* $(DESTDIR)$(DATADIR)/templates/
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/hearback/templates
	test -e $(CONF) || { \
	    sed -e 's|^dir = .*|dir = $(SYSCONFDIR)/hearback/templates|' \
	        -e 's|^shipped = .*|shipped = $(DATADIR)/templates|' \
	        config/hearback.conf >$(CONF).new && \
	    chmod 0644 $(CONF).new && mv $(CONF).new $(CONF); }
	@if [ "$$(stat -c %a $(CONF))" != 644 ]; then \
	    echo "make install: $(CONF) is mode $$(stat -c %a $(CONF)):" \
	        "the service (a DynamicUser) and coordinators need to read" \
	        "it; it holds no secrets: chmod 0644 it"; fi
	install -d $(DESTDIR)$(UNITDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    systemd/hearback.service >$(DESTDIR)$(UNITDIR)/hearback.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/hearback.service
	for f in $(MAN_PAGES); do \
	    d=$(DESTDIR)$(MANDIR)/man$${f##*.}; \
	    install -d $$d && install -m 0644 $$f $$d/ || exit 1; \
	done
	install -d $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0644 config/hearback.conf $(DESTDIR)$(DOCDIR)/hearback.conf.example
	install -m 0644 config/examples/*.json $(DESTDIR)$(DOCDIR)/examples/

# What install put in place, file by file; never $(SYSCONFDIR)/hearback,
# which holds the operator's config and templates.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/hearbackd $(DESTDIR)$(BINDIR)/hearback
	rm -f $(DESTDIR)$(UNITDIR)/hearback.service
	rm -rf $(DESTDIR)$(DATADIR)/templates
	rmdir $(DESTDIR)$(DATADIR) 2>/dev/null || true
	for f in $(MAN_PAGES); do \
	    rm -f $(DESTDIR)$(MANDIR)/man$${f##*.}/$${f#man/}; \
	done
	rm -f $(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/hearback.conf.example
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(wildcard config/examples/*.json)))
	rmdir $(DESTDIR)$(DOCDIR)/examples 2>/dev/null || true
	rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/hearback (the config and templates)"

# mandoc exits 2 on a warning; any message at all fails too.
man-lint:
	@out=$$(mandoc -T lint -W warning $(MAN_PAGES) 2>&1); rc=$$?; \
	if [ $$rc -ne 0 ] || [ -n "$$out" ]; then \
	    printf '%s\n' "$$out"; echo "man-lint: mandoc found problems"; \
	    exit 1; \
	fi; \
	echo "man-lint: $(words $(MAN_PAGES)) pages clean"

clean:
	rm -rf build build-asan build-tsan $(FUZZ_B) bin

dep:
	$(CC) -MM -iquote include daemon/*.c daemon/store/*.c workers/*.c cli/*.c

.PHONY: all unit integration test-faults test run bench fuzz fuzz-build fuzz-ci \
	install uninstall man-lint clean dep FORCE
.SECONDARY:
