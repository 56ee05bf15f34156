# Stowage — run `make help` for the targets.
SHELL := /usr/bin/env bash -o pipefail
include hack/versions.env

STOWAGE_CACHE  ?= $(HOME)/.cache/stowage
export STOWAGE_CACHE
CACHE          := $(STOWAGE_CACHE)
CONTROLLER_GEN := $(CACHE)/bin/controller-gen-$(CONTROLLER_TOOLS_VERSION)
IMG            ?= stowage.dev/stowage-operator:dev
GO_TEST_FLAGS  ?= -count=1 -timeout=30m

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z0-9_-]+:.*## /{printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

##@ Development

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Regenerate deepcopy code, CRDs and RBAC with controller-gen.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...
	$(CONTROLLER_GEN) crd rbac:roleName=stowage-operator paths=./... \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: verify-generated
verify-generated: generate ## Fail when committed generated files are stale.
	@git diff --exit-code -- api config/crd config/rbac || \
		{ echo "generated files are stale: run 'make generate' and commit the result" >&2; exit 1; }

.PHONY: fmt vet
fmt: ## gofmt the tree.
	gofmt -w $$(git ls-files '*.go')
vet: ## go vet, and gofmt must have nothing to change.
	go vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
		if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted" >&2; exit 1; fi

.PHONY: build
build: ## Build the operator and the CLI into bin/ (the CLI also as kubectl-stowage, for `kubectl stowage`).
	CGO_ENABLED=0 go build -trimpath -o bin/stowage-operator ./cmd/stowage-operator
	CGO_ENABLED=0 go build -trimpath -o bin/stowage ./cmd/stowage
	ln -sf stowage bin/kubectl-stowage

$(CONTROLLER_GEN):
	mkdir -p $(CACHE)/bin/.cg-$(CONTROLLER_TOOLS_VERSION)
	GOBIN=$(CACHE)/bin/.cg-$(CONTROLLER_TOOLS_VERSION) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)
	mv $(CACHE)/bin/.cg-$(CONTROLLER_TOOLS_VERSION)/controller-gen $@

##@ Tests

.PHONY: test
test: verify-generated vet envtest-assets dataplane-deps ## Unit, envtest and data-plane tests (the README's test command).
	KUBEBUILDER_ASSETS="$$(hack/k8s-binaries.sh)" go test $(GO_TEST_FLAGS) ./...

.PHONY: unit
unit: ## Unit tests only (no API server).
	go test $(GO_TEST_FLAGS) -short ./...

.PHONY: envtest
envtest: envtest-assets ## envtest tests against a real kube-apiserver, etcd and kube-controller-manager.
	KUBEBUILDER_ASSETS="$$(hack/k8s-binaries.sh)" go test $(GO_TEST_FLAGS) -run 'Envtest|Admission' ./...

.PHONY: dataplane dataplane-deps
dataplane: dataplane-deps ## Data-plane tests against real mariadbd/redis-server/nats-server processes on loopback.
	go test $(GO_TEST_FLAGS) -run 'DataPlane' ./...
.PHONY: bench-failover
bench-failover: dataplane-deps ## Kill the MySQL and the Redis primary under write load 30 times each; print the failover time distributions and writes lost.
	STOWAGE_FAILOVER_CYCLES=$${CYCLES:-30} go test -count=1 -timeout=60m -run 'TestDataPlaneFailoverUnderWriteLoad' -v ./operators/mysql/dataplane/ ./operators/redis/dataplane/ | \
		grep -E 'cycle|failover time|distribution|lost|^(ok|FAIL|--- )'
.PHONY: bench-backup
bench-backup: dataplane-deps ## Backup and restore throughput next to mydumper/myloader, mariadb-dump and redis-cli --rdb, measured in one run (ROWS per table, KEYS).
	bash -c 'source hack/lib.sh && apt_install mydumper'
	STOWAGE_BENCH_BACKUP=1 STOWAGE_BENCH_ROWS=$${ROWS:-900000} STOWAGE_BENCH_KEYS=$${KEYS:-1000000} go test -count=1 -timeout=60m -run 'TestBenchBackup' -v \
		./operators/mysql/dataplane/ ./operators/redis/dataplane/ | grep -E '^(\||backup|RDB|---|ok|FAIL|\s+\S+_test.go)'

dataplane-deps: ## Install the database servers the data-plane tier runs (Debian packages).
	hack/dataplane-deps.sh

.PHONY: envtest-assets
envtest-assets: ## Build (once) kube-apiserver, etcd and kube-controller-manager into the cache.
	hack/k8s-binaries.sh >/dev/null

##@ Running

.PHONY: install uninstall
install: ## Install the CRDs into the current kubeconfig's cluster.
	kubectl apply --server-side -k config/crd
uninstall: ## Remove the CRDs (and every Stowage resource with them).
	kubectl delete -k config/crd --ignore-not-found

.PHONY: run
run: install ## Run the operator on this machine against the current kubeconfig.
	go run ./cmd/stowage-operator --metrics-bind-address=:8080 --health-probe-bind-address=:8081

.PHONY: image
image: build ## Build the operator image (FROM scratch: no registry needed).
	docker build -t $(IMG) -f hack/operator.Dockerfile .

##@ Real cluster (kind)

.PHONY: up down images-offline e2e
up: ## A kind cluster "stowage" with the operator and the three samples, Ready (builds offline).
	hack/cluster-up.sh
down: ## Delete the kind cluster.
	hack/cluster-down.sh
images-offline: ## Build every image the cluster needs without a registry (cached).
	hack/images.sh
e2e: ## Bring the cluster up, run test/e2e against it, bring it down.
	hack/e2e.sh

.PHONY: deploy undeploy
deploy: ## Install CRDs, RBAC and the operator Deployment (config/default).
	kubectl apply --server-side -k config/default
undeploy: ## Remove what deploy installed.
	kubectl delete -k config/default --ignore-not-found
