# Keten: every target creates .venv and installs on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint bench screenshots clean fuzz

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

# every parser under a fuzzer, FUZZ_SECONDS each (default 30): atheris, else Hypothesis
FUZZ_SECONDS ?= 30
fuzz: $(STAMP)
	@$(BIN)/python -c "import atheris" 2>/dev/null || $(BIN)/python -m pip install --quiet -e '.[fuzz]' || echo "atheris did not install: the targets run on Hypothesis"
	$(BIN)/python -m fuzz --seconds $(FUZZ_SECONDS) $(ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

screenshots: $(STAMP)
	$(BIN)/python -m pytest -q tests/tui/test_tui_snapshots.py tests/integration/test_verifier_desk_browser.py
	$(BIN)/python -m tests.readme_images

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
