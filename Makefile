# The two commands on the README's first screen: `make serve` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
export WORDSPACE_CATALOG ?= indexes
export PIP_PROGRESS_BAR = on
# One BLAS/OpenMP thread per test process: two pytest workers (and the test catalog's builder)
# already fill two cores, and more threads only spin against each other (make test-fast: 44 s
# with one, 62 s without).
TEST_ENV = OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

.PHONY: serve serve-proxy test test-fast build deps test-deps proxy-deps contract-deps bench bench-deps soak screenshot clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Debian text for the word2vec corpus (WordNet glosses, GCIDE); only as root with apt.
deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=""; for p in wordnet-base dict-gcide; do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	    (apt-get install -y -q $$missing || (apt-get update -q && apt-get install -y -q $$missing)); fi; \
	else echo "not root or no apt-get: the word2vec corpus uses only the sources already installed"; fi

# Debian's chromium for the browser test of GET / (Playwright drives it; it never downloads one).
test-deps:
	@if command -v chromium >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the browser test"; \
	  (apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium)); \
	else echo "no chromium and cannot install it: the browser test will say so"; fi

# Debian's nginx, in front of gunicorn in `wordspace serve --proxy` (and in tests/test_edge.py).
# Only its binary is used, with the config service/proxy.py writes; never the system service.
proxy-deps:
	@if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's nginx for serve --proxy"; \
	  (apt-get install -y -q nginx || (apt-get update -q && apt-get install -y -q nginx)); \
	  (service nginx stop || nginx -s quit) >/dev/null 2>&1 || true; \
	else echo "no nginx and cannot install it: serve --proxy and its tests will say so"; fi

# The contract test's generators (tests/test_clients.py, docs/clients.md), pinned: redocly,
# openapi-typescript, openapi-fetch and TypeScript 5 from clients/contract/package-lock.json
# (npm ci), openapi-python-client in a venv of its own (it needs an older httpx than the service).
CONTRACT := clients/contract
contract-deps: $(CONTRACT)/node_modules/.package-lock.json $(CONTRACT)/.venv/.installed

$(CONTRACT)/node_modules/.package-lock.json: $(CONTRACT)/package-lock.json
	cd $(CONTRACT) && npm ci --no-audit --no-fund

$(CONTRACT)/.venv/.installed: $(CONTRACT)/requirements.txt
	$(PYTHON) -m venv $(CONTRACT)/.venv
	$(CONTRACT)/.venv/bin/python -m pip install -q -r $(CONTRACT)/requirements.txt
	touch $@

# The service, and the Python client (clients/python) whose tests run with the rest.
# Their dependencies come from the lock (every version pinned, every file checked against its
# hash), then the two projects themselves, editable.
$(VENV)/.installed: pyproject.toml clients/python/pyproject.toml requirements/dev.txt | $(BIN)/python
	$(PIP) install --require-hashes --no-deps -r requirements/dev.txt
	$(PIP) install --no-deps -e . -e ./clients/python
	touch $@

# The lock: requirements/serve.txt (the serving image), train.txt (an image that builds spaces,
# EXTRAS=train: the train and glove extras) and dev.txt (make test: those, test, the client),
# each pinned within the one before, with hashes, for Linux and Python 3.11. Rerun after
# changing a dependency in a pyproject.toml; pins move only as far as the change needs
# (UPGRADE=--upgrade moves them all). `lock` is a command, not a file: no file of that name.
UV      ?= $(BIN)/uv
UPGRADE ?=
LOCK    := $(UV) pip compile --quiet --generate-hashes --python-version 3.11 --python-platform linux \
           --native-tls $(UPGRADE)
lock: | $(BIN)/python
	@[ -x "$(UV)" ] || command -v "$(UV)" >/dev/null || $(PIP) install -q 'uv>=0.9'
	$(LOCK) pyproject.toml -o requirements/serve.txt
	$(LOCK) pyproject.toml --extra train --extra glove -c requirements/serve.txt -o requirements/train.txt
	$(LOCK) pyproject.toml clients/python/pyproject.toml --extra train --extra glove --extra test \
	    --extra numpy -c requirements/train.txt -o requirements/dev.txt

build: $(VENV)/.installed deps
	$(BIN)/wordspace build

# The production stack (nginx in front of gunicorn, as in the image) when Debian's nginx is
# installed, else gunicorn alone; serve-proxy installs nginx first (as root with apt). One BLAS
# thread per server process, as in the image (docs/operations.md, "Memory per worker").
SERVE_ENV = OPENBLAS_NUM_THREADS=$${OPENBLAS_NUM_THREADS:-1}
serve: build
	@if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then \
	  echo "serving through nginx in front of gunicorn (wordspace serve --proxy)"; \
	  $(SERVE_ENV) exec $(BIN)/wordspace serve --proxy; \
	else echo "no nginx: gunicorn alone (wordspace serve); make serve-proxy installs nginx"; \
	  $(SERVE_ENV) exec $(BIN)/wordspace serve; fi

serve-proxy: build proxy-deps
	$(SERVE_ENV) $(BIN)/wordspace serve --proxy

# Everything, the end-to-end tests on a small real catalog built once per session, in the
# background while the other tests run (tests/support/realcat.py). Two pytest workers
# (pytest-xdist), a test file each at a time, so a file's module fixtures (a trained model, a
# served catalog) are made once, in the order tests/conftest.py gives them.
test: $(VENV)/.installed deps test-deps proxy-deps contract-deps
	$(TEST_ENV) $(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder

# The fast part (no real data, no training, no browser, no load run; the client's tests against a
# toy server included).
test-fast: $(VENV)/.installed
	$(TEST_ENV) $(BIN)/python -m pytest -m "not slow" -n 2 --dist worksteal

# Debian's wrk drives the load; the bench extra brings chromadb (its server is a contender).
bench-deps: $(VENV)/.installed proxy-deps
	$(PIP) install -q -e '.[bench]'
	@if command -v wrk >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get install -y -q wrk || (apt-get update -q && apt-get install -y -q wrk)); \
	else echo "no wrk and cannot install it (apt-get install wrk)"; exit 1; fi

bench: bench-deps
	mkdir -p bench/out
	$(BIN)/python bench/neighbors.py --json bench/out/bench.json --markdown bench/out/bench.md

# The long run (about 15-20 min on 2 cores; the scale step needs ~12 GB of memory and ~8 GB
# free under /tmp): 200,000 mixed requests with five kill -9 of a worker, then a synthetic
# 3,000,000 x 300 table behind IVF4096. Loopback only; each step stops by itself.
soak: $(VENV)/.installed
	mkdir -p bench/out
	$(BIN)/python bench/soak.py --json bench/out/soak.json
	$(BIN)/python bench/scale.py --json bench/out/scale.json

# The page at 1280 and 390 px (docs/page.png, docs/page-390.png) and the README's "What it
# shows" figures, from the built catalog, through a served instance and Debian's chromium.
screenshot: $(VENV)/.installed test-deps
	$(BIN)/python docs/figures.py --catalog $(WORDSPACE_CATALOG) $(FIGURES_ARGS)

clean:
	rm -rf $(VENV) bench/out *.egg-info $(CONTRACT)/node_modules $(CONTRACT)/.venv
