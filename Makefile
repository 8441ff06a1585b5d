# libovica: hand-written Makefile.
#   make            build lib/libovica.so.X.Y.Z (+ symlinks) and lib/libovica.a
#   make check-fast the unit suites only (the edit-build-test loop; about 50 s after an edit)
#   make check      everything: every suite, header and symbol checks, CLI, examples,
#                   Python, the docs' code blocks (check-docs), MPI (what CI and the
#                   README run)
#   make demo       build the ovica program and run the article's 2-D experiment
#   make bench      build and run the benchmarks (bench-peers, bench-sparse: against peers)
#   make mpi        the MPI training program (examples/mpi/); make check-mpi its tests
#   make install    PREFIX=/usr/local DESTDIR= : the library, headers, .pc and the
#                   ovica program; PYTHON_INSTALL=1 also the Python package
#                   (or make install-python); make uninstall
#   make deps       install missing Debian packages (make check and make demo do it first;
#                   make and make lib never call apt-get, they only say what is missing)
# The version is read from include/ovica/version.h, the only place it lives.
# Every compile writes a .d file next to its output (-MMD -MP) that the next
# run includes: touching any header, public or private (src/*.h, cli/*.h,
# bench/*.h, tests/*.h, examples/mpi/*.h), rebuilds exactly what includes it.

PREFIX      ?= /usr/local
DESTDIR     ?=
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
BINDIR      ?= $(PREFIX)/bin
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
# Where the libraries go; the sanitizer builds put theirs under their BUILD.
LIBOUT  := lib
SRCS    := $(sort $(wildcard src/*.c src/*/*.c))
OBJS    := $(SRCS:src/%.c=$(BUILD)/obj/%.o)
HEADERS := include/ovica.h $(sort $(wildcard include/ovica/*.h include/ovica/sys/*.h))

SHLIB   := $(LIBOUT)/libovica.so.$(VERSION)
SONAME  := libovica.so.$(VMAJOR)
STLIB   := $(LIBOUT)/libovica.a
# What a program linked with -lovica depends on (files, not the phony `lib`,
# so that a program is relinked when the library changes and only then).
LIB_FILES = $(SHLIB) $(LIBOUT)/$(SONAME) $(LIBOUT)/libovica.so

# Generated header dependencies: -MMD writes the .d file of each compile,
# -MP adds an empty rule for every header so that a deleted header does not
# break the build. DEP_FILES lists every .d a rule below writes; they are
# included at the end of this file.
DEPFLAGS := -MMD -MP
DEP_FILES = $(OBJS:.o=.d)

TEST_SRCS := $(sort $(wildcard tests/check_*.c))
TEST_BINS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TEST_OBJS := $(TEST_BINS:=.o) $(BUILD)/tests/testutil.o
TEST_INC  :=
INTERNAL_BINS := $(BUILD)/tests/check_internal
EXT_BIN   := $(BUILD)/tests/check_extend

BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

.PHONY: all lib deps check check-headers check-symbols tests bench install uninstall clean help
.DEFAULT_GOAL := all

all: lib

help:
	@sed -n '2,15p' Makefile

# --- dependencies -----------------------------------------------------------
# Package installation is kept out of the default build path: only the goals
# in INSTALL_GOALS run `deps` (apt-get when something is missing) before they
# compile; every other goal (make, make lib, make tests, make check-fast, ...)
# runs deps-verify, which only checks with pkg-config and names what is
# missing. The deps-* targets of the optional tools (deps-cli, deps-tools,
# deps-python, deps-docs, deps-mpi, deps-peers) are run by the targets that
# need those tools, never by the library's build.
APT_PKGS := libopenblas-dev liblapacke-dev check pkg-config
INSTALL_GOALS := check demo deps
ifneq ($(filter $(INSTALL_GOALS),$(MAKECMDGOALS)),)
DEPS := deps
else
DEPS := deps-verify
endif
.PHONY: deps-verify
deps-verify:
	@for p in $(PKGS); do \
	  pkg-config --exists $$p 2>/dev/null || { \
	    echo "missing: $$p (pkg-config finds no $$p.pc); 'make deps' installs $(APT_PKGS)"; exit 1; }; \
	done

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
lib: $(SHLIB) $(STLIB) $(LIBOUT)/libovica.so $(LIBOUT)/$(SONAME)

$(OBJS): $(BUILD)/obj/%.o: src/%.c | $(DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DEPFLAGS) -fPIC -fvisibility=hidden -DOVICA_BUILDING -Iinclude -Isrc $(DEP_CFLAGS) -c $< -o $@

$(SHLIB): $(OBJS)
	@mkdir -p $(LIBOUT)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined $(LDFLAGS_ALL) -o $@ $(OBJS) $(DEP_LIBS)

$(LIBOUT)/$(SONAME): $(SHLIB)
	ln -sf libovica.so.$(VERSION) $@
$(LIBOUT)/libovica.so: $(LIBOUT)/$(SONAME)
	ln -sf $(SONAME) $@

$(STLIB): $(OBJS)
	@mkdir -p $(LIBOUT)
	rm -f $@
	ar rcs $@ $(OBJS)

# The .pc file records the install paths: it is regenerated when PREFIX,
# LIBDIR or INCLUDEDIR differ from the last generation (a stamp file that is
# rewritten only when they change).
PC_PATHS := $(PREFIX):$(LIBDIR):$(INCLUDEDIR)
$(BUILD)/pc.paths: FORCE
	@mkdir -p $(dir $@)
	@echo '$(PC_PATHS)' | cmp -s - $@ || echo '$(PC_PATHS)' > $@
.PHONY: FORCE
FORCE:

pkgconfig/libovica.pc: pkgconfig/libovica.pc.in $(VERSION_H) $(BUILD)/pc.paths
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

# --- tests --------------------------------------------------------------------
# Each suite: its object and the shared testutil.o, linked with -lovica.
$(TEST_OBJS): $(BUILD)/tests/%.o: tests/%.c | $(DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DEPFLAGS) -Iinclude -Itests $(TEST_INC) $(CHECK_CFLAGS) $(DEP_CFLAGS) -c $< -o $@

$(filter-out $(INTERNAL_BINS) $(EXT_BIN),$(TEST_BINS)): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/testutil.o $(LIB_FILES)
	$(CC) $(CHECK_CFLAGS) $< $(BUILD)/tests/testutil.o -o $@ \
	    $(LDFLAGS_ALL) -L$(LIBOUT) -Wl,-rpath,$(CURDIR)/$(LIBOUT) -lovica $(CHECK_LIBS) $(DEP_LIBS)
DEP_FILES += $(TEST_OBJS:.o=.d)

# Suites of internal helpers (tests/check_internal.c): they include
# src/internal.h and link the static library, whose objects keep the
# hidden ovica__ symbols.
$(INTERNAL_BINS:=.o): TEST_INC += -Isrc
$(INTERNAL_BINS): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/testutil.o $(STLIB)
	$(CC) $(CHECK_CFLAGS) $< $(BUILD)/tests/testutil.o -o $@ \
	    $(LDFLAGS_ALL) $(STLIB) $(CHECK_LIBS) $(DEP_LIBS)

# Adding a solver and a rule (tests/check_extend.c, docs/ARCHITECTURE.md):
# the library's objects, but the two registries compiled again with one
# more entry each, plus the two files that define the toy types
# (tests/extend/). The suite uses only the public API.
EXT_REGS := $(BUILD)/extend/solver_registry.o $(BUILD)/extend/rule_registry.o
EXT_TOYS := $(BUILD)/extend/toy_solver.o $(BUILD)/extend/toy_rule.o
EXT_CC    = $(CC) $(CFLAGS_ALL) $(DEPFLAGS) -fvisibility=hidden -DOVICA_BUILDING -Iinclude -Isrc $(DEP_CFLAGS)
$(BUILD)/extend/solver_registry.o: src/solver/registry.c | $(DEPS)
	@mkdir -p $(dir $@)
	$(EXT_CC) '-DOVICA_EXTRA_SOLVERS(X)=X(toy)' -c $< -o $@
$(BUILD)/extend/rule_registry.o: src/rule/registry.c | $(DEPS)
	@mkdir -p $(dir $@)
	$(EXT_CC) '-DOVICA_EXTRA_RULES(X)=X(toy)' -c $< -o $@
$(EXT_TOYS): $(BUILD)/extend/%.o: tests/extend/%.c | $(DEPS)
	@mkdir -p $(dir $@)
	$(EXT_CC) -c $< -o $@
$(EXT_BIN): $(EXT_BIN).o $(BUILD)/tests/testutil.o $(EXT_REGS) $(EXT_TOYS) \
            $(filter-out $(BUILD)/obj/solver/registry.o $(BUILD)/obj/rule/registry.o,$(OBJS))
	$(CC) $(CHECK_CFLAGS) $^ -o $@ $(LDFLAGS_ALL) $(CHECK_LIBS) $(DEP_LIBS)
DEP_FILES += $(EXT_REGS:.o=.d) $(EXT_TOYS:.o=.d)

tests: $(TEST_BINS)

# The unit suites: every suite but the long statistical ones (FAST_SKIP: the
# article's 20-seed experiments, check_experiments, several minutes; the
# model-comparison scans of check_scan, 1-3 minutes), and none of the CLI,
# audio, example, Python or MPI tests. check_oom stays (about 1 s without a
# sanitizer). `make check-fast` is the inner loop of editing (budget: 90 s
# on a 2-core machine, the build of what changed included: about 50 s after
# an edit of a source, under load; a build from scratch adds about a
# minute); `make check` runs everything.
FAST_SKIP ?= check_experiments check_scan
FAST_BINS  = $(filter-out $(FAST_SKIP:%=$(BUILD)/tests/%),$(TEST_BINS))
# It prints its time: the suites' run, and the whole command from the moment
# make read this file (the build of what changed included).
ifneq ($(filter check-fast,$(MAKECMDGOALS)),)
FAST_T0 := $(shell date +%s.%N)
endif
.PHONY: check-fast
check-fast: $(FAST_BINS)
	@t0=$$(date +%s.%N); sh tests/run.sh $(FAST_BINS); rc=$$?; t1=$$(date +%s.%N); \
	echo "check-fast: $(words $(FAST_BINS)) suites ran in $$(echo "$$t0 $$t1" | awk '{printf "%.1f", $$2 - $$1}') s;" \
	  "make check-fast took $$(echo "$(FAST_T0) $$t1" | awk '{printf "%.1f", $$2 - $$1}') s in all (budget 90 s; skipped: $(FAST_SKIP))"; \
	exit $$rc

# Each public header must compile on its own, as C11 and as C++, with and
# without OVICA_EXPERIMENTAL (the experimental-only headers, EXP_HEADERS, only
# with it). Then the stable surface: <ovica.h> without OVICA_EXPERIMENTAL
# declares no debug hook and no statistics layout (a program that reuses
# their names compiles), and with it does (the same program fails).
EXP_HEADERS := include/ovica/debug.h
check-headers: $(HEADERS) | $(DEPS)
	@mkdir -p $(BUILD)/hdr
	@for h in $(HEADERS); do \
	  name=$$(echo $$h | sed 's|include/||; s|/|_|g; s|\.h$$||'); \
	  printf '#include "%s"\nint main(void) { return 0; }\n' "$${h#include/}" > $(BUILD)/hdr/$$name.c; \
	  for exp in "" -DOVICA_EXPERIMENTAL; do \
	    case " $(EXP_HEADERS) " in *" $$h "*) [ -z "$$exp" ] && continue;; esac; \
	    $(CC) -std=c11 -Wall -Wextra -Wpedantic -Werror $$exp -Iinclude -c $(BUILD)/hdr/$$name.c -o $(BUILD)/hdr/$$name.o || exit 1; \
	    $(CXX) -x c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror $$exp -Iinclude -c $(BUILD)/hdr/$$name.c -o $(BUILD)/hdr/$$name.cxx.o || exit 1; \
	  done; \
	done; \
	printf '#include "ovica.h"\nint ovica_debug_fail_alloc = 0;\n#ifdef OVICA_STATS_SIZE\n#error the layout is visible\n#endif\nint main(void) { return ovica_debug_fail_alloc; }\n' > $(BUILD)/hdr/stable.c; \
	$(CC) -std=c11 -Wall -Wextra -Wpedantic -Werror -Iinclude -c $(BUILD)/hdr/stable.c -o $(BUILD)/hdr/stable.o || \
	  { echo "check-headers: <ovica.h> exposes experimental declarations without OVICA_EXPERIMENTAL"; exit 1; }; \
	if $(CC) -std=c11 -DOVICA_EXPERIMENTAL -Iinclude -c $(BUILD)/hdr/stable.c -o $(BUILD)/hdr/stable.o 2>/dev/null; then \
	  echo "check-headers: <ovica.h> with OVICA_EXPERIMENTAL declares no debug hook"; exit 1; fi; \
	echo "check-headers: $(words $(HEADERS)) headers compile alone as C11 and C++11, with and without OVICA_EXPERIMENTAL ($(EXP_HEADERS) only with it); the experimental surface is hidden without it"

# Only ovica_* symbols may be exported from the shared library.
check-symbols: $(SHLIB)
	@bad=$$(nm -D --defined-only $(SHLIB) | awk '{print $$3}' | grep -v '^ovica_' || true); \
	if [ -n "$$bad" ]; then echo "check-symbols: unexpected exports:"; echo "$$bad"; exit 1; fi; \
	echo "check-symbols: $$(nm -D --defined-only $(SHLIB) | wc -l) exported symbols, all ovica_*"

# `make check`: everything, in one rule. The prerequisites run first (in
# parallel under -j), then every Check suite; the last line is the suites'
# "check: N passed, N failed" (.ci/run reprints it).
CHECK_PREREQS = lib check-headers check-symbols tests check-cli check-examples check-python check-docs \
                check-latents \
                $(if $(HAVE_MPICC),check-mpi)
check: $(CHECK_PREREQS)
	@sh tests/run.sh $(TEST_BINS)

# --- benchmarks -----------------------------------------------------------------
# (single-source programs: the .d file is named after the program, $@.d)
$(BENCH_BINS): $(BUILD)/bench/%: bench/%.c $(LIB_FILES) | $(DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -O3 $(DEPFLAGS) -MF $@.d -MT $@ -Iinclude $(DEP_CFLAGS) $< -o $@ \
	    $(LDFLAGS_ALL) -L$(LIBOUT) -Wl,-rpath,$(CURDIR)/$(LIBOUT) -lovica $(DEP_LIBS)
DEP_FILES += $(BENCH_BINS:=.d)

bench: $(BENCH_BINS)
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done

# Peers on the same machine (docs/PERFORMANCE.md): scikit-learn and PyTorch
# are benchmark-only dependencies, installed here, never needed to build or
# test the library. Debian's packages, run with /usr/bin/python3.
PEER_APT_PKGS := python3-numpy python3-sklearn python3-torch
.PHONY: deps-peers bench-peers
deps-peers:
	@if ! /usr/bin/python3 -c 'import numpy, sklearn, torch' >/dev/null 2>&1; then \
	  echo "deps-peers: installing $(PEER_APT_PKGS) with apt-get"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y $(PEER_APT_PKGS) || \
	  { echo "deps-peers: apt-get failed; install $(PEER_APT_PKGS) by hand"; exit 1; }; \
	fi

bench-peers: $(BUILD)/bench/bench_peers | deps-peers
	/usr/bin/python3 bench/peers.py --bin $(BUILD)/bench/bench_peers

# The defaults on sparse cases against MiniBatchDictionaryLearning given its
# best sparsity weight (set from the true basis), and the sparse route's
# ablation (docs/LEARNING.md, docs/ABLATION.md). One BLAS thread each.
.PHONY: bench-sparse
bench-sparse: lib | deps-peers
	OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/sparse_peers.py --seeds 2
	OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/sparse_ablation.py --seeds 2

# The scale benchmark (issue 15, docs/PERFORMANCE.md): a synthetic float32
# file (256 x 2048 atoms, 3% active, 500,000 rows; about 0.5 GB under
# build/scale), streamed block by block by the library with its defaults,
# MiniBatchDictionaryLearning and a PyTorch sparse autoencoder, two threads
# each (SCALE_ARGS="--m 64 --n 512 --rows 100000 --minutes 3": a small run).
SCALE_ARGS ?=
.PHONY: bench-scale
bench-scale: lib | deps-peers
	OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/scale.py --threads 2 $(SCALE_ARGS)

# --- reliability: sanitizers, valgrind, fuzzing (docs/RELIABILITY.md) ----------
#   make check-asan      the Check suites under AddressSanitizer + UBSan (gcc)
#   make check-valgrind  the Check suites under valgrind memcheck
#   make tsan            the Check suites under ThreadSanitizer (gcc)
#   make fuzz            build the libFuzzer targets (clang), run each FUZZ_TIME s
#   make fuzz-build      only build them (build/fuzz/fuzz/fuzz_*)
# Each builds into its own BUILD (and LIBOUT) directory under build/, so the
# normal build (build/obj, build/tests, lib/) is left alone.
ASAN_SAN   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TSAN_SAN   := -fsanitize=thread
TOOL_OPT   := -O1 -g
VG_OPT     := -O2 -g -gdwarf-4
# OpenBLAS kernels for the valgrind run: its AVX2/AVX-512 ones run about 5x
# slower under memcheck than the SSE3 ones (docs/RELIABILITY.md).
VG_CORETYPE ?= Prescott
TOOL_JOBS  ?= 2
ASAN_ENV   := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1 \
              UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 CK_FORK=no
TSAN_ENV   := TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 OPENBLAS_NUM_THREADS=1 CK_FORK=no
VG_ENV     := OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=$(VG_CORETYPE) CK_FORK=no
VALGRIND   := valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
              --errors-for-leak-kinds=definite --show-leak-kinds=definite \
              --suppressions=$(CURDIR)/tests/valgrind.supp --quiet
FUZZ_CC    := clang
FUZZ_SAN   := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_TIME  ?= 60
FUZZ_SEED  ?= 1
FUZZ_FLAGS ?= -seed=$(FUZZ_SEED) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
FUZZ_SRCS  := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRCS:fuzz/%.c=%)
# The article's experiments (20 seeds of full training runs per set) are
# statistical, not memory checks: under valgrind they would take hours. The
# code they run is covered under the tools by the trainer and sampler suites.
SLOW_TESTS ?= check_experiments
TOOL_TESTS  = $(filter-out $(SLOW_TESTS),$(TEST_SRCS:tests/%.c=%))

.PHONY: deps-tools check-asan check-valgrind tsan check-tsan fuzz fuzz-build fuzz-bins objs

# Tools the targets above need, installed as `deps` does: apt-get update first,
# sudo when not root.
TOOL_APT_PKGS := clang libclang-rt-14-dev valgrind gcc
deps-tools: | deps
	@missing=""; \
	command -v valgrind >/dev/null 2>&1 || missing="$$missing valgrind"; \
	command -v $(FUZZ_CC) >/dev/null 2>&1 || missing="$$missing $(FUZZ_CC)"; \
	t=$$(mktemp -d); \
	printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' > $$t/f.c; \
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined $$t/f.c -o $$t/f >/dev/null 2>&1 || missing="$$missing libFuzzer"; \
	printf 'int main(void) { return 0; }\n' > $$t/m.c; \
	$(CC) $(ASAN_SAN) $$t/m.c -o $$t/m >/dev/null 2>&1 || missing="$$missing asan"; \
	$(CC) $(TSAN_SAN) $$t/m.c -o $$t/m >/dev/null 2>&1 || missing="$$missing tsan"; \
	rm -rf $$t; \
	if [ -n "$$missing" ]; then \
	  echo "deps-tools: missing:$$missing; installing $(TOOL_APT_PKGS) with apt-get"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y $(TOOL_APT_PKGS) || \
	  { echo "deps-tools: apt-get failed; install $(TOOL_APT_PKGS) by hand"; exit 1; }; \
	fi

check-asan: | deps-tools
	@$(MAKE) --no-print-directory BUILD=build/asan LIBOUT=build/asan/lib OPT="$(TOOL_OPT)" SAN="$(ASAN_SAN)" tests
	@$(ASAN_ENV) sh tests/run_tool.sh check-asan $(TOOL_JOBS) "" $(TOOL_TESTS:%=build/asan/tests/%)

check-valgrind: | deps-tools
	@$(MAKE) --no-print-directory BUILD=build/vg LIBOUT=build/vg/lib OPT="$(VG_OPT)" SAN= tests
	@$(VG_ENV) sh tests/run_tool.sh check-valgrind $(TOOL_JOBS) "$(VALGRIND)" $(TOOL_TESTS:%=build/vg/tests/%)

# TSan runs the suites that use threads: the threaded-handles suite, and the
# solver suite (the active-set solver's OVICA_SOLVER_THREADS workers);
# TSAN_TESTS="$(TOOL_TESTS)" runs all.
TSAN_TESTS ?= check_core check_threads check_solver
tsan check-tsan: | deps-tools
	@$(MAKE) --no-print-directory BUILD=build/tsan LIBOUT=build/tsan/lib OPT="$(TOOL_OPT)" SAN="$(TSAN_SAN)" tests
	@$(TSAN_ENV) sh tests/run_tool.sh check-tsan $(TOOL_JOBS) "" $(TSAN_TESTS:%=build/tsan/tests/%)

# The fuzz targets link the library's objects (built by clang with the fuzzer
# instrumentation) statically; FUZZ_TIME seconds per target, each starting
# from its seed corpus tests/corpus/<target minus fuzz_>/. A crash fails the
# run and leaves the input in build/fuzz/crashes/ (add it to the seed corpus:
# tests/check_corpus.c replays every seed in `make check`).
objs: $(OBJS)

FUZZ_BINS := $(FUZZ_NAMES:%=$(BUILD)/fuzz/%)
$(FUZZ_BINS): $(BUILD)/fuzz/%: fuzz/%.c $(OBJS) | $(DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DEPFLAGS) -MF $@.d -MT $@ -fsanitize=fuzzer -Iinclude $(DEP_CFLAGS) $< $(OBJS) -o $@ $(LDFLAGS_ALL) $(DEP_LIBS)
DEP_FILES += $(FUZZ_BINS:=.d)

fuzz-bins: $(FUZZ_BINS)

fuzz-build: | deps-tools
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=$(FUZZ_CC) OPT="$(TOOL_OPT)" SAN="$(FUZZ_SAN)" fuzz-bins

fuzz: fuzz-build
	@mkdir -p build/fuzz/crashes
	@for f in $(FUZZ_NAMES); do \
	  c=$${f#fuzz_}; mkdir -p build/fuzz/corpus/$$c tests/corpus/$$c; \
	  echo "== fuzz: $$f for $(FUZZ_TIME) s"; \
	  OPENBLAS_NUM_THREADS=1 build/fuzz/fuzz/$$f $(FUZZ_FLAGS) -max_total_time=$(FUZZ_TIME) \
	    -artifact_prefix=build/fuzz/crashes/$$f- build/fuzz/corpus/$$c tests/corpus/$$c \
	    > build/fuzz/$$f.log 2>&1; rc=$$?; \
	  grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' build/fuzz/$$f.log | tail -n 2; \
	  if [ $$rc -ne 0 ]; then tail -n 60 build/fuzz/$$f.log; echo "fuzz: $$f FAILED (exit $$rc)"; exit 1; fi; \
	done; echo "fuzz: $(words $(FUZZ_NAMES)) targets, no crash in $(FUZZ_TIME) s each"

# --- the ovica program (cli/: the public API only) --------------------------------
#   make cli         build $(BUILD)/bin/ovica
#   make demo        build it and run the article's 2-D experiment (DEMO_DIR)
#   make check-cli   the program's tests (tests/cli/run.sh); part of `make check`
CLI_SRCS := $(sort $(wildcard cli/*.c))
CLI_HDRS := $(sort $(wildcard cli/*.h))
CLI_BIN  := $(BUILD)/bin/ovica
CLI_LIB   = $(if $(LIBOUT),$(LIBOUT),lib)
DEMO_DIR ?= $(BUILD)/demo

.PHONY: cli demo check-cli
cli: $(CLI_BIN)

# `ovica separate` reads and writes audio with libsndfile and takes STFTs with
# FFTW3: dependencies of the program only (the library links neither);
# deps-cli installs them, and espeak-ng for the separation test, with apt-get.
CLI_APT_PKGS := libsndfile1-dev libfftw3-dev espeak-ng
CLI_DEP_CFLAGS = $(shell pkg-config --cflags sndfile fftw3)
CLI_DEP_LIBS   = $(shell pkg-config --libs sndfile fftw3)
.PHONY: deps-cli
deps-cli: | deps
	@missing=""; \
	for p in sndfile fftw3; do pkg-config --exists $$p 2>/dev/null || missing="$$missing $$p"; done; \
	command -v espeak-ng >/dev/null 2>&1 || missing="$$missing espeak-ng"; \
	if [ -n "$$missing" ]; then \
	  echo "deps-cli: missing:$$missing; installing $(CLI_APT_PKGS) with apt-get"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y $(CLI_APT_PKGS) || \
	  { echo "deps-cli: apt-get failed; install $(CLI_APT_PKGS) by hand"; exit 1; }; \
	fi

CLI_OBJS := $(CLI_SRCS:cli/%.c=$(BUILD)/cli/%.o)
$(CLI_OBJS): $(BUILD)/cli/%.o: cli/%.c | $(DEPS) deps-cli
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DEPFLAGS) -Iinclude $(CLI_DEP_CFLAGS) -c $< -o $@
DEP_FILES += $(CLI_OBJS:.o=.d)

$(CLI_BIN): $(CLI_OBJS) $(LIB_FILES)
	@mkdir -p $(dir $@)
	$(CC) $(CLI_OBJS) -o $@ \
	    $(LDFLAGS_ALL) -L$(CLI_LIB) -Wl,-rpath,$(CURDIR)/$(CLI_LIB) -lovica $(CLI_DEP_LIBS) -lm

# (the demo's matrices are tiny: BLAS threads only cost time, unless asked for)
demo: $(CLI_BIN)
	OPENBLAS_NUM_THREADS=$${OPENBLAS_NUM_THREADS:-1} $(CLI_BIN) demo --out $(DEMO_DIR)

# tests/cli/separate.sh: `ovica separate` on three espeak-ng voices mixed by
# tests/cli/mixwav.c (libsndfile), which also scores the separated sources.
CLI_MIXWAV := $(BUILD)/cli-test/mixwav
$(CLI_MIXWAV): tests/cli/mixwav.c | deps-cli
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DEPFLAGS) -MF $@.d -MT $@ $(CLI_DEP_CFLAGS) $< -o $@ $(LDFLAGS_ALL) $(CLI_DEP_LIBS) -lm
DEP_FILES += $(CLI_MIXWAV).d

check-cli: $(CLI_BIN) $(CLI_MIXWAV)
	@sh tests/cli/run.sh $(CLI_BIN)
	@sh tests/cli/separate.sh $(CLI_BIN) $(CLI_MIXWAV)

# --- examples, the Python binding, the API reference -----------------------------
#   make check-examples  build every examples/*.c (C11) and examples/*.cpp (C++11)
#                        against include/ and the in-tree library, run each with
#                        --quick; part of `make check`
#   make check-python    the Python binding's tests (bindings/python/tests) and
#                        examples/python_walkthrough.py with $(PYTHON); installs
#                        python3-numpy with apt-get if missing; part of `make check`;
#                        first check-install (pip install into a fresh venv, make
#                        install DESTDIR=..., both used outside the tree)
#   make gen-binding     regenerate bindings/python/ovica/_capi.py (the ctypes
#                        prototypes, enums, #defines and structs) from include/ovica/*.h
#   make check-binding   fail if that file is stale (no library needed); the
#                        full check (reachability, struct layouts) is in check-python
#   make check-docs      run every shell and Python block of the user docs and
#                        check the outputs they show (make update-docs: rewrite
#                        them from real runs); part of `make check`
#   make docs            the API reference from the header comments (Doxygen,
#                        installed with apt-get if missing) in $(BUILD)/docs/html
# The examples use only the public header, as any host would.
PYTHON   ?= /usr/bin/python3
EX_C     := $(sort $(wildcard examples/*.c))
EX_CXX   := $(sort $(wildcard examples/*.cpp))
EX_BINS  := $(EX_C:examples/%.c=$(BUILD)/examples/%) $(EX_CXX:examples/%.cpp=$(BUILD)/examples/%)
EX_LINK   = $(LDFLAGS_ALL) -L$(CLI_LIB) -Wl,-rpath,$(CURDIR)/$(CLI_LIB) -lovica -lm

.PHONY: examples check-examples check-python deps-python docs deps-docs gen-binding check-binding
examples: $(EX_BINS)

EX_DEP = $(DEPFLAGS) -MF $@.d -MT $@
$(BUILD)/examples/%: examples/%.c | $(LIB_FILES) $(DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(OPT) $(WARN) $(SAN) $(CFLAGS) $(EX_DEP) -Iinclude $< -o $@ $(EX_LINK)

$(BUILD)/examples/%: examples/%.cpp | $(LIB_FILES) $(DEPS)
	@mkdir -p $(dir $@)
	$(CXX) -std=c++11 $(OPT) $(WARN) $(SAN) $(CXXFLAGS) $(EX_DEP) -Iinclude $< -o $@ $(EX_LINK)
DEP_FILES += $(EX_BINS:=.d)

# image_features whitens with LAPACKE (the example's own use, as any host's) and
# finds the shipped photographs (examples/data/images) wherever it is run from.
# Full run: build/examples/image_features --out DIR (docs/EXAMPLES.md).
$(BUILD)/examples/image_features: examples/image_features.c | $(LIB_FILES) $(DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(OPT) $(WARN) $(SAN) $(CFLAGS) $(EX_DEP) -Iinclude $(DEP_CFLAGS) \
	    -DOVICA_IMAGE_DIR='"$(CURDIR)/examples/data/images"' $< -o $@ $(EX_LINK) $(DEP_LIBS)

check-examples: $(EX_BINS)
	@mkdir -p $(BUILD)/examples/run; run=$$(cd $(BUILD)/examples/run && pwd); \
	for b in $(EX_BINS); do \
	  name=$$(basename $$b); bin=$$(cd $$(dirname $$b) && pwd)/$$name; \
	  if (cd $$run && OPENBLAS_NUM_THREADS=1 $$bin --quick) > $$run/$$name.log 2>&1; then \
	    echo "check-examples: $$name ok: $$(tail -n 1 $$run/$$name.log)"; \
	  else cat $$run/$$name.log; echo "check-examples: $$name FAILED"; exit 1; fi; \
	done; echo "check-examples: $(words $(EX_BINS)) examples built and run"

deps-python:
	@if ! $(PYTHON) -c 'import numpy' >/dev/null 2>&1; then \
	  echo "deps-python: no numpy for $(PYTHON); installing python3-numpy with apt-get"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y python3-numpy || \
	  echo "deps-python: apt-get failed; install python3-numpy by hand"; \
	fi

GEN_BINDING = $(PYTHON) bindings/python/tools/gen_capi.py
gen-binding:
	$(GEN_BINDING)

check-binding:
	@$(GEN_BINDING) --check && echo "check-binding: bindings/python/ovica/_capi.py is up to date"

# (skipped, saying so, when numpy cannot be had: the binding needs nothing else)
check-python: check-binding check-install | lib deps-python
	@if ! $(PYTHON) -c 'import numpy' >/dev/null 2>&1; then \
	  echo "check-python: SKIPPED: no numpy for $(PYTHON)"; exit 0; fi; \
	export OPENBLAS_NUM_THREADS=1 PYTHONPATH=$(CURDIR)/bindings/python; \
	(cd /tmp && $(PYTHON) -c 'import ovica; print("check-python: import ovica:", ovica.__version__, ovica.library_path)') && \
	$(PYTHON) -m unittest discover -s bindings/python/tests -t bindings/python/tests && \
	$(PYTHON) examples/python_walkthrough.py --quick > $(BUILD)/python_walkthrough.log 2>&1 || \
	  { cat $(BUILD)/python_walkthrough.log 2>/dev/null; echo "check-python: FAILED"; exit 1; }; \
	echo "check-python: tests and examples/python_walkthrough.py ok"

# Docs that cannot drift: every shell and Python block of README.md,
# docs/TUTORIAL.md and bindings/python/README.md is run in a scratch
# directory and the outputs they show are checked (tests/docblocks.py;
# `make update-docs` rewrites the shown outputs from real runs).
DOC_FILES := README.md docs/TUTORIAL.md bindings/python/README.md
.PHONY: check-docs update-docs
check-docs: lib $(CLI_BIN) | deps-python
	@if ! $(PYTHON) -c 'import numpy' >/dev/null 2>&1; then \
	  echo "check-docs: SKIPPED: no numpy for $(PYTHON)"; exit 0; fi; \
	$(PYTHON) tests/docblocks.py --selftest --python $(PYTHON) && \
	$(PYTHON) tests/docblocks.py --python $(PYTHON) $(DOC_FILES)

update-docs: lib $(CLI_BIN) | deps-python
	@$(PYTHON) tests/docblocks.py --update --python $(PYTHON) $(DOC_FILES)

deps-docs:
	@if ! command -v doxygen >/dev/null 2>&1; then \
	  echo "deps-docs: no doxygen; installing doxygen with apt-get"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y doxygen || \
	  { echo "deps-docs: apt-get failed; install doxygen by hand"; exit 1; }; \
	fi

docs: | deps-docs
	@mkdir -p $(BUILD)/docs
	@( cat docs/Doxyfile; echo "PROJECT_NUMBER = $(VERSION)"; \
	   echo "OUTPUT_DIRECTORY = $(BUILD)/docs"; echo "WARN_LOGFILE = $(BUILD)/docs/warnings.log" ) \
	  | doxygen - > $(BUILD)/docs/doxygen.log
	@echo "docs: $(BUILD)/docs/html/index.html; $$(grep -c 'warning' $(BUILD)/docs/warnings.log) warnings (in $(BUILD)/docs/warnings.log)"

# --- MPI: one model trained over the ranks of an MPI job (examples/mpi/) ---------
#   make mpi         build $(BUILD)/mpi/ovica-mpi-train and the MPI test program
#                    (installs OpenMPI with apt-get first if mpicc is missing)
#   make check-mpi   the MPI tests (tests/mpi/run.sh: mpirun -np 2 and -np 3);
#                    part of `make check` when mpicc is present
# The library does not depend on MPI: only these programs are built with mpicc.
MPICC    ?= mpicc
MPIRUN   ?= mpirun
MPI_APT_PKGS := openmpi-bin libopenmpi-dev
MPI_SRCS := examples/mpi/dtrain.c examples/mpi/npy_rows.c
MPI_HDRS := examples/mpi/dtrain.h examples/mpi/npy_rows.h
MPI_BIN  := $(BUILD)/mpi/ovica-mpi-train
MPI_TEST := $(BUILD)/mpi/check_mpi
MPI_LINK  = $(LDFLAGS_ALL) -L$(CLI_LIB) -Wl,-rpath,$(CURDIR)/$(CLI_LIB) -lovica -lm
HAVE_MPICC := $(shell command -v $(MPICC) 2>/dev/null)

.PHONY: mpi check-mpi deps-mpi
deps-mpi: | deps
	@if ! command -v $(MPICC) >/dev/null 2>&1 || ! command -v $(MPIRUN) >/dev/null 2>&1; then \
	  echo "deps-mpi: no $(MPICC)/$(MPIRUN); installing $(MPI_APT_PKGS) with apt-get"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y $(MPI_APT_PKGS) || \
	  { echo "deps-mpi: apt-get failed; install $(MPI_APT_PKGS) by hand"; exit 1; }; \
	fi

mpi: $(MPI_BIN) $(MPI_TEST)

# Objects under $(BUILD)/mpi/obj (examples/mpi/*.c and tests/mpi/check_mpi.c),
# compiled by mpicc with -MMD -MP like every other object.
MPI_OBJS := $(MPI_SRCS:examples/mpi/%.c=$(BUILD)/mpi/obj/%.o)
MPI_ALL_OBJS := $(MPI_OBJS) $(BUILD)/mpi/obj/ovica_mpi_train.o $(BUILD)/mpi/obj/check_mpi.o
$(BUILD)/mpi/obj/%.o: examples/mpi/%.c | deps-mpi
	@mkdir -p $(dir $@)
	$(MPICC) $(CFLAGS_ALL) $(DEPFLAGS) -Iinclude -Iexamples/mpi -c $< -o $@
$(BUILD)/mpi/obj/check_mpi.o: tests/mpi/check_mpi.c | deps-mpi
	@mkdir -p $(dir $@)
	$(MPICC) $(CFLAGS_ALL) $(DEPFLAGS) -Iinclude -Iexamples/mpi -c $< -o $@
DEP_FILES += $(MPI_ALL_OBJS:.o=.d)

$(MPI_BIN): $(BUILD)/mpi/obj/ovica_mpi_train.o $(MPI_OBJS) $(LIB_FILES)
	@mkdir -p $(dir $@)
	$(MPICC) $(BUILD)/mpi/obj/ovica_mpi_train.o $(MPI_OBJS) -o $@ $(MPI_LINK)

$(MPI_TEST): $(BUILD)/mpi/obj/check_mpi.o $(MPI_OBJS) $(LIB_FILES)
	@mkdir -p $(dir $@)
	$(MPICC) $(BUILD)/mpi/obj/check_mpi.o $(MPI_OBJS) -o $@ $(MPI_LINK)

check-mpi: mpi
	@sh tests/mpi/run.sh "$(MPIRUN)" $(BUILD)/mpi


# --- the latents benchmark (examples/latents/, docs/LATENTS.md) -----------------
#   make latents        train the character model (~10 min), write its activations,
#                       fit the library and the autoencoders, the toy benchmark,
#                       the frontier plot and the feature browser ($(LATENTS_DIR));
#                       a benchmark, not part of `make check`;
#                       LATENTS_ARGS="..." passes options to compare.py
#   make latents-compare the comparison and browser only (activations kept)
#   make check-latents  the same pipeline at toy size, the browser opened in
#                       headless Chromium; part of `make check`
# PyTorch, the fortunes text and Chromium are benchmark/test dependencies
# only (installed by deps-latents with apt-get), never the library's.
LATENTS_DIR  ?= $(BUILD)/latents
LATENTS_ARGS ?=
LATENTS_APT_PKGS := python3-numpy python3-torch python3-pil fortunes chromium
.PHONY: latents latents-compare check-latents deps-latents
deps-latents:
	@missing=""; \
	$(PYTHON) -c 'import numpy, torch, PIL' >/dev/null 2>&1 || missing="$$missing python3-numpy/torch/pil"; \
	[ -d /usr/share/games/fortunes ] || missing="$$missing fortunes"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "deps-latents: missing:$$missing; installing $(LATENTS_APT_PKGS) with apt-get"; \
	  SUDO=""; [ "$$(id -u)" -ne 0 ] && SUDO=sudo; \
	  $$SUDO apt-get update && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y $(LATENTS_APT_PKGS) || \
	  { echo "deps-latents: apt-get failed; install $(LATENTS_APT_PKGS) by hand"; exit 1; }; \
	fi

# The library at each ratio, and the autoencoders with the toy model, run as
# separate processes side by side, then are joined (compare.py --merge).
LATENTS_LM_ARGS ?=
LATENTS_RATIOS  ?= 4 8
LATENTS_PY       = OPENBLAS_NUM_THREADS=1 nice $(PYTHON) examples/latents/compare.py --data $(LATENTS_DIR) --threads 1
latents: lib | deps-latents
	@mkdir -p $(LATENTS_DIR)
	nice $(PYTHON) examples/latents/charlm.py --out $(LATENTS_DIR) $(LATENTS_LM_ARGS)
	@$(MAKE) --no-print-directory latents-compare

# (the comparison and the browser again, on the activations already written)
latents-compare: lib | deps-latents
	@mkdir -p $(LATENTS_DIR)/parts
	@pids=""; for r in $(LATENTS_RATIOS); do \
	  echo "latents: the library at $${r}x: $(LATENTS_DIR)/parts/ica$$r.log"; \
	  $(LATENTS_PY) --out $(LATENTS_DIR)/parts/ica$$r --parts ica --ratios $$r $(LATENTS_ARGS) \
	    > $(LATENTS_DIR)/parts/ica$$r.log 2>&1 & pids="$$pids $$!"; \
	done; \
	echo "latents: the autoencoders and the toy model: $(LATENTS_DIR)/parts/sae.log"; \
	$(LATENTS_PY) --out $(LATENTS_DIR)/parts/sae --parts sae toy --ratios $(LATENTS_RATIOS) $(LATENTS_ARGS) \
	    > $(LATENTS_DIR)/parts/sae.log 2>&1 || { kill $$pids; cat $(LATENTS_DIR)/parts/sae.log; exit 1; }; \
	for p in $$pids; do wait $$p || { cat $(LATENTS_DIR)/parts/ica*.log; exit 1; }; done; \
	grep -h '^compare:' $(LATENTS_DIR)/parts/*.log
	$(PYTHON) examples/latents/compare.py --data $(LATENTS_DIR) --out $(LATENTS_DIR)/results \
	    --merge $(foreach r,$(LATENTS_RATIOS),$(LATENTS_DIR)/parts/ica$(r)) $(LATENTS_DIR)/parts/sae
	$(PYTHON) examples/latents/browser.py --results $(LATENTS_DIR)/results
	@cat $(LATENTS_DIR)/results/results.md

check-latents: lib | deps-latents
	@sh tests/latents/run.sh $(PYTHON) $(BUILD)/latents-test


# --- install ------------------------------------------------------------------
# The installed program is linked again with its run path set to LIBDIR (the
# one in $(BUILD)/bin points into the source tree). The Python package
# (bindings/python, pure Python) is installed with pip, offline
# (--no-build-isolation: the setuptools and wheel already there), under
# PREFIX (and DESTDIR), in PYTHON_SITEDIR: PREFIX/lib/pythonX.Y/ and
# dist-packages where $(PYTHON) looks there (Debian), else site-packages.
# PIP_INSTALL_FLAGS= installs it into $(PYTHON)'s own environment instead
# (a virtual environment, say). make uninstall leaves it (pip uninstall ovica).
PYTHON_INSTALL ?=
PYTHON_SITEDIR ?= $(shell $(PYTHON) -c 'import sys; v = "python%d.%d" % sys.version_info[:2]; \
    d = "dist-packages" if any(p.endswith(v + "/dist-packages") for p in sys.path) else "site-packages"; \
    print("$(PREFIX)/lib/%s/%s" % (v, d))')
PIP_INSTALL_FLAGS ?= --upgrade --target $(DESTDIR)$(PYTHON_SITEDIR)
CLI_INSTALL_BIN := $(BUILD)/install/ovica
.PHONY: install-bin install-python check-install

$(CLI_INSTALL_BIN): $(CLI_SRCS) $(CLI_HDRS) $(HEADERS) lib | deps deps-cli
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Iinclude $(CLI_DEP_CFLAGS) $(CLI_SRCS) -o $@ \
	    $(LDFLAGS_ALL) -L$(CLI_LIB) -Wl,-rpath,$(LIBDIR) -lovica $(CLI_DEP_LIBS) -lm

install-bin: $(CLI_INSTALL_BIN)
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(CLI_INSTALL_BIN) $(DESTDIR)$(BINDIR)/ovica

install-python: | deps-python
	$(PYTHON) -m pip install --no-build-isolation --no-deps --no-index --no-warn-script-location \
	    $(PIP_INSTALL_FLAGS) ./bindings/python
	rm -rf bindings/python/build bindings/python/ovica.egg-info

install: lib pkgconfig/libovica.pc install-bin $(if $(PYTHON_INSTALL),install-python)
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
	      $(DESTDIR)$(PKGCONFIGDIR)/libovica.pc $(DESTDIR)$(INCLUDEDIR)/ovica.h \
	      $(DESTDIR)$(BINDIR)/ovica
	rm -rf $(DESTDIR)$(INCLUDEDIR)/ovica

# `make install` into a scratch DESTDIR and `pip install` of the binding into
# a fresh virtual environment, each used from outside the source tree
# (tests/python_install.sh); part of check-python.
check-install: lib cli | deps-python
	@sh tests/python_install.sh "$(PYTHON)" "$(MAKE)"

clean:
	rm -rf $(BUILD) lib/libovica.* pkgconfig/libovica.pc bindings/python/build \
	       bindings/python/ovica.egg-info

# --- generated header dependencies ---------------------------------------------
# The .d files that exist are read. An output that exists without its .d
# file (built before the .d files existed, or the .d deleted) says nothing
# about what it includes: it is rebuilt once (FORCE), which writes the .d.
# (The .d is not made a prerequisite of its object: clang writes it after
# the object, which would make every object look out of date.)
DEP_STALE := $(foreach d,$(DEP_FILES),$(if $(wildcard $d),,$(wildcard $(d:.d=.o) $(d:.d=))))
$(DEP_STALE): FORCE
include $(wildcard $(DEP_FILES))
