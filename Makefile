# cm: a Linux container manager. `make demo` and `make test` do everything
# on a fresh Debian 12 machine as root; see README.md.

GO      ?= go
BIN     := bin
BUNDLE  := build/bundle
BINARIES := $(notdir $(wildcard cmd/*))
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=0.1.0 -X main.commit=$(VERSION)

# Debian packages, by what needs them.
PKGS_BUILD := gcc libc6-dev libseccomp-dev pkg-config busybox-static musl-tools gperf curl
PKGS_TEST  := $(PKGS_BUILD) iproute2 util-linux qemu-system-x86 xz-utils zstd podman containerd curl iptables runc procps
PKGS_BENCH := $(PKGS_BUILD) runc crun hyperfine
PKGS_CRI   := $(PKGS_BUILD) containerd runc iptables iproute2 util-linux

export PATH := $(PATH):/usr/local/go/bin:/usr/sbin:/sbin

# The standard CNI plugins that cmanagerd's --network none and bridge run
# (through libcni): built from this pinned release via the Go module proxy
# into CNI_DIR, bin/cni by default, where cmanagerd looks first
# (--cni-bin-dir). Nothing of their code is in this repository.
CNI_VERSION ?= v1.10.0
CNI_DIR     ?= $(abspath $(BIN))/cni
CNI_PLUGINS := main/bridge ipam/host-local main/loopback meta/portmap
# At run time: portmap and bridge program the firewall with iptables.
PKGS_RUN   := iptables

.PHONY: all build deps deps-test deps-bench deps-cri bundle demo test unit fuzz bench bench-scale bench-profile cri-test clean docs chaos cni

all: build cni

# install-missing installs only the packages dpkg does not already have.
define install-missing
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call install-missing,$(PKGS_BUILD))
deps-test:
	$(call install-missing,$(PKGS_TEST))
deps-bench:
	$(call install-missing,$(PKGS_BENCH))
deps-cri:
	$(call install-missing,$(PKGS_CRI))

cni:
	$(call install-missing,$(PKGS_RUN))
	@mkdir -p $(CNI_DIR)
	GOBIN=$(CNI_DIR) $(GO) install $(foreach p,$(CNI_PLUGINS),github.com/containernetworking/plugins/plugins/$(p)@$(CNI_VERSION))

# cmrun and cmshim are linked statically: each starts twice per container
# (itself, then the same binary as the container's stage 0 and init), and
# without the dynamic loader neither start maps and relocates libc and
# libseccomp (a static cmshim also keeps less private memory for
# the container's life). netgo and osusergo keep glibc's NSS, which
# a static binary cannot load, out of the net and os/user packages.
# (GOEXPERIMENT=jsonv2 decodes a spec faster in a fresh process, but its
# encoding/json makes the binary 0.75 MB larger, which every run maps,
# and interleaved runs showed no gain in wall time: not used.)
STATIC_TAGS    := netgo,osusergo
STATIC_LDFLAGS := $(LDFLAGS) -linkmode external -extldflags -static
STATIC_BINS    := cmrun cmshim

# musl: the static binaries link musl instead of glibc where musl-gcc and
# a libseccomp built for it are there (runtime/seccomp/libseccomp-musl.sh
# builds one into MUSL_DIR). A static glibc program probes the CPU's
# caches with cpuid as it starts, which traps to the hypervisor on a VM:
# an empty static cgo program starts in 3.0 ms with glibc, 2.1 with musl
# on the VM of the README's numbers. Without musl, glibc it is.
MUSL_DIR := $(abspath build/musl)
MUSL_ENV := CC=musl-gcc \
	CGO_CFLAGS="-I$(MUSL_DIR)/prefix/include -idirafter /usr/include -idirafter /usr/include/$$(gcc -print-multiarch)" \
	CGO_LDFLAGS="-L$(MUSL_DIR)/prefix/lib"

build: deps
	@mkdir -p $(BIN)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...
	@if command -v musl-gcc >/dev/null && runtime/seccomp/libseccomp-musl.sh $(MUSL_DIR); then \
		export $(MUSL_ENV); libc=musl; \
	else \
		echo "musl or its libseccomp is missing: $(STATIC_BINS) link glibc"; libc=glibc; \
	fi; \
	for b in $(STATIC_BINS); do \
		echo "$(GO) build $$b (static, $$libc)"; \
		$(GO) build -tags $(STATIC_TAGS) -ldflags "$(STATIC_LDFLAGS)" -o $(BIN)/$$b ./cmd/$$b || exit 1; \
	done

# The default bundle: a static busybox root filesystem and cmrun's default config.
DEMO := echo "hello from $$(hostname): I am PID $$$$ in my own namespaces"; echo "my root:"; ls /; \
	echo "my processes:"; ps -o pid,user,comm; echo "my capabilities:"; grep Cap /proc/self/status

bundle: build
	tests/mkbundle.sh $(BUNDLE) sh -c '$(DEMO)'

demo: bundle
	cd $(BUNDLE) && ../../$(BIN)/cmrun --root /run/cmrun run --trace demo-$$$$

# tests/vm boots a TCG-emulated VM: it gets the machine to itself, after the
# rest, because sharing two cores with the other packages slows it tenfold.
test: deps-test build cni
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 10m $$($(GO) list ./... | grep -v /tests/vm)
	$(GO) test -count=1 -timeout 4m ./tests/vm

# The manager's chaos test at full size: hundreds of container lifecycles
# while cmanagerd is killed, its state directory filled and its descriptors
# exhausted at random (make test runs a short storm of 100).
chaos: deps-test build
	CM_CHAOS_LIFECYCLES=800 $(GO) test -count=1 -timeout 15m -v -run '^TestManagerChaos$$' ./tests/

unit: build cni
	$(GO) test -count=1 -short ./...

fuzz: build
	$(GO) test -run '^$$' -fuzz FuzzParseConfig -fuzztime 60s ./runtime

# cri-test: Kubernetes' critest through a private containerd, runc and
# cmrun side by side (tests/cri/run.sh; docs/kubernetes.md has the result).
cri-test: deps-cri build
	tests/cri/run.sh $(BIN)/cmrun

# spawnbench: cmrun vs runc vs crun, then cmanagerd with the real cmshim.
# The state table's benchmark (./manager/) counts transitions of tens of
# nanoseconds: it gets the default -benchtime, not 100 iterations.
bench: deps-bench build
	$(GO) run ./bench/cmd/spawnbench --cmrun $(BIN)/cmrun --cmanagerd $(BIN)/cmanagerd --out bench/results
	$(GO) test -run '^$$' -bench . -benchtime 100x ./runtime/ ./runtime/seccomp/ ./cgroupfs/ ./manager/daemon/ | tee bench/results/gobench.txt
	$(GO) test -run '^$$' -bench . ./manager/ | tee -a bench/results/gobench.txt

# Thousands of sleep containers at once through a private cmanagerd; N=4000
# by default (SCALE_N=1000 make bench-scale for a smaller run).
SCALE_N ?= 4000
bench-scale: build
	$(GO) run ./bench/cmd/scalebench --n $(SCALE_N) --cmanagerd $(BIN)/cmanagerd --cmctl $(BIN)/cmctl --out bench/results/scale.md

# The benchmark's podman config measures podman's default seccomp profile
# from a committed copy; this regenerates that copy from podman itself.
bench-profile:
	$(call install-missing,podman runc jq busybox-static)
	bench/profiles/podman-seccomp.sh bench/profiles/podman-4.3-seccomp.json

# The generated diagrams: the state diagram is drawn from manager/transitions.go,
# then copied into the Markdown that shows it. tests/docs_test.go checks both.
docs: build
	$(BIN)/cmctl states --mermaid > docs/states.mmd
	docs/embed.sh docs/states.mmd docs/manager.md

clean:
	rm -rf $(BIN) build
