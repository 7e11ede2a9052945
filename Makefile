# Everything a fresh machine with Python 3.11 and make needs: `make demo`, `make test`.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOME_DIR ?= lake
# The Glue Python shell job runs Python 3.9: its tests and type check also run there.
# The first that really runs 3.9: a python3.9 on PATH (a pyenv shim may exist without the version being
# active), then pyenv's newest installed 3.9.x.
PYTHON39 ?= $(shell for p in "$$(command -v python3.9)" \
	"$$(PYENV_VERSION=$$(pyenv versions --bare 2>/dev/null | grep '^3\.9' | tail -1) pyenv which python3.9 2>/dev/null)"; do \
	[ -n "$$p" ] && "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 9)' 2>/dev/null && echo "$$p" && break; done)
# The Lambda runtime's Python (python3.12, Amazon Linux 2023): the packages are built for it and each
# function's tests run its package on it (tests/test_artifacts.py). Found the same way as 3.9.
PYTHON312 ?= $(shell for p in "$$(command -v python3.12)" \
	"$$(PYENV_VERSION=$$(pyenv versions --bare 2>/dev/null | grep '^3\.12' | tail -1) pyenv which python3.12 2>/dev/null)"; do \
	[ -n "$$p" ] && "$$p" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && echo "$$p" && break; done)
VENV39  := .venv-py39
STAMP39 := $(VENV39)/.installed-stamp
# The validation job's tests: row conservation, contract rules, file failures, crash/rerun, Data Docs...
JOB_TESTS := tests/test_row_conservation.py tests/test_contract_rules.py tests/test_file_failures.py tests/test_file_scan.py \
	tests/test_row_exactness.py tests/test_record_parser.py tests/test_verdict_digest.py \
	tests/test_crash_points.py tests/test_crash_rerun.py tests/test_idempotency.py tests/test_data_docs.py \
	tests/test_data_docs_privacy.py tests/test_glue_job.py tests/test_suite_internals.py \
	tests/test_committed_views.py tests/test_distinct_rows.py tests/test_values.py tests/test_writer.py \
	tests/test_duplicates.py tests/test_commit.py tests/test_docs_wording.py tests/test_reading_once.py \
	tests/test_iceberg_io.py tests/test_loads_at_once.py

.PHONY: demo test test39 lint lint39 fmt bench package tf-init plan apply clean help python312

help:
	@echo "make demo     - set up, then run the whole pipeline on a generated sample batch"
	@echo "make test     - set up, then run the test suite (and lint)"
	@echo "make lint     - ruff and mypy"
	@echo "make test39   - the validation job's tests under Python 3.9 (Glue Python shell), and its type check"
	@echo "make bench    - benchmarks (bench/), with ratios against baselines"
	@echo "make package  - build dist/ artefacts for AWS (one zip per Lambda, the Glue job's pinned wheelhouse)"
	@echo "make plan     - terraform plan of terraform/ on the remote state, saved as terraform/$(PLAN)"
	@echo "make apply    - terraform apply of exactly that saved plan"

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || (echo "Python 3.11 is required (python3.11 or python3 on PATH)"; exit 1)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/vitalflow --home $(HOME_DIR) demo

$(STAMP39): pyproject.toml
	@test -n "$(PYTHON39)" || (echo "Python 3.9 is required for the Glue job's tests: install it (pyenv install 3.9.18, \
	or your OS's python3.9) or pass PYTHON39=/path/to/python3.9"; exit 1)
	$(PYTHON39) -m venv $(VENV39)
	$(VENV39)/bin/python -m pip install --quiet --upgrade pip
	$(VENV39)/bin/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP39)

python312:
	@test -n "$(PYTHON312)" || (echo "Python 3.12 (the Lambda runtime) is required for the package tests: \
	pyenv install 3.12, or your OS's python3.12, or pass PYTHON312=/path/to/python3.12"; exit 1)

CHECKOV := .venv-checkov/bin/checkov

$(CHECKOV):
	bash scripts/install-checkov.sh

# The three virtualenvs are installed at once (most of it is waiting on downloads and disk).
test: python312
	@$(MAKE) --no-print-directory -j3 $(STAMP) $(STAMP39) $(CHECKOV)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q
	$(MAKE) --no-print-directory test39
	$(MAKE) --no-print-directory lint

test39: $(STAMP39)
	$(VENV39)/bin/python -m pytest -n 2 --dist loadfile -q -p no:cacheprovider $(JOB_TESTS)  # a missing file fails
	$(MAKE) --no-print-directory lint39

lint39: $(STAMP39)
	$(VENV39)/bin/mypy --python-version 3.9 src/vitalflow jobs

lint: $(STAMP)
	$(BIN)/ruff check $(wildcard src tests jobs lambdas bench scripts)
	$(BIN)/mypy
	@test -x .venv-checkov/bin/checkov || bash scripts/install-checkov.sh
	.venv-checkov/bin/checkov -d terraform --framework terraform --quiet --compact --skip-download

fmt: $(STAMP)
	$(BIN)/ruff check --fix $(wildcard src tests jobs lambdas bench scripts)
	$(BIN)/ruff format $(wildcard src tests jobs lambdas bench scripts)

bench: $(STAMP)
	$(BIN)/python bench/validate_bench.py
	$(BIN)/python bench/docs_bench.py
	$(BIN)/python bench/sql_scan.py
	$(BIN)/python bench/lake_age.py
	$(BIN)/python bench/digest_scan.py
	$(BIN)/python bench/dashboard_bench.py

package: $(STAMP)
	bash scripts/package.sh  # GLUE_PYTHON=3.11 for glue_job_type = "glueetl"

# Terraform on the remote state (README: Deploy to AWS): the pipeline's plan and apply stages
# (buildspec/plan.yml, buildspec/apply.yml) run these same targets. BACKEND_CONFIG and TFVARS are relative to
# terraform/; TFVARS empty means terraform.tfvars (Terraform loads it by itself).
TERRAFORM      ?= terraform
BACKEND_CONFIG ?= backend.hcl
TFVARS         ?=
TF_INIT_FLAGS  ?=
PLAN           ?= vitalflow.tfplan

tf-init:
	cd terraform && $(TERRAFORM) init -input=false -backend-config=$(BACKEND_CONFIG) $(TF_INIT_FLAGS)

plan: tf-init
	cd terraform && $(TERRAFORM) plan -input=false -lock-timeout=10m $(if $(TFVARS),-var-file=$(TFVARS)) -out=$(PLAN)

apply: tf-init
	@test -f terraform/$(PLAN) || (echo "no saved plan terraform/$(PLAN): run make plan first"; exit 1)
	cd terraform && $(TERRAFORM) apply -input=false -lock-timeout=10m $(PLAN)

clean:
	rm -rf $(VENV39) $(HOME_DIR) dist build .pytest_cache .mypy_cache .ruff_cache test-artifacts
