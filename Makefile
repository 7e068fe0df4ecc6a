# make check: what CI runs (.ci/run) and what a developer runs before pushing.
GO      ?= go
PKGS    ?= ./...
TIMEOUT ?= 40m
FUZZTIME ?= 10s
# MinIO for the store/s3 tests, built once from the Go module proxy and cached.
MINIO_VERSION ?= v0.0.0-20260212201848-7aac2a2c5b7c
MINIO_BIN     ?= $(HOME)/.cache/airgap/bin/minio
export MINIO_BIN
# The OCI distribution-spec conformance suite, run read-only against `airgap serve` by
# examples/airgap's TestOCIConformance; built once from the Go module proxy and cached.
OCI_CONFORMANCE_VERSION ?= v0.0.0-20260831232431-97274622c111
OCI_CONFORMANCE_BIN     ?= $(HOME)/.cache/airgap/bin/oci-conformance-$(OCI_CONFORMANCE_VERSION)
export OCI_CONFORMANCE_BIN
# The real helm CLIs (v4 and v3, both in use) for the helm package's real-client tests,
# built once from the Go module proxy and cached.
HELM4_VERSION ?= v4.3.2
HELM3_VERSION ?= v3.21.4
HELM4_BIN     ?= $(HOME)/.cache/airgap/bin/helm-$(HELM4_VERSION)
HELM3_BIN     ?= $(HOME)/.cache/airgap/bin/helm-$(HELM3_VERSION)
export HELM4_BIN HELM3_BIN
# The real trivy for examples/airgap's offline-scan test, built once from the Go module
# proxy and cached (trivy needs GOEXPERIMENT=jsonv2, as its release build sets).
TRIVY_VERSION ?= v0.74.0
TRIVY_BIN     ?= $(HOME)/.cache/airgap/bin/trivy-$(TRIVY_VERSION)
export TRIVY_BIN

# snapd's own store client (`snap download`) for the snapproxy and site real-client
# tests: Debian's snapd package unpacked into a cache, not installed (installing it
# would pull in systemd and udev).
SNAPD_DIR ?= $(HOME)/.cache/airgap/snapd
export PATH := $(SNAPD_DIR)/usr/bin:$(PATH)

.PHONY: check deps minio conformance snapd helm trivy fmt vet test bench fuzz demo

check: deps minio conformance snapd helm trivy fmt vet test

# Install the real clients the integration tests drive (Debian packages listed in
# .ci/packages) when any is missing. Needs root; otherwise the tests that need a missing
# client skip (and fail under CI=true).
deps:
	@missing=$$(for p in $$(cat .ci/packages); do dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q '^install ok installed' || echo "$$p"; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing:" $$missing; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
		else \
			echo "not root: cannot install" $$missing "(tests that need them will skip)"; \
		fi; \
	fi

snapd:
	@if [ ! -x "$(SNAPD_DIR)/usr/bin/snap" ]; then \
		echo "unpacking Debian's snapd (once; cached in $(SNAPD_DIR))"; \
		tmp=$$(mktemp -d) && (cd "$$tmp" && apt-get download -qq snapd) && mkdir -p "$(SNAPD_DIR)" && dpkg-deb -x "$$tmp"/snapd_*.deb "$(SNAPD_DIR)" && rm -rf "$$tmp"; \
	fi

minio:
	@if [ ! -x "$(MINIO_BIN)" ]; then \
		echo "building minio $(MINIO_VERSION) (once; cached in $(dir $(MINIO_BIN)))"; \
		GOBIN="$(dir $(MINIO_BIN))" $(GO) install github.com/minio/minio@$(MINIO_VERSION); \
	fi

conformance:
	@if [ ! -x "$(OCI_CONFORMANCE_BIN)" ]; then \
		echo "building the OCI conformance suite $(OCI_CONFORMANCE_VERSION) (once; cached in $(dir $(OCI_CONFORMANCE_BIN)))"; \
		tmp=$$(mktemp -d) && \
		GOBIN="$$tmp" $(GO) install github.com/opencontainers/distribution-spec/conformance@$(OCI_CONFORMANCE_VERSION) && \
		mkdir -p "$(dir $(OCI_CONFORMANCE_BIN))" && mv "$$tmp/conformance" "$(OCI_CONFORMANCE_BIN)" && rmdir "$$tmp"; \
	fi

helm:
	@build() { \
		if [ ! -x "$$3" ]; then \
			echo "building helm $$2 (once; cached in $(dir $(HELM4_BIN)))"; \
			tmp=$$(mktemp -d) && GOBIN="$$tmp" $(GO) install helm.sh/helm/$$1/cmd/helm@$$2 && \
			mkdir -p "$$(dirname "$$3")" && mv "$$tmp/helm" "$$3" && rmdir "$$tmp"; \
		fi; \
	}; build v4 $(HELM4_VERSION) "$(HELM4_BIN)" && build v3 $(HELM3_VERSION) "$(HELM3_BIN)"

trivy:
	@if [ ! -x "$(TRIVY_BIN)" ]; then \
		echo "building trivy $(TRIVY_VERSION) (once; cached in $(dir $(TRIVY_BIN)))"; \
		tmp=$$(mktemp -d) && \
		GOBIN="$$tmp" GOEXPERIMENT=jsonv2 CGO_ENABLED=0 $(GO) install \
			-ldflags "-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=$(TRIVY_VERSION:v%=%)" \
			github.com/aquasecurity/trivy/cmd/trivy@$(TRIVY_VERSION) && \
		mkdir -p "$(dir $(TRIVY_BIN))" && mv "$$tmp/trivy" "$(TRIVY_BIN)" && rmdir "$$tmp"; \
	fi

fmt:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet -tags demo $(PKGS)

test:
	$(GO) test -race -tags demo -timeout $(TIMEOUT) $(PKGS)

# Every Fuzz function for FUZZTIME each (default 10s): make fuzz FUZZTIME=1m
fuzz:
	FUZZTIME=$(FUZZTIME) .ci/fuzz

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

demo:
	$(GO) run -tags demo ./examples/airgap demo
