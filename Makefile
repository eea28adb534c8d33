# apssh-swift — `make demo` and `make test` work on a fresh Debian machine.
SWIFT ?= swift
DEMO_DIR ?= $(CURDIR)/.build/demo

.PHONY: all deps build release test demo bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Every test: unit tests and the SSH tests against a testbed of real sshd hosts they start themselves.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

demo: release
	scripts/demo.sh

bench: release
	scripts/bench.sh

clean:
	rm -rf .build
