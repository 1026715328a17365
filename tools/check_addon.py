#!/usr/bin/env python3
"""Run kodi-addon-checker (0.0.36) offline on an unpacked add-on folder.

    python tools/check_addon.py [--branch nexus] [--check-urls] <addon folder>

The folder should be the unpacked release zip (tools/build_zip.py --unpack DIR), named after
the add-on id. A folder that holds exactly one add-on folder is accepted too.
Exits 1 when the checker reports any ERROR (problem), 0 otherwise.

Offline changes to the stock checker, so it finishes in about a second with no network:
- The official repository's add-on lists are never downloaded (the checker would otherwise
  fetch ten branches with retries and long backoff and hang for minutes): every branch is an
  empty repository, and --skip-dependency-checks is passed.
- The forum/source/website URL checks are skipped by default (they make HEAD requests);
  --check-urls runs them.
- Any other network connection attempt fails at once instead of waiting on a timeout.
- The optional license-file and Kodi 18 deprecation checks, off unless a .tests-config.json
  enables them, are switched on as the official repositories do.
"""

import argparse
import os
import socket
import sys

import kodi_addon_checker.check_addon as checker_addon
import kodi_addon_checker.check_url as checker_url
import kodi_addon_checker.config as checker_config
from kodi_addon_checker.__main__ import main as checker_main
from kodi_addon_checker.record import INFORMATION, Record

EXTRA_CHECKS = ("check_license_file_exists", "check_kodi_leia_deprecations")


class OfflineRepository:
    """Stands in for kodi_addon_checker.addons.Repository.Repository: an empty add-on list."""

    def __init__(self, version, path):
        self.version = version
        self.path = path
        self.addons = []

    def __contains__(self, addon_id):
        return False

    def find(self, addon_id):
        return None

    def rdepends(self, addon_id):
        return []


def _skip_url_check(report, parsed_xml):
    report.add(Record(INFORMATION, "URL checks (forum, source, website) skipped: offline run"))


def _no_network(*args, **kwargs):
    raise OSError("network disabled by tools/check_addon.py")


def _enable_extra_checks():
    load_config = checker_config.Config._load_config

    def load_with_extras(self, repo_path):
        load_config(self, repo_path)
        for name in EXTRA_CHECKS:
            self.configs.setdefault(name, True)

    checker_config.Config._load_config = load_with_extras


def addon_folder(path):
    """The add-on folder itself, or the single add-on folder inside path."""
    if os.path.isfile(os.path.join(path, "addon.xml")):
        return path
    if os.path.isdir(path):
        inner = [entry.path for entry in os.scandir(path)
                 if entry.is_dir() and os.path.isfile(os.path.join(entry.path, "addon.xml"))]
        if len(inner) == 1:
            return inner[0]
    raise SystemExit(f"check_addon: error: no addon.xml in {path} (nor in exactly one folder below it)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="unpacked add-on folder (its name must be the add-on id)")
    parser.add_argument("--branch", default="nexus", help="Kodi branch to check against (default: nexus)")
    parser.add_argument("--check-urls", action="store_true", help="also run the online URL checks")
    args = parser.parse_args(argv)
    folder = os.path.abspath(addon_folder(args.folder))

    # check_addon resolves these names through its own module globals at call time.
    checker_addon.Repository = OfflineRepository
    if not args.check_urls:
        checker_url.check_url = _skip_url_check
        socket.create_connection = _no_network
        socket.getaddrinfo = _no_network
    _enable_extra_checks()

    sys.argv = ["kodi-addon-checker", f"--branch={args.branch}", "--skip-dependency-checks", folder]
    try:
        checker_main()
    except SystemExit as exc:
        # The checker exits 1 when it found problems; argparse errors exit 2.
        return exc.code if isinstance(exc.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
