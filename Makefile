# snapconf: the root Makefile drives CMake into build/ and installs the
# Debian packages the build needs.  `make demo` and `make test` are all the
# set-up a fresh Debian 12 machine needs.

BUILD_DIR  ?= build
BUILD_TYPE ?= RelWithDebInfo
CMAKE      ?= cmake
CTEST      ?= ctest
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
DEPS_FILE  := packaging/debian-build-deps.txt
DEPS       := $(shell sed -e 's/\#.*//' $(DEPS_FILE))

ASAN_DIR   ?= build-asan
TSAN_DIR   ?= build-tsan
FUZZ_DIR   ?= build-fuzz
# Seconds per fuzz target: `make fuzz` (local) and `make test-fuzz` (CI).
FUZZ_SECONDS    ?= 600
FUZZ_CI_SECONDS ?= 60
# libFuzzer's per-input limit: every saved input runs in milliseconds, but a
# shared CI machine can stall a process for seconds.
FUZZ_TIMEOUT    ?= 30

.PHONY: all deps configure build test test-main test-asan test-tsan test-fuzz fuzz lint demo bench \
        bench-quick clean format distclean install deb lint-deb

all: build

# Install whatever Debian packages are missing: with apt-get when we are root,
# otherwise print the exact command and stop.
deps:
	@missing=""; for p in $(DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "Missing Debian packages. Run:"; \
	    echo "  sudo apt-get install -y$$missing"; \
	    exit 1; \
	  fi; \
	fi

$(BUILD_DIR)/CMakeCache.txt: | deps
	$(CMAKE) -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: deps $(BUILD_DIR)/CMakeCache.txt

build: configure
	$(CMAKE) --build $(BUILD_DIR) -j $(JOBS)

# The whole suite in the normal build (gcc, -Wall -Wextra -Werror), the unit
# and live tests again under valgrind memcheck, the whole suite with
# AddressSanitizer and UndefinedBehaviorSanitizer (the main reader/writer
# torture included), everything but the benchmarks with ThreadSanitizer, and
# clang-tidy, then the libFuzzer targets for a minute each.  This is what CI
# runs (.ci/run).
test: test-main test-asan test-tsan lint test-fuzz

test-main: build
	$(CTEST) --test-dir $(BUILD_DIR) --output-on-failure -LE "torture|valgrind" -j $(JOBS)
	$(CTEST) --test-dir $(BUILD_DIR) --output-on-failure -L torture
	$(CTEST) --test-dir $(BUILD_DIR) --output-on-failure -L valgrind -j $(JOBS)

test-asan: deps
	$(CMAKE) -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DSNAPCONF_SANITIZE=address,undefined
	$(CMAKE) --build $(ASAN_DIR) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(CTEST) --test-dir $(ASAN_DIR) --output-on-failure -LE "bench|torture" -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  $(CTEST) --test-dir $(ASAN_DIR) --output-on-failure -L torture

# The tests with threads (unit, live, daemon, fault injection) under
# ThreadSanitizer; the CLI and conformance tests, one single-threaded process
# per case, add nothing there.  liburcu's grace periods are made visible to
# TSan by annotations in src/reclaim.c; there is no suppression file, so any
# report fails.
test-tsan: deps
	$(CMAKE) -S . -B $(TSAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DSNAPCONF_SANITIZE=thread
	$(CMAKE) --build $(TSAN_DIR) -j $(JOBS)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  $(CTEST) --test-dir $(TSAN_DIR) --output-on-failure -L "unit|live|daemon|fault" -LE torture -j $(JOBS)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  $(CTEST) --test-dir $(TSAN_DIR) --output-on-failure -L torture

lint: configure
	@sh scripts/lint.sh $(BUILD_DIR)

# libFuzzer targets (tests/fuzz/README.md): clang, ASan and UBSan over the
# whole tree in $(FUZZ_DIR).  test-fuzz replays the saved regressions and
# fuzzes each target for $(FUZZ_CI_SECONDS) s; fuzz does the same for
# $(FUZZ_SECONDS) s per target, keeping the corpus between runs.
# $(call fuzz_build,SECONDS) configures and builds the targets.
define fuzz_build
	CC=clang CXX=clang++ $(CMAKE) -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DSNAPCONF_SANITIZE=address,undefined -DSNAPCONF_FUZZ=ON -DSNAPCONF_FUZZ_SECONDS=$(1) \
	  -DSNAPCONF_FUZZ_TIMEOUT=$(FUZZ_TIMEOUT)
	$(CMAKE) --build $(FUZZ_DIR) --target fuzz-targets -j $(JOBS)
endef

test-fuzz: deps
	$(call fuzz_build,$(FUZZ_CI_SECONDS))
	$(CTEST) --test-dir $(FUZZ_DIR) --output-on-failure -L '^fuzz_regress$$'
	$(CTEST) --test-dir $(FUZZ_DIR) --output-on-failure -L '^fuzz$$'

fuzz: deps
	$(call fuzz_build,$(FUZZ_SECONDS))
	$(CTEST) --test-dir $(FUZZ_DIR) --output-on-failure -L '^fuzz_regress$$'
	$(CTEST) --test-dir $(FUZZ_DIR) --output-on-failure -V -L '^fuzz$$'

demo: build
	@sh scripts/demo.sh $(BUILD_DIR)

# The benchmark suite (about 3.5 minutes on 2 cores): results (CSV,
# Markdown) and PNG plots in $(BUILD_DIR)/bench/, then the daemon's figures
# (results-daemon.*); bench/README.md says what each figure means.
bench: build
	$(CMAKE) --build $(BUILD_DIR) --target bench-run
	$(CMAKE) --build $(BUILD_DIR) --target bench-daemon-run

# The same in seconds, for CI smoke runs: $(BUILD_DIR)/bench-quick/.
bench-quick: build
	$(CMAKE) --build $(BUILD_DIR) --target bench-quick-run

# Builds and installs: `make install [PREFIX=/usr] [DESTDIR=/tmp/stage]`.
PREFIX ?=
install: deps
	$(CMAKE) -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  $(if $(PREFIX),-DCMAKE_INSTALL_PREFIX=$(PREFIX))
	$(CMAKE) --build $(BUILD_DIR) -j $(JOBS)
	DESTDIR=$(DESTDIR) $(CMAKE) --install $(BUILD_DIR)

# Debian packages (libsnapconf0, libsnapconf-dev, snapconf) from the working
# tree, built with dpkg-buildpackage in a temporary copy, into $(DEB_DIR),
# then checked with lintian, whose errors fail (packaging/README.md).
# lint-deb runs lintian again on what is in $(DEB_DIR).
DEB_DIR ?= build-deb
deb: deps
	JOBS=$(JOBS) bash packaging/build-deb.sh $(DEB_DIR)

lint-deb: deps
	lintian --fail-on error --display-info --display-experimental --pedantic \
	  --tag-display-limit 0 $(DEB_DIR)/*.changes

format:
	clang-format -i include/*.h src/*.c src/*.h src/*/*.c tests/*/*.c bench/*.c

clean:
	-$(CMAKE) --build $(BUILD_DIR) --target clean

distclean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR) $(FUZZ_DIR) $(DEB_DIR)
