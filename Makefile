# libovica: hand-written Makefile.
#   make            build lib/libovica.so.X.Y.Z (+ symlinks) and lib/libovica.a
#   make check      build and run the Check suites, header and symbol checks
#   make bench      build and run the benchmarks
#   make install    PREFIX=/usr/local DESTDIR= ; make uninstall
#   make deps       install missing Debian packages (done automatically)
# The version is read from include/ovica/version.h, the only place it lives.

PREFIX      ?= /usr/local
DESTDIR     ?=
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

CC      ?= cc
CXX     ?= c++
OPT     ?= -O3 -g
WARN    := -Wall -Wextra -Wpedantic -Werror
CSTD    := -std=c11
SAN     ?=
CFLAGS_ALL = $(CSTD) $(OPT) $(WARN) $(SAN) -D_POSIX_C_SOURCE=200809L $(CFLAGS)
LDFLAGS_ALL = $(SAN) $(LDFLAGS)

VERSION_H := include/ovica/version.h
VMAJOR := $(shell sed -n 's/^\#define OVICA_VERSION_MAJOR \([0-9]*\).*/\1/p' $(VERSION_H))
VMINOR := $(shell sed -n 's/^\#define OVICA_VERSION_MINOR \([0-9]*\).*/\1/p' $(VERSION_H))
VPATCH := $(shell sed -n 's/^\#define OVICA_VERSION_PATCH \([0-9]*\).*/\1/p' $(VERSION_H))
VERSION := $(VMAJOR).$(VMINOR).$(VPATCH)

# Dependencies, found with pkg-config. Recursive (=) variables: they are
# expanded when a recipe runs, i.e. after `deps` has installed what was missing.
PKGS      := openblas lapacke
DEP_CFLAGS = $(shell pkg-config --cflags $(PKGS))
DEP_LIBS   = $(shell pkg-config --libs $(PKGS)) -lm
CHECK_CFLAGS = $(shell pkg-config --cflags check)
CHECK_LIBS   = $(shell pkg-config --libs check)

BUILD   := build
SRCS    := $(sort $(wildcard src/*.c src/*/*.c))
OBJS    := $(SRCS:src/%.c=$(BUILD)/obj/%.o)
HEADERS := include/ovica.h $(sort $(wildcard include/ovica/*.h include/ovica/sys/*.h))

SHLIB   := lib/libovica.so.$(VERSION)
SONAME  := libovica.so.$(VMAJOR)
STLIB   := lib/libovica.a

TEST_SRCS := $(sort $(wildcard tests/check_*.c))
TEST_BINS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TEST_UTIL := tests/testutil.c

BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

.PHONY: all lib deps check check-headers check-symbols tests bench install uninstall clean help
.DEFAULT_GOAL := all

all: lib

help:
	@sed -n '2,8p' Makefile

# --- dependencies -----------------------------------------------------------
APT_PKGS := libopenblas-dev liblapacke-dev check pkg-config
deps:
	@missing=""; \
	command -v pkg-config >/dev/null 2>&1 || missing="pkg-config"; \
	for p in openblas lapacke check; do \
	  pkg-config --exists $$p 2>/dev/null || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: missing:$$missing; installing $(APT_PKGS) with apt-get"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y $(APT_PKGS) || \
	  { echo "deps: apt-get failed; install $(APT_PKGS) by hand"; exit 1; }; \
	fi

# --- the library --------------------------------------------------------------
lib: $(SHLIB) $(STLIB) lib/libovica.so lib/$(SONAME)

$(BUILD)/obj/%.o: src/%.c $(HEADERS) src/internal.h | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fPIC -fvisibility=hidden -DOVICA_BUILDING -Iinclude -Isrc $(DEP_CFLAGS) -c $< -o $@

$(SHLIB): $(OBJS)
	@mkdir -p lib
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined $(LDFLAGS_ALL) -o $@ $(OBJS) $(DEP_LIBS)

lib/$(SONAME): $(SHLIB)
	ln -sf libovica.so.$(VERSION) $@
lib/libovica.so: lib/$(SONAME)
	ln -sf $(SONAME) $@

$(STLIB): $(OBJS)
	@mkdir -p lib
	rm -f $@
	ar rcs $@ $(OBJS)

pkgconfig/libovica.pc: pkgconfig/libovica.pc.in $(VERSION_H)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

# --- tests --------------------------------------------------------------------
$(BUILD)/tests/%: tests/%.c $(TEST_UTIL) tests/testutil.h $(HEADERS) lib | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Iinclude -Itests $(CHECK_CFLAGS) $(DEP_CFLAGS) $< $(TEST_UTIL) -o $@ \
	    $(LDFLAGS_ALL) -Llib -Wl,-rpath,$(CURDIR)/lib -lovica $(CHECK_LIBS) $(DEP_LIBS)

tests: $(TEST_BINS)

# Each public header must compile on its own, as C11 and as C++.
check-headers: $(HEADERS) | deps
	@mkdir -p $(BUILD)/hdr
	@for h in $(HEADERS); do \
	  name=$$(echo $$h | sed 's|include/||; s|/|_|g; s|\.h$$||'); \
	  printf '#include "%s"\nint main(void) { return 0; }\n' "$${h#include/}" > $(BUILD)/hdr/$$name.c; \
	  $(CC) -std=c11 -Wall -Wextra -Wpedantic -Werror -Iinclude -c $(BUILD)/hdr/$$name.c -o $(BUILD)/hdr/$$name.o || exit 1; \
	  $(CXX) -x c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror -Iinclude -c $(BUILD)/hdr/$$name.c -o $(BUILD)/hdr/$$name.cxx.o || exit 1; \
	done; echo "check-headers: $(words $(HEADERS)) headers compile alone as C11 and C++11"

# Only ovica_* symbols may be exported from the shared library.
check-symbols: $(SHLIB)
	@bad=$$(nm -D --defined-only $(SHLIB) | awk '{print $$3}' | grep -v '^ovica_' || true); \
	if [ -n "$$bad" ]; then echo "check-symbols: unexpected exports:"; echo "$$bad"; exit 1; fi; \
	echo "check-symbols: $$(nm -D --defined-only $(SHLIB) | wc -l) exported symbols, all ovica_*"

check: lib check-headers check-symbols tests
	@sh tests/run.sh $(TEST_BINS)

# --- benchmarks -----------------------------------------------------------------
$(BUILD)/bench/%: bench/%.c $(HEADERS) lib | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -O3 -Iinclude $(DEP_CFLAGS) $< -o $@ \
	    $(LDFLAGS_ALL) -Llib -Wl,-rpath,$(CURDIR)/lib -lovica $(DEP_LIBS)

bench: $(BENCH_BINS)
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done

# --- install ------------------------------------------------------------------
install: lib pkgconfig/libovica.pc
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/ovica $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 include/ovica.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(wildcard include/ovica/*.h) $(DESTDIR)$(INCLUDEDIR)/ovica/
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libovica.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libovica.so
	install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/
	install -m 644 pkgconfig/libovica.pc $(DESTDIR)$(PKGCONFIGDIR)/

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libovica.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	      $(DESTDIR)$(LIBDIR)/libovica.so $(DESTDIR)$(LIBDIR)/libovica.a \
	      $(DESTDIR)$(PKGCONFIGDIR)/libovica.pc $(DESTDIR)$(INCLUDEDIR)/ovica.h
	rm -rf $(DESTDIR)$(INCLUDEDIR)/ovica

clean:
	rm -rf $(BUILD) lib/libovica.* pkgconfig/libovica.pc
