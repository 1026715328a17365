# Two commands do all the set-up on a fresh machine:
#   make zip    builds dist/service.scrobbler.simkl-<version>.zip (needs nothing but Python 3)
#   make repo REPO_URL=https://…   adds this version to the Kodi repository in dist/repo/ (REPO_DIR=…)
#   make test   installs the development requirements into .venv and runs every check, the real-Kodi
#               suite on Kodi 20 (the machine's), Kodi 19 (a Debian 11 root) and Kodi 21 (a Debian 13 root);
#               the roots need root
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
CLIENT_ID ?=
# Simkl's login: empty keeps config.py's, the device login (v2); AUTH=v1 builds the PIN login for a V1 app.
AUTH ?=
ZIP_ARGS := $(if $(CLIENT_ID),--client-id "$(CLIENT_ID)") $(if $(AUTH),--auth "$(AUTH)")

# The real-Kodi suite's Kodi: 20 (the machine's own), 19 or 21 (chrooted in a Debian 11 or 13 root built by
# tools/kodi_root.py into .cache/kodi19-root or .cache/kodi21-root, or $KODI19_ROOT / $KODI21_ROOT; needs
# root: KODI_SUDO=sudo runs those parts with sudo; KODI21_SUDO is its older name).
KODI ?= 20
KODI21_SUDO ?=
KODI_SUDO ?= $(KODI21_SUDO)
ROOTED := 19 21
# KODI=19 and 21 run as root (maybe through sudo, which drops the environment): pass CI and the roots on,
# keep the cache folder root would own out of the tree.
e2e_run = $(if $(filter $(ROOTED),$(1)),$(KODI_SUDO)) env KODI=$(1) CI=$(CI) \
	$(if $(KODI19_ROOT),KODI19_ROOT=$(KODI19_ROOT)) $(if $(KODI21_ROOT),KODI21_ROOT=$(KODI21_ROOT)) \
	$(VPY) -m pytest $(if $(filter $(ROOTED),$(1)),-p no:cacheprovider) -m e2e $(E2E_ARGS) \
	$(if $(E2E_TMP),--basetemp=$(E2E_TMP)-kodi$(1)) tests/e2e
# `make test` runs the Kodi 19 and Kodi 21 suites side by side: each Kodi keeps under one of the two cores
# busy, and one after the other they would take 28 of the 45 minutes CI may take. Under that load a test that
# fails is run once more (pytest-rerunfailures; the summary counts the reruns), each suite in its own folder.
PARALLEL_E2E := E2E_ARGS="--reruns 1" E2E_TMP=/tmp/simkl-e2e

.PHONY: zip repo test unit unit22 e2e e2e19 e2e21 kodi19-root kodi21-root lint check bench mutation soak art screenshots clean

zip:
	$(PYTHON) tools/build_zip.py $(ZIP_ARGS)

# A static Kodi repository for any web host, served from REPO_URL (tools/build_repo.py): a new version is
# added to the folder, the older ones stay.
REPO_URL ?=
REPO_DIR ?= dist/repo
repo:
	$(if $(REPO_URL),,$(error make repo needs the address the repository is served from, e.g. make repo REPO_URL=https://USER.github.io/REPO/))
	$(PYTHON) tools/build_repo.py --repo-url "$(REPO_URL)" --out "$(REPO_DIR)" $(ZIP_ARGS)

$(VENV)/.installed: requirements-dev.txt
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Kodi 19's Python API (xbmc.python 3.0.0) beside the suite's own kodistubs: tests/test_kodi19_api.py checks
# that the add-on uses nothing Kodi 19 lacks without asking first.
KODISTUBS19 := .cache/kodistubs19
$(KODISTUBS19)/.installed: $(VENV)/.installed
	$(VPY) -m pip install --quiet --disable-pip-version-check --no-deps --upgrade --target $(KODISTUBS19) \
		kodistubs==19.0.3
	touch $@

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

# kodi-addon-checker on the unpacked release zip and repository add-on, offline (see tools/check_addon.py), for
# every branch of Kodi's official repository we target (the oldest Kodi we support and each newer one); and the
# translations: every string id used exists, none unused, strings.po valid for Weblate (tools/check_strings.py).
CHECK_BRANCHES ?= matrix nexus omega piers
check: $(VENV)/.installed
	$(VPY) tools/build_zip.py $(ZIP_ARGS) --unpack .cache/release
	rm -rf .cache/check-repo
	$(VPY) tools/build_repo.py --repo-url https://example.org/repo/ --out .cache/check-repo --unpack .cache/release
	for branch in $(CHECK_BRANCHES); do for addon in service.scrobbler.simkl repository.scrobbler.simkl; do \
		echo "== kodi-addon-checker --branch=$$branch $$addon"; \
		$(VPY) tools/check_addon.py --branch $$branch .cache/release/$$addon || exit 1; done; done
	$(VPY) tools/check_strings.py .cache/release/service.scrobbler.simkl

unit: $(VENV)/.installed $(KODISTUBS19)/.installed
	$(VPY) -m pytest -m "not e2e"

# The unit suite again on kodistubs 22 "Piers" (a pre-release), installed beside the venv's 21.0.0 and put in front
# of it on PYTHONPATH: nothing Kodi 22 removes may be used. KODISTUBS_VERSION makes the suite check it runs on it.
KODISTUBS22 ?= 22.0.1rc1
KODISTUBS22_DIR := .cache/kodistubs22
$(KODISTUBS22_DIR)/.installed-$(KODISTUBS22):
	rm -rf $(KODISTUBS22_DIR)
	$(VPY) -m pip install --quiet --disable-pip-version-check --pre --no-deps --target $(KODISTUBS22_DIR) \
		kodistubs==$(KODISTUBS22)
	touch $@

unit22: $(VENV)/.installed $(KODISTUBS19)/.installed $(KODISTUBS22_DIR)/.installed-$(KODISTUBS22)
	KODISTUBS_VERSION=$(KODISTUBS22) PYTHONPATH=$(KODISTUBS22_DIR) $(VPY) -m pytest -m "not e2e"

e2e: $(VENV)/.installed zip
	$(call e2e_run,$(KODI))

e2e19: $(VENV)/.installed
	$(call e2e_run,19)

e2e21: $(VENV)/.installed
	$(call e2e_run,21)

# Build the Debian 11 / 13 root once (about 2 min each, 0.9 GB); the tests also build a missing one.
kodi19-root kodi21-root: kodi%-root:
	$(KODI_SUDO) $(PYTHON) tools/kodi_root.py build --kodi $*

test: lint check unit22 $(KODISTUBS19)/.installed
	KODI=20 $(VPY) -m pytest
	$(MAKE) -j2 --output-sync=target e2e19 e2e21 $(PARALLEL_E2E)

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

# The Kodi roots are root's files when sudo built them: remove them the same way (make clean KODI_SUDO=sudo).
clean:
	$(KODI_SUDO) rm -rf --one-file-system .cache/kodi19-root .cache/kodi21-root
	rm -rf dist .cache .pytest_cache .ruff_cache mutants
