# voiceorder: `make demo` places a spoken order end to end on the embedded defaults;
# `make test` runs every test with the race detector. Both install the Debian packages
# they need first (see scripts/install-deps.sh).

GO ?= go
TEST_TIMEOUT ?= 30m

.PHONY: all deps build demo serve test bench vet

all: build

deps:
	./scripts/install-deps.sh

build: deps
	$(GO) build -o bin/voiceorder ./cmd/voiceorder

demo: build
	./bin/voiceorder demo

serve: build
	./bin/voiceorder serve

vet: deps
	$(GO) vet ./...

test: deps
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...
