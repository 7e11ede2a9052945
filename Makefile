# Everything a fresh machine with Python 3.11 and make needs: `make demo`, `make test`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOME_DIR ?= lake

.PHONY: demo test lint fmt bench package clean help

help:
	@echo "make demo     - set up, then run the whole pipeline on a generated sample batch"
	@echo "make test     - set up, then run the test suite (and lint)"
	@echo "make lint     - ruff and mypy"
	@echo "make bench    - benchmarks (bench/), with ratios against baselines"
	@echo "make package  - build dist/ artefacts for AWS (one zip per Lambda, the Glue job's pinned wheelhouse)"

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || (echo "Python 3.11 is required (python3.11 or python3 on PATH)"; exit 1)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vitalflow --home $(HOME_DIR) demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q
	$(MAKE) --no-print-directory lint

lint: $(STAMP)
	$(BIN)/ruff check $(wildcard src tests jobs lambdas bench scripts)
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff check --fix $(wildcard src tests jobs lambdas bench scripts)
	$(BIN)/ruff format $(wildcard src tests jobs lambdas bench scripts)

bench: $(STAMP)
	$(BIN)/python bench/validate_bench.py
	$(BIN)/python bench/sql_scan.py

package: $(STAMP)
	bash scripts/package.sh  # GLUE_PYTHON=3.11 for glue_job_type = "glueetl"

clean:
	rm -rf $(HOME_DIR) dist build .pytest_cache .mypy_cache .ruff_cache test-artifacts
