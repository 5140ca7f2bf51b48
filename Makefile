# The two commands: `make run` sets up and runs Parley, `make test` sets up and runs the tests.
.PHONY: setup run test test-fast check lint typecheck messages bench clean

PY := .venv/bin/python

setup:
	@scripts/setup

run: setup
	$(PY) -m parley.cli serve

test: setup
	@scripts/test

test-fast: setup
	$(PY) -m pytest -q -m "not slow and not browser and not media"

check: setup lint typecheck

lint:
	.venv/bin/ruff check src tests bench
	.venv/bin/lint-imports

typecheck:
	.venv/bin/mypy

messages: setup
	scripts/messages

bench: setup
	@echo "see bench/README.md"

clean:
	rm -rf .venv frontend/node_modules src/parley/web/static/build
