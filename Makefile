# The README's commands. `make demo` = set up + main job on the embedded default; `make test` = set up + whole suite.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
WORKSPACE ?= accountree.duckdb
PORT ?= 8000

.PHONY: setup demo serve test lint services clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/accountree demo --workspace $(WORKSPACE)
	@if $(BIN)/accountree serve --help >/dev/null 2>&1 && [ -z "$$NO_SERVE" ]; then \
		$(BIN)/accountree serve --workspace $(WORKSPACE) --port $(PORT); fi

serve: setup
	$(BIN)/accountree serve --workspace $(WORKSPACE) --port $(PORT)

services:
	bash scripts/ensure-services.sh

lint: setup
	$(BIN)/ruff check accountree tests

test: setup services lint
	$(BIN)/pytest -q -n 2 --dist loadgroup

clean:
	rm -rf $(VENV) accountree-demo $(WORKSPACE) .pytest_cache .ruff_cache tests/output
