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

# The demo workspace gets a dashboard user `admin`; its password is DEMO_PASSWORD (demo data only).
DEMO_PASSWORD ?= accountree-demo

demo: setup
	ACCOUNTREE_ADMIN_PASSWORD='$(DEMO_PASSWORD)' $(BIN)/accountree demo --workspace $(WORKSPACE)
	@if [ -z "$$NO_SERVE" ]; then \
		echo "Dashboard: http://127.0.0.1:$(PORT)  (user admin, password $(DEMO_PASSWORD); Ctrl-C to stop)"; \
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
