# libovica: hand-written Makefile.
#   make            build lib/libovica.so.X.Y.Z (+ symlinks) and lib/libovica.a
#   make check      build and run the Check suites, header and symbol checks, CLI tests
#   make demo       build the ovica program and run the article's 2-D experiment
#   make bench      build and run the benchmarks
#   make mpi        the MPI training program (examples/mpi/); make check-mpi its tests
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
# Where the libraries go; the sanitizer builds put theirs under their BUILD.
LIBOUT  := lib
SRCS    := $(sort $(wildcard src/*.c src/*/*.c))
OBJS    := $(SRCS:src/%.c=$(BUILD)/obj/%.o)
HEADERS := include/ovica.h $(sort $(wildcard include/ovica/*.h include/ovica/sys/*.h))

SHLIB   := $(LIBOUT)/libovica.so.$(VERSION)
SONAME  := libovica.so.$(VMAJOR)
STLIB   := $(LIBOUT)/libovica.a

TEST_SRCS := $(sort $(wildcard tests/check_*.c))
TEST_BINS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TEST_UTIL := tests/testutil.c

BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

.PHONY: all lib deps check check-headers check-symbols tests bench install uninstall clean help
.DEFAULT_GOAL := all

all: lib

help:
	@sed -n '2,9p' Makefile

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
lib: $(SHLIB) $(STLIB) $(LIBOUT)/libovica.so $(LIBOUT)/$(SONAME)

$(BUILD)/obj/%.o: src/%.c $(HEADERS) src/internal.h | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fPIC -fvisibility=hidden -DOVICA_BUILDING -Iinclude -Isrc $(DEP_CFLAGS) -c $< -o $@

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
$(BUILD)/tests/%: tests/%.c $(TEST_UTIL) tests/testutil.h $(HEADERS) lib | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Iinclude -Itests $(CHECK_CFLAGS) $(DEP_CFLAGS) $< $(TEST_UTIL) -o $@ \
	    $(LDFLAGS_ALL) -L$(LIBOUT) -Wl,-rpath,$(CURDIR)/$(LIBOUT) -lovica $(CHECK_LIBS) $(DEP_LIBS)

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

check: lib check-headers check-symbols tests check-cli
	@sh tests/run.sh $(TEST_BINS)

# --- benchmarks -----------------------------------------------------------------
$(BUILD)/bench/%: bench/%.c $(HEADERS) lib | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -O3 -Iinclude $(DEP_CFLAGS) $< -o $@ \
	    $(LDFLAGS_ALL) -L$(LIBOUT) -Wl,-rpath,$(CURDIR)/$(LIBOUT) -lovica $(DEP_LIBS)

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

$(BUILD)/fuzz/%: fuzz/%.c $(OBJS) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -Iinclude $(DEP_CFLAGS) $< $(OBJS) -o $@ $(LDFLAGS_ALL) $(DEP_LIBS)

fuzz-bins: $(FUZZ_NAMES:%=$(BUILD)/fuzz/%)

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

$(CLI_BIN): $(CLI_SRCS) $(CLI_HDRS) $(HEADERS) lib | deps deps-cli
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Iinclude $(CLI_DEP_CFLAGS) $(CLI_SRCS) -o $@ \
	    $(LDFLAGS_ALL) -L$(CLI_LIB) -Wl,-rpath,$(CURDIR)/$(CLI_LIB) -lovica $(CLI_DEP_LIBS) -lm

# (the demo's matrices are tiny: BLAS threads only cost time, unless asked for)
demo: $(CLI_BIN)
	OPENBLAS_NUM_THREADS=$${OPENBLAS_NUM_THREADS:-1} $(CLI_BIN) demo --out $(DEMO_DIR)

# tests/cli/separate.sh: `ovica separate` on three espeak-ng voices mixed by
# tests/cli/mixwav.c (libsndfile), which also scores the separated sources.
CLI_MIXWAV := $(BUILD)/cli-test/mixwav
$(CLI_MIXWAV): tests/cli/mixwav.c | deps-cli
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(CLI_DEP_CFLAGS) $< -o $@ $(LDFLAGS_ALL) $(CLI_DEP_LIBS) -lm

check-cli: $(CLI_BIN) $(CLI_MIXWAV)
	@sh tests/cli/run.sh $(CLI_BIN)
	@sh tests/cli/separate.sh $(CLI_BIN) $(CLI_MIXWAV)

# --- examples, the Python binding, the API reference -----------------------------
#   make check-examples  build every examples/*.c (C11) and examples/*.cpp (C++11)
#                        against include/ and the in-tree library, run each with
#                        --quick; part of `make check`
#   make check-python    the Python binding's tests (bindings/python/tests) and
#                        examples/python_walkthrough.py with $(PYTHON); installs
#                        python3-numpy with apt-get if missing; part of `make check`
#   make docs            the API reference from the header comments (Doxygen,
#                        installed with apt-get if missing) in $(BUILD)/docs/html
# The examples use only the public header, as any host would.
PYTHON   ?= /usr/bin/python3
EX_C     := $(sort $(wildcard examples/*.c))
EX_CXX   := $(sort $(wildcard examples/*.cpp))
EX_BINS  := $(EX_C:examples/%.c=$(BUILD)/examples/%) $(EX_CXX:examples/%.cpp=$(BUILD)/examples/%)
EX_LINK   = $(LDFLAGS_ALL) -L$(CLI_LIB) -Wl,-rpath,$(CURDIR)/$(CLI_LIB) -lovica -lm

.PHONY: examples check-examples check-python deps-python docs deps-docs
examples: $(EX_BINS)

$(BUILD)/examples/%: examples/%.c $(HEADERS) | lib deps
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(OPT) $(WARN) $(SAN) $(CFLAGS) -Iinclude $< -o $@ $(EX_LINK)

$(BUILD)/examples/%: examples/%.cpp $(HEADERS) | lib deps
	@mkdir -p $(dir $@)
	$(CXX) -std=c++11 $(OPT) $(WARN) $(SAN) $(CXXFLAGS) -Iinclude $< -o $@ $(EX_LINK)

# image_features whitens with LAPACKE (the example's own use, as any host's) and
# finds the shipped photographs (examples/data/images) wherever it is run from.
# Full run: build/examples/image_features --out DIR (docs/EXAMPLES.md).
$(BUILD)/examples/image_features: examples/image_features.c $(HEADERS) | lib deps
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(OPT) $(WARN) $(SAN) $(CFLAGS) -Iinclude $(DEP_CFLAGS) \
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

# (skipped, saying so, when numpy cannot be had: the binding needs nothing else)
check-python: | lib deps-python
	@if ! $(PYTHON) -c 'import numpy' >/dev/null 2>&1; then \
	  echo "check-python: SKIPPED: no numpy for $(PYTHON)"; exit 0; fi; \
	export OPENBLAS_NUM_THREADS=1 PYTHONPATH=$(CURDIR)/bindings/python; \
	(cd /tmp && $(PYTHON) -c 'import ovica; print("check-python: import ovica:", ovica.__version__, ovica.library_path)') && \
	$(PYTHON) -m unittest discover -s bindings/python/tests -t bindings/python/tests && \
	$(PYTHON) examples/python_walkthrough.py --quick > $(BUILD)/python_walkthrough.log 2>&1 || \
	  { cat $(BUILD)/python_walkthrough.log 2>/dev/null; echo "check-python: FAILED"; exit 1; }; \
	echo "check-python: tests and examples/python_walkthrough.py ok"

check: check-examples check-python

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

$(MPI_BIN): examples/mpi/ovica_mpi_train.c $(MPI_SRCS) $(MPI_HDRS) $(HEADERS) lib | deps-mpi
	@mkdir -p $(dir $@)
	$(MPICC) $(CFLAGS_ALL) -Iinclude -Iexamples/mpi $< $(MPI_SRCS) -o $@ $(MPI_LINK)

$(MPI_TEST): tests/mpi/check_mpi.c $(MPI_SRCS) $(MPI_HDRS) $(HEADERS) lib | deps-mpi
	@mkdir -p $(dir $@)
	$(MPICC) $(CFLAGS_ALL) -Iinclude -Iexamples/mpi $< $(MPI_SRCS) -o $@ $(MPI_LINK)

check-mpi: mpi
	@sh tests/mpi/run.sh "$(MPIRUN)" $(BUILD)/mpi

check: $(if $(HAVE_MPICC),check-mpi)

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

check: check-latents

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
