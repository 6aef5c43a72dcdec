# The two quickstart commands (`make dev`, `make test`) and the rest of the checks. Each target
# makes the virtual environment first if it is missing or older than the project's metadata.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install dev test check codegen conformance reliability bench

$(STAMP): pyproject.toml generated/rivya-client/pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Rivya needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e generated/rivya-client
	touch $(STAMP)

install: $(STAMP)  ## make the virtual environment

dev: $(STAMP)  ## serve on the embedded database with a development account and key
	$(BIN)/rivya serve --dev

test: $(STAMP)  ## the test suite (PostgreSQL too when RIVYA_TEST_POSTGRES_URL is set)
	$(BIN)/nox -s tests

check: $(STAMP)  ## everything CI runs: codegen drift, lint, types, tests, conformance
	$(BIN)/nox

codegen: $(STAMP)  ## regenerate generated/ from spec/openapi.yaml
	$(BIN)/nox -s codegen

conformance: $(STAMP)  ## schemathesis against a running server
	$(BIN)/nox -s conformance

reliability: $(STAMP)  ## load, attacks and SIGKILLs against a running server, then the money invariant
	$(BIN)/nox -s reliability

bench: $(STAMP)  ## requests per second of GET /api/v1/models against bare Starlette
	$(BIN)/nox -s bench
