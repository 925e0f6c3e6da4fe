# anfu: the two commands that matter are `make run` and `make test`.
# Both install missing Debian packages first (scripts/deps.sh).

DATA ?= $(CURDIR)/var
ADMIN ?= opsadmin
MESON_FLAGS ?=

.PHONY: all build run test test-repeat bench lint fuzz clean deps mutate soak

all: build

deps:
	@scripts/deps.sh build

# Production build: no test hooks. Binaries: build/anfud, build/anfu.
build: deps
	@test -f build/build.ninja || meson setup build -Dtest_hooks=false -Dtests=false $(MESON_FLAGS) >/dev/null
	@ninja -C build

# Initialises $(DATA) on first use, then runs the server in the foreground.
run: build
	@scripts/run.sh "$(DATA)" "$(ADMIN)"

# Everything: unit, fuzz replay, API tests; normal and ASan+UBSan builds.
# How the counts are made: docs/testing.md.
test:
	@scripts/test.sh

# `make test` N times in a row (default 10): `make test-repeat 10` or
# `make test-repeat N=10`. Ends with "K of N runs passed" and the failing
# tests of each failed run; logs in build-repeat/.
ifeq (test-repeat,$(firstword $(MAKECMDGOALS)))
  REPEAT_ARG := $(word 2,$(MAKECMDGOALS))
  ifneq ($(REPEAT_ARG),)
    N := $(REPEAT_ARG)
    $(eval $(REPEAT_ARG):;@:)
  endif
endif
N ?= 10
test-repeat:
	@scripts/test-repeat.sh $(N)

# The mutation suite (not part of `make test`): every mutant of
# tests/mutants/*.toml must be killed by the tests it names (docs/testing.md).
# MUTANTS='glob' runs only the matching ones.
mutate: deps
	@scripts/deps.sh test
	@scripts/mutate.py $(if $(MUTANTS),--only '$(MUTANTS)')

# The ledger's crash harness (tests/api/test_ledger_crash.py) for 1,000
# kill -9 rounds instead of `make test`'s 20; ROUNDS=N for another count.
ROUNDS ?= 1000
soak: deps
	@scripts/deps.sh test
	@test -f build-test/build.ninja || meson setup build-test -Dtest_hooks=true >/dev/null
	@ninja -C build-test
	@test -f build/build.ninja || meson setup build -Dtest_hooks=false -Dtests=false >/dev/null
	@ninja -C build
	@ANFU_LEDGER_CRASH_ROUNDS=$(ROUNDS) ANFU_BUILD_DIR=$(CURDIR)/build-test \
	  ANFU_PROD_BUILD_DIR=$(CURDIR)/build pytest-3 -q -p no:cacheprovider \
	  tests/api/test_ledger_crash.py

# Needs the production build and, for the login benchmark, the test-hooks
# build (it registers its users through the test hooks).
bench: build
	@scripts/deps.sh bench
	@test -f build-test/build.ninja || meson setup build-test -Dtest_hooks=true >/dev/null
	@ninja -C build-test
	@bench/run.sh

lint: deps
	@scripts/lint.sh

# libFuzzer builds (clang); each target runs for FUZZ_SECONDS.
fuzz:
	@scripts/deps.sh build
	@scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf build build-test build-asan build-fuzz build-bench build-repeat build-mutate
