# Two commands do all the set-up on a fresh machine:
#   make zip    builds dist/service.scrobbler.simkl-<version>.zip (needs nothing but Python 3)
#   make test   installs the development requirements into .venv and runs every check, the real-Kodi
#               suite on Kodi 20 (the machine's) and on Kodi 21 (a Debian 13 root, as root only)
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
CLIENT_ID ?=
AUTH ?=
ZIP_ARGS := $(if $(CLIENT_ID),--client-id "$(CLIENT_ID)") $(if $(AUTH),--auth "$(AUTH)")

# The real-Kodi suite's Kodi: 20 (the machine's own) or 21 (chrooted in a Debian 13 root built by
# tools/kodi_root.py into .cache/kodi21-root; needs root: KODI21_SUDO=sudo runs that part with sudo).
KODI ?= 20
KODI21_SUDO ?=
# KODI=21 runs as root (maybe through sudo, which drops the environment): pass CI on, keep the cache
# folder root would own out of the tree.
e2e_run = $(if $(filter 21,$(1)),$(KODI21_SUDO)) env KODI=$(1) CI=$(CI) $(VPY) -m pytest \
	$(if $(filter 21,$(1)),-p no:cacheprovider) -m e2e tests/e2e

.PHONY: zip test unit e2e e2e21 kodi21-root lint check bench mutation soak art screenshots clean

zip:
	$(PYTHON) tools/build_zip.py $(ZIP_ARGS)

$(VENV)/.installed: requirements-dev.txt
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

# kodi-addon-checker on the unpacked release zip, offline (see tools/check_addon.py), and the
# translations: every string id used exists, none unused, strings.po valid for Weblate (tools/check_strings.py).
check: $(VENV)/.installed
	$(VPY) tools/build_zip.py $(ZIP_ARGS) --unpack .cache/release
	$(VPY) tools/check_addon.py .cache/release
	$(VPY) tools/check_strings.py .cache/release/service.scrobbler.simkl

unit: $(VENV)/.installed
	$(VPY) -m pytest -m "not e2e"

e2e: $(VENV)/.installed zip
	$(call e2e_run,$(KODI))

e2e21: $(VENV)/.installed
	$(call e2e_run,21)

# Builds the Debian 13 root once (about 1.5 min, 0.9 GB); the tests also build it when missing.
kodi21-root:
	$(KODI21_SUDO) $(PYTHON) tools/kodi_root.py build

test: lint check
	KODI=20 $(VPY) -m pytest
	$(call e2e_run,21)

bench: $(VENV)/.installed
	for script in bench/*.py; do $(VPY) $$script || exit 1; done

# The randomized fault campaign of tests/fault_campaign.py, run long with fresh cases: prints cases, steps,
# faults injected, watches, lost, duplicated. MINUTES=5 by default.
MINUTES ?= 5
soak: $(VENV)/.installed
	$(VPY) tools/soak.py --minutes $(MINUTES)

# Mutation testing of watch/outbox/flush/marks/clock/live/holds/worker/settle and the sync's
# remote/plan/engine (setup.cfg [mutmut]): each module's kill rate. Not part of `make test`: about an hour
# on the 2-core development machine (70 minutes with other runs beside it).
mutation: $(VENV)/.installed
	rm -rf mutants
	nice -n 19 $(VENV)/bin/mutmut run
	$(VPY) tools/mutation_report.py --fail-under 90

art: $(VENV)/.installed
	$(VPY) tools/make_art.py

# Settings, login dialog and status view, taken in a real headless Kodi (like `make e2e`, needs kodi and xvfb)
# against the fake Simkl server: resources/media/screenshot-0N.jpg, declared in addon.xml.
screenshots: $(VENV)/.installed
	$(VPY) tools/screenshots.py

# The Kodi 21 root is root's files when sudo built it: remove it the same way (make clean KODI21_SUDO=sudo).
clean:
	$(KODI21_SUDO) rm -rf .cache/kodi21-root
	rm -rf dist .cache .pytest_cache .ruff_cache mutants
