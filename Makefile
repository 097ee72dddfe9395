# Two commands matter: `make run` and `make test`. Everything else is a step they depend on.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-lambda-python venv lint cfn-lint unit integration e2e bench train eval openapi lock clean

$(STAMP): requirements-dev.txt functions/requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "==> installing pinned dependencies into $(VENV) (first run takes a minute)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/moderato local --demo

test: $(STAMP) lint cfn-lint
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
	@test -f $(LAMBDA_VENV)/.installed -a $(LAMBDA_VENV)/.installed -nt requirements-dev.txt || ( \
		echo "==> installing pinned dependencies into $(LAMBDA_VENV) ($$($(LAMBDA_VENV)/bin/python --version))" && \
		$(LAMBDA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3 && \
		$(LAMBDA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt && \
		$(LAMBDA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e . && \
		touch $(LAMBDA_VENV)/.installed)
	@echo "==> unit and integration tests under $$($(LAMBDA_VENV)/bin/python --version), the Lambda runtime's"
	$(LAMBDA_VENV)/bin/python -m pytest -n 2 -q -p no:cacheprovider tests/unit tests/integration
endif

lint: $(STAMP)
	$(BIN)/ruff check functions infra tests bench training

cfn-lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest -q tests/integration

e2e: $(STAMP)
	$(BIN)/python -m pytest -q tests/e2e

bench: $(STAMP)
	$(BIN)/python -m bench

# Training runs in its own venv (requirements-train.txt: scikit-learn, embedding candidates), never
# in Lambda. `make train COMPARE=1` also re-measures the sentence-embedding candidates (slow).
TRAIN_VENV  := training/.cache/venv
TRAIN_STAMP := $(TRAIN_VENV)/.installed

$(TRAIN_STAMP): requirements-train.txt functions/requirements.txt
	@test -x $(TRAIN_VENV)/bin/python || $(PYTHON) -m venv $(TRAIN_VENV)
	@echo "==> installing training dependencies into $(TRAIN_VENV)"
	@$(TRAIN_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-train.txt
	@touch $(TRAIN_STAMP)

train: $(TRAIN_STAMP)
	PYTHONPATH=functions $(TRAIN_VENV)/bin/python training/train.py
	@if [ -n "$(COMPARE)" ]; then PYTHONPATH=functions $(TRAIN_VENV)/bin/python training/compare_embeddings.py; fi

eval: $(STAMP)
	$(BIN)/moderato eval ../shared/data/dev_posts.jsonl

openapi: $(STAMP)
	$(BIN)/python -m moderato_cli.openapi_doc

# The *.in files say what we depend on; `make lock` compiles them into the *.txt files that pin every
# transitive dependency (pip-tools, in its own venv). The Lambda set is compiled first: the dev and
# training sets are constrained to it, so shared packages have one version everywhere.
LOCK_VENV := .venv-lock
PIP_COMPILE = $(LOCK_VENV)/bin/pip-compile --quiet --no-header --strip-extras --no-emit-index-url \
	--no-emit-find-links --resolver=backtracking

lock:
	@test -x $(LOCK_VENV)/bin/pip-compile || ($(PYTHON) -m venv $(LOCK_VENV) && \
		$(LOCK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check pip==25.3 pip-tools==7.6.2)
	$(PIP_COMPILE) -o functions/requirements.txt functions/requirements.in
	$(PIP_COMPILE) -o requirements-dev.txt requirements-dev.in
	$(PIP_COMPILE) -o requirements-train.txt requirements-train.in

clean:
	rm -rf $(VENV) $(LOCK_VENV) $(LAMBDA_VENV) .local .pytest_cache .ruff_cache
