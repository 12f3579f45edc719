# logvault.aws developer toolchain. Everything here works offline: Ansible Galaxy is
# never contacted; amazon.aws, community.aws and community.general come from the
# pinned `ansible` package in .venv.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
PY := $(BIN)/python
BUILD := $(abspath build)
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL := $(BUILD)/logvault-aws-$(VERSION).tar.gz
# Where `make collection` installs the built collection; every other target uses it.
COLLECTIONS := $(BUILD)/collections
SANITY_TREE := $(BUILD)/sanity/ansible_collections/logvault/aws
SANITY_PYTHON ?= 3.11
LOGVAULT_AWS_PORT ?= 4566

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := true
export ANSIBLE_LOCAL_TEMP := $(BUILD)/ansible-tmp
export ANSIBLE_HOME := $(BUILD)/ansible-home
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv collection lint sanity units integration molecule chaos test demo local-aws clean

help:
	@echo "make demo        build the pipeline in the local AWS emulator and prove that logs flow"
	@echo "make test        every offline test layer: lint, sanity, units, integration, molecule, chaos"
	@echo "make venv        create .venv from requirements-test.txt and build/lambda-venv from lambda-requirements.txt (pinned)"
	@echo "make collection  build logvault.aws and install it into build/collections"
	@echo "make lint | sanity | units | integration | molecule | chaos   one layer each"
	@echo "make local-aws   run the local AWS emulator in the foreground (LOGVAULT_AWS_PORT, default 4566)"

$(VENV)/.installed: requirements-test.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

# The Lambda functions' own interpreter for the local AWS emulator: a venv without pip that
# holds exactly lambda-requirements.txt (the SDK the roles vendor into the zips), and not
# the toolchain's packages. local_aws runs every Lambda invocation with its python.
LAMBDA_VENV := $(BUILD)/lambda-venv

$(LAMBDA_VENV)/.installed: lambda-requirements.txt $(VENV)/.installed
	rm -rf $(LAMBDA_VENV)
	$(PYTHON) -m venv --without-pip $(LAMBDA_VENV)
	$(PY) -m pip --python $(LAMBDA_VENV)/bin/python install --quiet --disable-pip-version-check \
	  --no-deps --no-compile -r lambda-requirements.txt
	$(PY) -m pip --python $(LAMBDA_VENV)/bin/python check
	touch $@

venv: $(VENV)/.installed $(LAMBDA_VENV)/.installed

collection: venv
	mkdir -p $(BUILD)
	rm -f $(TARBALL)
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD) .
	$(BIN)/ansible-galaxy collection install --force --no-deps --offline \
	  -p $(COLLECTIONS) $(TARBALL)

lint: collection
	@echo "== ansible-lint (profile: production)"
	$(BIN)/ansible-lint --offline

# ansible-test must run from ansible_collections/logvault/aws. The tree is a copy of
# the working tree (what git tracks or would track), so sanity also sees tests/.
sanity: venv
	@echo "== ansible-test sanity"
	$(PY) tools/prepare_sanity.py $(SANITY_TREE)
	cd $(SANITY_TREE) && $(BIN)/ansible-test sanity --venv --python $(SANITY_PYTHON) --color no

units: collection
	@echo "== pytest: unit tests, emulator tests, packaging"
	$(PY) -m pytest -p no:cacheprovider -n 2 tests/unit $(wildcard tests/local_aws)

integration: collection
	@echo "== integration: playbooks and modules against the local AWS emulator"
	$(PY) -m pytest -p no:cacheprovider -n 2 tests/integration

molecule: collection
	@echo "== molecule scenarios"
	$(PY) tools/run_molecule.py

# site.yml on the emulator, then a steady load across accounts with faults injected
# (LOGVAULT_AWS_FAULTS); fails if any event is missing from the archive or from search
# (tools/chaos.py; LOGVAULT_CHAOS_PORT, default 4567).
chaos: collection
	@echo "== chaos: the pipeline under injected faults loses nothing"
	$(PY) tools/chaos.py

test: lint sanity units integration molecule chaos
	@echo "== make test: every layer passed"

local-aws: venv
	$(PY) -m local_aws --port $(LOGVAULT_AWS_PORT)

# The pipeline end to end in the local AWS emulator: site.yml then verify.yml against
# inventories/local. Exits 0 only if every canary arrived (tools/demo.py).
demo: collection
	$(PY) tools/demo.py

clean:
	rm -rf $(BUILD) .pytest_cache
