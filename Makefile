# atlas: the Terraform provider, its emulator harness and the roots that use it.
#
#   make demo    build and install the provider, start the local AWS emulator,
#                and terraform init + apply terraform/staging, staging2 and
#                production against it
#   make test    every test (what .ci/run runs)
#
# The cargo target directory is cargo's own choice: set CARGO_TARGET_DIR to share
# one (CI uses $HOME/.cache/atlas-provider/target).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

CARGO ?= cargo
PYTHON3 ?= python3
VENV := .venv
VENV_STAMP := $(VENV)/.installed
EMULATOR := tests/emulator/ctl.sh
TF_DIRS := $(wildcard terraform examples)

.PHONY: help venv build release install docs demo demo-destroy tf emulator-start emulator-stop \
	test bench fmt lint clean

help:
	@echo "make demo            install everything, start the emulator, apply the three roots"
	@echo "make demo-destroy    destroy what the demo applied, in reverse order"
	@echo "make tf [ROOT=staging2] ARGS=...  run a terraform command in a root on the emulator"
	@echo "make emulator-start  start the local AWS emulator in the background"
	@echo "make emulator-stop   stop it"
	@echo "make test            every test: unit tests and acceptance tests on the emulator"
	@echo "make bench           one table: start-up, schema time, peak RSS, binary size, AWS calls, apply vs critical path"
	@echo "make build           build the provider (release)"
	@echo "make release         build it and pack a registry release into dist/ (VERSION=x.y.z)"
	@echo "make install         make release, then install its zips into the repository's mirror"
	@echo "make docs            regenerate docs/ from the provider's schema and examples/"
	@echo "make venv            create .venv with the emulator (moto) and boto3"
	@echo "make fmt | lint      format | check formatting and lints (Rust and HCL)"
	@echo "make clean           remove generated files (not .venv, not cargo's target dir)"

# The emulator's virtualenv, installed again only when the requirements change.
venv: $(VENV_STAMP)

$(VENV_STAMP): tests/emulator/requirements.txt
	$(PYTHON3) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r tests/emulator/requirements.txt
	touch $@

# The release build of the whole workspace, tests included, exactly as `make test` builds
# it: one feature set and one set of artefacts, so demo, install and test never rebuild the
# AWS SDK for each other. The provider binary is target/release/terraform-provider-atlas.
build:
	$(CARGO) test --release --workspace --no-run

# The registry release of the crate's version (VERSION, if given, must equal it): zips,
# manifest, SHA256SUMS and, with GPG_FINGERPRINT or GPG_KEY_ID set, its signature.
release: build
	scripts/release.sh $(if $(VERSION),--version $(VERSION))

# Exactly the zips `make release` wrote, into the mirror that `terraform init` reads.
install: release
	scripts/install-provider.sh

# The registry docs, rendered from the schema the built provider answers with.
docs: build
	ATLAS_WRITE_DOCS=1 $(CARGO) test --release --workspace --test docs

demo: venv install
	scripts/demo.sh

demo-destroy:
	scripts/demo-destroy.sh

tf:
	TF_ROOT=$(or $(ROOT),staging) scripts/tf.sh $(ARGS)

emulator-start: venv
	$(EMULATOR) start

emulator-stop:
	$(EMULATOR) stop

# The tests use the package `make install` put into the mirror, from the same build.
test: venv install
	scripts/require-terraform.sh
	$(CARGO) test --release --workspace --no-fail-fast

# The runtime's figures, side by side in one run: start-up to handshake, GetProviderSchema,
# peak RSS over a plan of terraform/staging, binary size, the AWS calls of a no-op plan of
# staging, and its apply with 50 ms per AWS call against the critical path.
# Run through `cargo test` so that it reuses the workspace's release build (same profile,
# same features) instead of compiling the AWS SDK again under the bench profile.
bench: venv install
	$(CARGO) test --release --workspace --bench runtime

fmt:
	$(CARGO) fmt --all
	scripts/require-terraform.sh
	terraform fmt -recursive $(TF_DIRS)

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	scripts/require-terraform.sh
	terraform fmt -check -recursive -diff $(TF_DIRS)

clean:
	$(EMULATOR) stop
	rm -rf .build dist .terraform-mirror .terraformrc.generated
	find terraform -name .terraform -type d -prune -exec rm -rf {} +
