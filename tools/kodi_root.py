#!/usr/bin/env python3
"""Build a Debian root holding Kodi 19 or Kodi 21, for the real-Kodi tests on a Debian 12 machine.

    sudo python3 tools/kodi_root.py build [--kodi 19|21] [--dir DIR] [--mirror URL]
    python3 tools/kodi_root.py mirror                 # the Debian mirror that would be used
    python3 tools/kodi_root.py status [--kodi 19|21]  # "ready <kodi version>" or "missing", exit 0/1

Debian 12 only carries Kodi 20.1; Debian 11 (bullseye) carries Kodi 19.1 and Debian 13 (trixie) Kodi 21.2.
`build` runs `debootstrap --variant=minbase SUITE DIR MIRROR` and installs Kodi, Xvfb and Mesa's software GL
into the root with `apt-get --no-install-recommends`. DIR is .cache/kodi19-root or .cache/kodi21-root
(or $KODI19_ROOT / $KODI21_ROOT, or --dir); --kodi is 21 by default. It is idempotent: a root already built
(marked by the file READY inside it) is kept, a half-built one is started over. It needs root and
`debootstrap` (`apt-get install debootstrap`), and network access to the mirror.

MIRROR is the Debian archive the machine's apt already uses (read from /etc/apt/sources.list.d/*.sources,
*.list and /etc/apt/sources.list), or --mirror / $KODI_MIRROR. The chroot steps run in a private
mount namespace (`unshare --mount`): /proc and /dev are mounted only there and vanish when the step
ends, also when it fails or is killed, so nothing stays mounted on the machine.

tests/e2e/kodi_root.py runs Kodi inside the root (KODI=19 or KODI=21).
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[1]
# The Kodi major version a root holds -> the Debian suite that carries it.
SUITES = {"19": "bullseye", "21": "trixie"}
DEFAULT_KODI = "21"
PACKAGES = ("kodi", "xvfb", "libgl1-mesa-dri", "python3")
READY = "READY"  # written last, with the Kodi version; keep in step with tests/e2e/kodi_root.py
SOURCES = ("/etc/apt/sources.list.d/*.sources", "/etc/apt/sources.list.d/*.list", "/etc/apt/sources.list")


class RootError(Exception):
    """The root cannot be built here; the message says why."""


# -- the machine's Debian mirror ---------------------------------------------------------------------------
def _deb822_entries(text: str) -> Iterable[Tuple[List[str], List[str], List[str]]]:
    """(types, uris, suites) of each stanza of a deb822 .sources file."""
    for stanza in re.split(r"\n\s*\n", text):
        fields = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[0].isspace():
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.split()
        if fields.get("enabled", ["yes"])[0].lower() == "no":
            continue
        yield fields.get("types", []), fields.get("uris", []), fields.get("suites", [])


def _one_line_entries(text: str) -> Iterable[Tuple[List[str], List[str], List[str]]]:
    """(types, uris, suites) of each `deb [options] URI SUITE COMPONENTS...` line of a .list file."""
    for line in text.splitlines():
        line = re.sub(r"\[[^\]]*\]", " ", line.split("#", 1)[0]).split()
        if len(line) >= 3:
            yield [line[0]], [line[1]], [line[2]]


def find_mirror(patterns: Iterable[str] = SOURCES) -> Optional[str]:
    """The first Debian archive URI apt uses for a main suite (not -security/-updates/-backports)."""
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            try:
                text = Path(path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            entries = _deb822_entries(text) if path.endswith(".sources") else _one_line_entries(text)
            for types, uris, suites in entries:
                if "deb" not in types:
                    continue
                if not any(re.fullmatch(r"[a-z]+", suite) for suite in suites):
                    continue  # only bookworm-security, bookworm-updates, ...: not the archive itself
                for uri in uris:
                    if re.match(r"https?://", uri) and uri.rstrip("/").endswith("/debian"):
                        return uri.rstrip("/")
    return None


def default_dir(kodi: str) -> Path:
    """Where the root for that Kodi lives: $KODI<major>_ROOT, else .cache/kodi<major>-root."""
    return Path(os.environ.get("KODI%s_ROOT" % kodi) or REPO / ".cache" / ("kodi%s-root" % kodi))


# -- building ------------------------------------------------------------------------------------------------
def ready_version(root: Path) -> Optional[str]:
    """The Kodi version recorded in a finished root, or None if the root is missing or half-built."""
    try:
        return (Path(root) / READY).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _run(argv: List[str], log) -> None:
    print("+ " + " ".join(argv), file=log, flush=True)
    result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    if result.returncode != 0:
        raise RootError("%s exited with %d:\n%s" % (argv[0], result.returncode, result.stdout[-4000:]))


def in_root(root: Path, script: str) -> List[str]:
    """argv running the shell `script` chrooted in `root`, with /proc and /dev mounted in a private mount
    namespace only (they disappear with the namespace, whatever happens)."""
    setup = ('set -e; r="$1"; mount -t proc proc "$r/proc"; mount --rbind /dev "$r/dev"; '
             'exec chroot "$r" /bin/sh -c "$2"')
    return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", setup, "sh", str(root), script]


def build(root: Path, mirror: str, log=sys.stdout, kodi: str = DEFAULT_KODI) -> str:
    """Build the root of Kodi `kodi` unless it is already complete; return Kodi's package version."""
    root = Path(root)
    version = ready_version(root)
    if version:
        print("Kodi %s root ready: %s (kodi %s)" % (kodi, root, version), file=log)
        return version
    if os.geteuid() != 0:
        raise RootError("building the Kodi %s root needs root (debootstrap, chroot): run it with sudo" % kodi)
    for tool in ("debootstrap", "unshare", "chroot"):
        if shutil.which(tool) is None:
            raise RootError("%s not found: apt-get install debootstrap util-linux coreutils" % tool)
    started = time.monotonic()
    partial = root.with_name(root.name + ".partial")
    for stale in (partial, root):
        if stale.exists():
            _remove_tree(stale)
    partial.parent.mkdir(parents=True, exist_ok=True)
    _run(["debootstrap", "--variant=minbase", SUITES[kodi], str(partial), mirror], log)
    ensure_hosts(partial)
    # No service may start inside the root while packages install.
    policy = partial / "usr" / "sbin" / "policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n", encoding="utf-8")
    policy.chmod(0o755)
    _run(in_root(partial, "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && "
                          "apt-get install -y -qq --no-install-recommends %s >/dev/null && apt-get clean"
                 % " ".join(PACKAGES)), log)
    version = subprocess.run(["chroot", str(partial), "dpkg-query", "-W", "-f", "${Version}", "kodi"],
                             stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
    if not glob.glob(str(partial / "usr" / "lib" / "*" / "kodi" / "kodi.bin")):
        raise RootError("kodi.bin is missing from the root after installing kodi %s" % version)
    (partial / READY).write_text(version + "\n", encoding="utf-8")
    partial.rename(root)
    print("Kodi %s root built in %.0f s: %s (kodi %s)" % (kodi, time.monotonic() - started, root, version),
          file=log)
    return version


def ensure_hosts(root: Path) -> None:
    """Give the root an /etc/hosts naming localhost when debootstrap left none (bullseye's minbase has no
    netbase): Kodi 19 binds its JSON-RPC port on getaddrinfo("localhost") and without the file starts none."""
    hosts = Path(root) / "etc" / "hosts"
    if not hosts.exists():
        hosts.write_text("127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n", encoding="utf-8")


def _remove_tree(path: Path) -> None:
    """rm -rf that refuses to cross into anything still mounted below the folder (e.g. a leftover /dev bind)."""
    mounted = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()
               if line.split()[1] == str(path) or line.split()[1].startswith(str(path) + "/")]
    if mounted:
        raise RootError("not removing %s: %s still mounted there" % (path, ", ".join(mounted)))
    subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=True)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("build", "mirror", "status"))
    parser.add_argument("--kodi", choices=sorted(SUITES), default=DEFAULT_KODI,
                        help="the Kodi major version the root holds (default %s)" % DEFAULT_KODI)
    parser.add_argument("--dir", type=Path, default=None,
                        help="the root folder (default $KODI<major>_ROOT or .cache/kodi<major>-root)")
    parser.add_argument("--mirror", default=os.environ.get("KODI_MIRROR") or None,
                        help="Debian mirror URL (default $KODI_MIRROR or the one apt uses here)")
    args = parser.parse_args(argv)
    args.dir = args.dir or default_dir(args.kodi)
    if args.command == "status":
        version = ready_version(args.dir)
        print("ready %s" % version if version else "missing")
        return 0 if version else 1
    mirror = args.mirror or find_mirror()
    if args.command == "mirror":
        print(mirror or "no Debian mirror found in apt's sources")
        return 0 if mirror else 1
    try:
        if not mirror and not ready_version(args.dir):
            raise RootError("no Debian mirror found in apt's sources (%s); pass --mirror or set KODI_MIRROR"
                            % ", ".join(SOURCES))
        build(args.dir.resolve(), mirror, kodi=args.kodi)
    except RootError as error:
        print("kodi_root: cannot build the Kodi %s root: %s" % (args.kodi, error), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
