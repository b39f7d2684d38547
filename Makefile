# Arca: the two set-up commands are `make run` (dev server) and `make test` (whole suite).
GO          ?= go
GOBIN       := $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck
STATICCHECK_VERSION := v0.8.2
FUZZTIME    ?= 30s
PKGS        := ./...

.PHONY: run build test deps fmt-check vet staticcheck unit fuzz bench vulncheck clean

## run: start a throwaway dev server on 127.0.0.1:8200 (in-memory root key, temp bbolt file)
run:
	$(GO) run ./cmd/arca server --dev

## build: build bin/arca
build:
	$(GO) build -trimpath -o bin/arca ./cmd/arca

## test: everything CI runs: formatting, vet, staticcheck, race-enabled tests (incl. fuzz seed corpora)
test: deps fmt-check vet staticcheck unit

# Debian packages the tests use, as command:package (curl drives the README's
# curl quick start; SoftHSM2 is the PKCS#11 token of the HSM tests).
APT_PACKAGES := curl:curl softhsm2-util:softhsm2 pkcs11-tool:opensc

deps:
	@command -v $(GO) >/dev/null || { echo "Go 1.26+ is required (https://go.dev/dl)"; exit 1; }
	@missing=""; for cp in $(APT_PACKAGES); do command -v $${cp%%:*} >/dev/null || missing="$$missing $${cp#*:}"; done; \
	  if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update && apt-get install -y $$missing; \
	    else echo "missing:$$missing (install them, or run as root on Debian)"; exit 1; fi; \
	  fi
	./scripts/ensure-postgres
	$(GO) mod download
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(STATICCHECK) $(PKGS)

unit:
	$(GO) test -race -count=1 -timeout 15m $(PKGS)

## fuzz: run each fuzz target for FUZZTIME
fuzz:
	@for t in $$($(GO) test -list '^Fuzz' ./internal/crypto | grep ^Fuzz); do $(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) ./internal/crypto || exit 1; done
	@for t in $$($(GO) test -list '^Fuzz' ./internal/shamir | grep ^Fuzz); do $(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) ./internal/shamir || exit 1; done
	@for t in $$($(GO) test -list '^Fuzz' ./internal/api/rest | grep ^Fuzz); do $(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) ./internal/api/rest || exit 1; done

## bench: micro-benchmarks of the hot paths
bench:
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS)

## vulncheck: needs network access to vuln.go.dev
vulncheck:
	$(GO) run golang.org/x/vuln/cmd/govulncheck@v1.9.0 $(PKGS)

clean:
	rm -rf bin arca-data
