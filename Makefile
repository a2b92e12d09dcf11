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

.PHONY: all deps configure build test demo bench clean format distclean

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

test: build
	$(CTEST) --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

demo: build
	@sh scripts/demo.sh $(BUILD_DIR)

bench: build
	$(CMAKE) --build $(BUILD_DIR) --target bench-run

format:
	clang-format -i include/*.h src/*.c src/*.h src/*/*.c tests/*/*.c bench/*.c

clean:
	-$(CMAKE) --build $(BUILD_DIR) --target clean

distclean:
	rm -rf $(BUILD_DIR)
