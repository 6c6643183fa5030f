# Keten: every target creates .venv and installs on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint bench screenshots clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m ssiwallet.demo $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

# everything but the tests marked slow (subprocesses, kill -9, the demo): about a minute
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check ssiwallet issuer verifier registry tests bench
	$(BIN)/mypy
	$(BIN)/mypy --explicit-package-bases tests

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

screenshots: $(STAMP)
	$(BIN)/python -m pytest -q tests/tui/test_tui_snapshots.py tests/integration/test_verifier_desk_browser.py
	$(BIN)/python -m tests.readme_images

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
