# The two commands: `make run` sets up and runs Parley, `make test` sets up and runs the tests.
.PHONY: setup setup-test run test test-fast check lint typecheck messages bench clean

PY := .venv/bin/python

# What running needs; the tests and checks add a browser, PostgreSQL, Redis and the dev tools.
setup:
	@scripts/setup run

setup-test:
	@scripts/setup test

run: setup
	$(PY) -m parley.cli serve

test: setup-test
	@scripts/test

test-fast: setup-test
	$(PY) -m pytest -q -m "not slow and not browser and not media"

check: setup-test lint typecheck

lint:
	.venv/bin/ruff check src tests bench
	.venv/bin/lint-imports
	$(PY) -m pytest -q -p no:cacheprovider tests/unit/test_sql_in_stores.py

typecheck:
	.venv/bin/mypy

messages: setup-test
	scripts/messages

bench: setup
	@echo "see bench/README.md"

clean:
	rm -rf .venv frontend/node_modules src/parley/web/static/build
