# Two commands matter: `make run` and `make test`. Everything else is a step they depend on.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-lambda-python venv lint cfn-lint unit integration e2e bench train eval openapi lock clean \
	audit load fuzz browser screenshots

# The venv holds what every Lambda package holds (functions/requirements.txt, through the dev lock) and
# ClassifierLayer's numpy: the tests, the local stack and the benchmarks run the classifier in-process.
LAYER_REQUIREMENTS := layers/classifier/requirements.txt

$(STAMP): requirements-dev.txt functions/requirements.txt $(LAYER_REQUIREMENTS) pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> installing pinned dependencies into $(VENV) (first run takes a minute)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt \
		-r $(LAYER_REQUIREMENTS)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/moderato local --demo

test: $(STAMP) lint cfn-lint browser
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q
	@$(MAKE) --no-print-directory test-lambda-python

# Lambda runs python3.13: the unit and integration layers run again under it, in their own venv, when
# this machine has a 3.13 interpreter (on PATH, or installed by pyenv); otherwise say so and go on.
LAMBDA_PYTHON ?= $(firstword $(foreach p,python3.13 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13),\
	$(if $(shell $(p) -c 'import sys; print(sys.version_info[:2] == (3, 13))' 2>/dev/null | grep True),$(p))))
LAMBDA_VENV := .venv-py313

test-lambda-python: $(STAMP)
ifeq ($(strip $(LAMBDA_PYTHON)),)
	@echo "==> no python3.13 on this machine: skipped the unit and integration tests under Lambda's Python"
else
	@test -x $(LAMBDA_VENV)/bin/python || $(LAMBDA_PYTHON) -m venv $(LAMBDA_VENV)
	@test -f $(LAMBDA_VENV)/.installed -a $(LAMBDA_VENV)/.installed -nt requirements-dev.txt \
		-a $(LAMBDA_VENV)/.installed -nt $(LAYER_REQUIREMENTS) || ( \
		echo "==> installing pinned dependencies into $(LAMBDA_VENV) ($$($(LAMBDA_VENV)/bin/python --version))" && \
		$(LAMBDA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3 && \
		$(LAMBDA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt \
			-r $(LAYER_REQUIREMENTS) && \
		$(LAMBDA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e . && \
		touch $(LAMBDA_VENV)/.installed)
	@echo "==> unit and integration tests under $$($(LAMBDA_VENV)/bin/python --version), the Lambda runtime's"
	$(LAMBDA_VENV)/bin/python -m pytest -n 2 -q -p no:cacheprovider tests/unit tests/integration
endif

# mypy proves that handlers, adapters and fakes satisfy their ports (config in pyproject.toml); bandit
# fails on medium and high findings (offline), each silenced one carries a nosec comment saying why.
lint: $(STAMP)
	$(BIN)/ruff check functions infra tests bench training
	$(BIN)/mypy
	$(BIN)/bandit -q -c pyproject.toml --severity-level medium -r functions infra

# Known vulnerabilities in every pinned package (Lambda, dev, training), from PyPI's vulnerability data:
# needs the network. --strict fails when a package could not be looked up, so an unreachable service
# reads as "NOT audited", never as clean. Not part of `make test`, which must pass offline.
audit: $(STAMP)
	$(BIN)/bandit -q -c pyproject.toml --severity-level medium -r functions infra
	@$(BIN)/pip-audit --strict --disable-pip --require-hashes -r functions/requirements.txt \
		-r $(LAYER_REQUIREMENTS) -r requirements-dev.txt -r requirements-train.txt \
		|| { echo "==> pip-audit failed: a known \
	vulnerability above, or PyPI's vulnerability data could not be reached (then NOTHING was audited)"; exit 1; }

# Signed deliveries against a local stack whose AWS calls fail (FAULT) and whose triage crashes once;
# DUP is the share sent twice. Prints accepted, rejected, cases, DLQ, lost, deliveries/s overall and per
# 500, receipt-to-case p50/p95; exits 1 if lost. RATE caps the deliveries offered per second (0: as fast
# as answered). CONCURRENCY 8: deliveries in flight, as a platform's burst would have them.
N ?= 100
DUP ?= 0.1
FAULT ?= 0.05
CONCURRENCY ?= 8
load: $(STAMP)
	$(BIN)/moderato load --n $(N) --dup $(DUP) --fault $(FAULT) --concurrency $(CONCURRENCY) --rate $(or $(RATE),0)

# The console's browser tests drive Debian's chromium (never a browser Playwright downloads). Installed
# here when missing, as root; otherwise they are skipped and this says why.
CHROMIUM := /usr/bin/chromium
browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then echo "==> installing chromium for the console's browser tests" && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	else echo "==> $(CHROMIUM) missing and not root: the console's browser tests (tests/e2e/test_console.py) \
	will be skipped; install Debian's chromium package to run them"; fi

# Pictures of the console's main views (docs/console/*.png), taken by its browser tests.
screenshots: $(STAMP) browser
	CONSOLE_SCREENSHOTS=docs/console $(BIN)/python -m pytest -q -n 0 -p no:cacheprovider tests/e2e/test_console.py

cfn-lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest -q tests/integration

e2e: $(STAMP)
	$(BIN)/python -m pytest -q tests/e2e

# Property-based fuzzing of the parsers and handlers, and the forgery suite, with many more examples
# than `make test` runs (FUZZ_EXAMPLES per property, random seeds); each test prints its input counts.
FUZZ_EXAMPLES ?= 5000
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/fuzz \
		tests/unit/security/test_forgery.py

bench: $(STAMP)
	$(BIN)/python -m bench

# USD per million posts, item by item, from the calls, units, log bytes and CPU time measured against moto
# (bench/cost.py states its prices, their date, and what it assumes).
cost: $(STAMP)
	$(BIN)/python -m bench.cost

# Training runs in its own venv (requirements-train.txt: scikit-learn, embedding candidates), never
# in Lambda. `make train COMPARE=1` also re-measures the sentence-embedding candidates (slow).
TRAIN_VENV  := training/.cache/venv
TRAIN_STAMP := $(TRAIN_VENV)/.installed

$(TRAIN_STAMP): requirements-train.txt functions/requirements.txt $(LAYER_REQUIREMENTS)
	@test -x $(TRAIN_VENV)/bin/python || $(PYTHON) -m venv $(TRAIN_VENV)
	@echo "==> installing training dependencies into $(TRAIN_VENV)"
	@$(TRAIN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-train.txt
	@touch $(TRAIN_STAMP)

train: $(TRAIN_STAMP)
	PYTHONPATH=functions $(TRAIN_VENV)/bin/python training/train.py
	@if [ -n "$(COMPARE)" ]; then PYTHONPATH=functions $(TRAIN_VENV)/bin/python training/compare_embeddings.py; fi

# The dev set, then the real-shape suite (tests/fixtures/real_shape, never trained on).
eval: $(STAMP)
	$(BIN)/moderato eval ../shared/data/dev_posts.jsonl
	$(BIN)/moderato eval --suite real-shape

openapi: $(STAMP)
	$(BIN)/python -m moderato_cli.openapi_doc

# The *.in files say what we depend on; `make lock` compiles them into the *.txt files that pin every
# transitive dependency (pip-tools, in its own venv). The Lambda sets are compiled first (every
# function's, then ClassifierLayer's: numpy, for the functions that classify only): the dev and
# training sets are constrained to them, so shared packages have one version everywhere. Every pin
# carries its hashes, so pip installs the locks in --require-hashes mode: a file swapped on the index
# fails the install. (`pip install --no-deps -e .` is our own code, outside the hashed set.)
LOCK_VENV := .venv-lock
PIP_COMPILE = $(LOCK_VENV)/bin/pip-compile --quiet --no-header --strip-extras --no-emit-index-url \
	--no-emit-find-links --resolver=backtracking --generate-hashes --allow-unsafe

lock:
	@test -x $(LOCK_VENV)/bin/pip-compile || ($(PYTHON) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check pip==25.3 pip-tools==7.6.2)
	$(PIP_COMPILE) -o functions/requirements.txt functions/requirements.in
	$(PIP_COMPILE) -o layers/classifier/requirements.txt layers/classifier/requirements.in
	$(PIP_COMPILE) -o requirements-dev.txt requirements-dev.in
	$(PIP_COMPILE) -o requirements-train.txt requirements-train.in

clean:
	rm -rf $(VENV) $(LOCK_VENV) $(LAMBDA_VENV) .local .pytest_cache .ruff_cache
