# Two commands matter: `make run` and `make test`. Everything else is a step they depend on.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test venv lint cfn-lint unit integration e2e bench train eval openapi clean

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

clean:
	rm -rf $(VENV) .local .pytest_cache .ruff_cache
