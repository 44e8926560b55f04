# The two entry points (see README): `make run` and `make test`. Both install what they need first.
SHELL := /bin/bash
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
VENV := .venv
PYTHON := $(CURDIR)/$(VENV)/bin/python
SWIFT_TEST_FLAGS ?=

.PHONY: run test check-imports setup-system setup-python build release bench fuzz clean

## Build and start the main job: a local shard of node processes on the simulated (insecure) platform, attested
## to each other over EKEP, generating the shard key; then the demo (regtest deposits, their mints signed by the
## shard and checked, a sweep of the custody coins) over JSON-RPC, and every process stops.
NODES ?= 4
run: setup-system
	swift build -c release --product darknode
	.build/release/darknode localnet --nodes $(NODES) --demo

## Every test, with the Python oracles installed in a virtualenv. Test data is in Tests/Fixtures. With the
## virtualenv in place the oracle tests are required: a missing oracle fails them instead of skipping.
## First (a second or two) scripts/check-imports: Package.swift declares exactly what each target imports, the
## shipped darknode links no test-only target, and docs/ARCHITECTURE.md shows the real import graph.
test: setup-system setup-python
	scripts/check-imports
	DARKNODE_PYTHON=$(PYTHON) DARKNODE_REQUIRE_ORACLES=1 swift test $(SWIFT_TEST_FLAGS)

# libsecp256k1 for the primitives; python3 for the oracles; iproute2 and iptables for the partition test.
APT_PACKAGES := libsecp256k1-dev pkg-config python3 python3-venv iproute2 iptables
setup-system:
	@if ! pkg-config --exists libsecp256k1 2>/dev/null || ! command -v python3 >/dev/null \
	    || ! command -v iptables >/dev/null || ! command -v ip >/dev/null; then \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $(APT_PACKAGES); \
	fi

setup-python: $(VENV)/.installed

$(VENV)/.installed: requirements-test.txt
	@test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --disable-pip-version-check -r requirements-test.txt
	@touch $@

## The import check alone (see test).
check-imports:
	scripts/check-imports

build:
	swift build

## The reproducible release build of `darknode` (docs/releases.md): prints its path and SHA-256. Slow; not part of
## `make test`. scripts/check-reproducible builds it twice from two clones and compares.
release: setup-system
	scripts/release-build

## Benchmarks: see BENCHMARKS.md for each figure's command.
bench: setup-system
	swift run -c release bench all

## Coverage-guided fuzzing (libFuzzer with AddressSanitizer): builds .build/fuzz/darknode-fuzz, then runs every target
## for FUZZ_SECONDS each (corpora kept in .build/fuzz/work). Exits non-zero on a crash or finding. See docs/fuzzing.md.
FUZZ_SECONDS ?= 60
fuzz: setup-system
	scripts/fuzz/build
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz/run

clean:
	rm -rf .build $(VENV)
