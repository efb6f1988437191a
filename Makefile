# Two commands do all set-up: `make demo` and `make test` (see README.md).
# magic-html, one of the extraction candidates, wants Python 3.12 or newer: the first such
# interpreter found (pyenv's builds first: pyenv's python3.12 shim fails where 3.12 is not the
# selected version), else python3.
PYTHON ?= $(firstword $(foreach p,$(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3) \
	$(shell command -v python3.13 python3.12 python3 2>/dev/null),\
	$(shell $(p) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && echo $(p))) python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test deps lint check clean

# What the whole suite needs beyond Python: Chromium and a CJK font (the Datasette page tests
# drive the browser; without the font screenshots show boxes for Chinese) and redis-server
# (the distributed mode's tests start one). The Debian packages of those not found here:
MISSING = $(strip \
	$(shell command -v chromium >/dev/null 2>&1 || echo chromium) \
	$(shell fc-list 2>/dev/null | grep -qi wqy || echo fonts-wqy-zenhei) \
	$(shell command -v redis-server >/dev/null 2>&1 || echo redis-server))
DEPS_HINT = \`make deps\` installs them (apt-get, as root)

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
	$(if $(MISSING),@echo "make test: no $(MISSING) here: their tests skip or fail; $(DEPS_HINT)" >&2)
	$(BIN)/pytest

# Installs what `make test` needs beyond Python with apt-get, when it is missing.
deps:
	$(if $(MISSING),apt-get update -qq && apt-get install -y -qq $(MISSING) >/dev/null,@echo "deps: all here")

lint: $(VENV)/.installed-test
	$(BIN)/ruff check crawler tests benchmarks
	$(BIN)/mypy crawler

clean:
	rm -rf $(VENV) db/*.db db/*.db-wal db/*.db-shm
