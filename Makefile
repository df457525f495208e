# Everyday commands. `make help` lists them.
SHARED ?= ../shared
RUN    ?= .
N      ?= 100
P      ?= 4
PKG    ?= ./raft
BENCH  ?= .
COUNT  ?= 5

.PHONY: help test short check bench stress kvsim

help:
	@echo "make test                     go test -race ./... (the README's test command)"
	@echo "make short                    go test -short ./... (the quick mode: long course scenarios skipped)"
	@echo "make check                    gofmt, go vet and the drop-in compatibility check"
	@echo "make bench [BENCH=re] [COUNT=5]   Go benchmarks of every package, without -race"
	@echo "make stress PKG=./raft RUN=3C N=100 P=4   rerun tests many times under -race"
	@echo "make kvsim                    the chaos simulation of the key/value service"

test:
	go test -race ./...

short:
	go test -short ./...

check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt: not formatted: $$out"; exit 1; fi
	go vet ./...
	@if [ -x $(SHARED)/tools/compat/check.sh ]; then $(SHARED)/tools/compat/check.sh .; \
	else echo "check: $(SHARED)/tools/compat/check.sh not found; skipping the compatibility check"; fi

bench:
	go test -run '^$$' -bench '$(BENCH)' -benchmem -count $(COUNT) ./...

stress:
	go run ./cmd/stress -race -n $(N) -p $(P) -run '$(RUN)' $(PKG)

kvsim:
	go run ./cmd/kvsim
