# The two commands of the README: `make run` and `make test`.
# Each sets up what it needs first: the Debian packages (as root, or prints the
# command to run), then .venv with the project installed, the compiled message
# catalogues and, for the tests, axe-core from npm.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Haven and what running it needs; the tests' tools come on top, only for them.
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# gnupg encrypts the opt-in digest mail to a volunteer's OpenPGP key; mat2
# removes files' hidden metadata, inside a bubblewrap sandbox (WebP through
# GdkPixbuf's WebP loader).
DEB_RUN := tor gnupg mat2 bubblewrap webp-pixbuf-loader
# DejaVu draws Arabic and Persian in the browser tests' screenshots, and
# WenQuanYi Micro Hei (1.6 MB) Chinese, which was boxes without it.
# exiftool reads (and writes) the metadata the attachment tests check; IO::String
# lets it read a DOCX from a pipe.
DEB_TEST := tor gnupg chromium fonts-dejavu-core fonts-wqy-microhei mat2 bubblewrap libimage-exiftool-perl libio-string-perl
# Compiled catalogues are built, not committed: one per .po file.
PO := $(wildcard translations/*/LC_MESSAGES/*.po)
MO := $(PO:.po=.mo)
AXE := node_modules/axe-core/axe.min.js

.PHONY: run test lint typecheck pytest deb-run deb-test deb-bench deb-node bench fuzz clean translations extract

run: deb-run $(STAMP) translations
	$(BIN)/haven

test: deb-test $(TEST_STAMP) translations lint typecheck pytest

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

typecheck: $(TEST_STAMP)
	$(BIN)/mypy crypto tor_config onion_app run.py

# One pytest-xdist worker per core: the tests are independent (own instance
# folder, loopback port 0, own browser contexts). Tests that must share one
# worker (one private Tor network) carry @pytest.mark.xdist_group, which
# --dist loadgroup honours. `make pytest PYTEST_WORKERS=0` runs them in one process.
PYTEST_WORKERS ?= auto
pytest: $(TEST_STAMP) translations $(AXE)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

# .po -> .mo for every language (TRANSLATING.md).
translations: $(MO)

translations/%.mo: translations/%.po | $(STAMP)
	$(BIN)/python translations/catalogues.py compile $<

# Sources -> translations/*.pot, merged into every .po: run after changing a
# user-facing string, then translate what `catalogues.py check` lists.
extract: $(STAMP)
	$(BIN)/python translations/catalogues.py extract
	$(BIN)/python translations/catalogues.py check || true

# axe-core, pinned in package-lock.json, for the accessibility audit.
$(AXE): package.json package-lock.json | deb-node
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The bench suite (bench/run_all.py runs every bench/*.py marked IN_BENCH_SUITE,
# about 8 minutes on a quiet machine); wrk loads the HTTP servers. Only `make
# bench` needs it. Then 3,000 fuzzed requests (bench/fuzz.py, needs hypothesis,
# one of the test tools), so that the whole stays under 10 minutes; `make fuzz`
# sends 10,000 on its own. bench/matching_bench.py (Python against SQL
# matching) runs by hand. attachments_bench draws its files with Pillow (the
# [test] extra) and exiftool.
DEB_BENCH := wrk libimage-exiftool-perl
bench: deb-bench deb-run $(TEST_STAMP) translations
	$(BIN)/python bench/run_all.py
	$(BIN)/python bench/fuzz.py --cases 3000

fuzz: deb-run $(TEST_STAMP) translations
	$(BIN)/python bench/fuzz.py

# Installs the missing Debian packages when we are root; otherwise says how.
define ensure_debs
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing Debian packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  else \
	    echo "Haven needs these Debian packages:$$missing"; \
	    echo "run: sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi
endef

deb-run:
	$(call ensure_debs,$(DEB_RUN))

deb-test:
	$(call ensure_debs,$(DEB_TEST))

deb-bench:
	$(call ensure_debs,$(DEB_BENCH))

# node and npm from Debian, unless the machine already has them from elsewhere.
deb-node:
	@if ! command -v npm >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing Debian packages: nodejs npm"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm; \
	  else \
	    echo "the accessibility tests need npm"; echo "run: sudo apt-get install nodejs npm"; exit 1; \
	  fi; \
	fi

# $(1): what pip installs, editable, into .venv (creating it first if need be).
define install
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Haven needs Python 3.11 or newer"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "could not create $(VENV): on Debian, run: sudo apt-get install python3-venv"; exit 1; }
	@echo "installing $(2) into $(VENV) (log: $(VENV)/install.log)"
	@# setuptools prints pages of build warnings even with -q; they go to the
	@# log, shown only if the install fails.
	@{ $(BIN)/python -m pip install -q --upgrade pip && \
	   $(BIN)/python -m pip install -q -e '$(1)'; } > $(VENV)/install.log 2>&1 || { \
	  cat $(VENV)/install.log; echo "installing into $(VENV) failed: see above"; exit 1; }
	@touch $@
endef

$(STAMP): setup.cfg setup.py pyproject.toml
	$(call install,.,Haven and the Python packages it runs on)

$(TEST_STAMP): $(STAMP)
	$(call install,.[test],the test tools)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache node_modules $(MO)
