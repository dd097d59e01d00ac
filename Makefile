# The stable interface of the repo. Each target bootstraps .venv from the pinned files when it is
# missing or older than them, so a fresh clone needs only Python 3.11 and make.
#
#   make preview [PROGRAM=cluster|services/<name>] [STACK=staging|prod]
#   make test        lint + type check + workflow schema + the whole test suite (what CI runs)
#   make bench       benchmarks (print figures; never fail on speed)
#   make release-check   before tagging v<version>: version, CHANGELOG and constraints agree
#   make capacity-chart   regenerate docs/prescale-timeline.png (the README's capacity timeline)
#   make mutation    mutation testing of the validation code (kill rates; not part of test)

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PROGRAMS := cluster $(patsubst %/Pulumi.yaml,%,$(sort $(wildcard services/*/Pulumi.yaml)))

.PHONY: preview test lint typecheck workflows unit bench mutation clean venv release-check constraints capacity-chart

venv: $(STAMP)

$(STAMP): requirements.txt components/pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or make PYTHON=...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@# The library is used from the working tree (no build step): a .pth file puts
	@# components/ on the venv's path, like an editable install without build dependencies.
	$(PY) -c "import site, pathlib; pathlib.Path(site.getsitepackages()[0], 'eksplatform-dev.pth').write_text(r'$(CURDIR)/components' + '\n')"
	@touch $@

preview: $(STAMP)
	$(PY) -m eksplatform preview $(if $(PROGRAM),--program $(PROGRAM)) $(if $(STACK),--stack $(STACK))

lint: $(STAMP)
	$(VENV)/bin/ruff check components cluster services tests bench policy tools
	$(VENV)/bin/ruff format --check --quiet components cluster services tests bench policy tools

typecheck: $(STAMP)
	$(VENV)/bin/mypy components/eksplatform tests bench tools
	@# Programs are all __main__.py: check each on its own, against the library and real SDKs.
	@set -e; for p in $(PROGRAMS) policy tests/fixtures/noncompliant-service tests/fixtures/legacy-flowschema; do echo "mypy $$p/__main__.py"; $(VENV)/bin/mypy $$p/__main__.py; done

# The CI workflows against the GitHub Actions workflow schema (check-jsonschema's bundled copy).
workflows: $(STAMP)
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

unit: $(STAMP)
	$(VENV)/bin/pytest

test: lint typecheck workflows unit

bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 && command -v nginx >/dev/null 2>&1 || \
		{ echo "installing wrk and nginx-light (Debian) for the Envoy overhead benchmark"; \
		  apt-get update -qq && apt-get install -y -qq wrk nginx-light >/dev/null; }
	$(PY) bench/bench_preview.py
	$(PY) bench/bench_validation.py
	$(PY) bench/bench_kube_schema.py
	$(PY) bench/bench_envoy_overhead.py
	$(PY) bench/bench_fleet.py
	$(PY) bench/bench_startup.py
	$(PY) bench/bench_policy.py

# Releases (README, "Releases"): regenerate the constraints file after changing requirements.txt;
# check before tagging. The tag v<version> is the last step, after this passes.
constraints: $(STAMP)
	$(PY) tools/release.py constraints

release-check: $(STAMP)
	$(PY) tools/release.py check

capacity-chart: $(STAMP)
	$(PY) -m eksplatform capacity-model --png docs/prescale-timeline.png

# Mutants of the validation modules against their tests; MUTATION_JOBS=N (default 2),
# MUTATION_ARGS="--group 'cluster config'" to run one group. Equivalent mutants, with the
# reason each cannot change behaviour, are listed in tools/mutation-equivalent.txt.
mutation: $(STAMP)
	$(PY) tools/mutation.py $(MUTATION_ARGS)

clean:
	rm -rf build .mypy_cache .ruff_cache .pytest_cache
