# Two commands do all set-up: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/newsmon demo

test: lint
	$(BIN)/pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check crawler tests benchmarks
	$(BIN)/mypy crawler

clean:
	rm -rf $(VENV) db/*.db db/*.db-wal db/*.db-shm
