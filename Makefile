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
# curl quick start; SoftHSM2 is the PKCS#11 token of the HSM tests; the AWS
# CLI, boto3 and PyKMIP are the real clients of the standard interfaces).
APT_PACKAGES := curl:curl softhsm2-util:softhsm2 pkcs11-tool:opensc aws:awscli
# Python modules the tests use, as module:package (for /usr/bin/python3).
APT_PYTHON := boto3:python3-boto3 kmip:python3-pykmip cryptography:python3-cryptography
# SOPS, a real client of the AWS-KMS-compatible and Transit APIs.
SOPS := $(GOBIN)/sops
SOPS_VERSION := v3.13.3

deps:
	@command -v $(GO) >/dev/null || { echo "Go 1.26+ is required (https://go.dev/dl)"; exit 1; }
	@missing=""; for cp in $(APT_PACKAGES); do test -x /usr/bin/$${cp%%:*} || missing="$$missing $${cp#*:}"; done; \
	  for mp in $(APT_PYTHON); do /usr/bin/python3 -c "import $${mp%%:*}" 2>/dev/null || missing="$$missing $${mp#*:}"; done; \
	  if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update && apt-get install -y $$missing; \
	    else echo "missing:$$missing (install them, or run as root on Debian)"; exit 1; fi; \
	  fi
	./scripts/ensure-postgres
	$(GO) mod download
	@test -x $(STATICCHECK) || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	@test -x $(SOPS) || $(GO) install github.com/getsops/sops/v3/cmd/sops@$(SOPS_VERSION)

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
FUZZ_PKGS := ./internal/crypto ./internal/shamir ./internal/access ./internal/api/rest ./internal/api/kmip/ttlv \
	./internal/api/awskms/sigv4 ./internal/api/transit ./internal/kubekms
fuzz:
	@for p in $(FUZZ_PKGS); do for t in $$($(GO) test -list '^Fuzz' $$p | grep ^Fuzz); do \
	  $(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) $$p || exit 1; done; done

## bench: micro-benchmarks of the hot paths
bench:
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS)

## vulncheck: needs network access to vuln.go.dev
vulncheck:
	$(GO) run golang.org/x/vuln/cmd/govulncheck@v1.9.0 $(PKGS)

clean:
	rm -rf bin arca-data
