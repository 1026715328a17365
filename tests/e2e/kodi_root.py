"""Which Kodi the real-Kodi tests run: the machine's own (KODI=20, the default) or Kodi 21 from a Debian 13
root built by tools/kodi_root.py (KODI=21).

Kodi 21 runs chrooted in that root, in a private mount namespace (`unshare --mount`) where /proc, /dev,
/tmp and the profile's folders are mounted at the same paths as on the machine: kodi.bin sees the same
HOME, media files and X socket as a Kodi 20 would, and the mounts vanish with the process, whatever
happens to it or to the test run. The chroot shares the machine's network, so JSON-RPC on 127.0.0.1 and
the fake servers work unchanged. Needs root (unshare, chroot).
"""
import glob
import os
import shutil
from pathlib import Path
from typing import Dict, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[2]
VERSIONS = ("20", "21")
DEFAULT_ROOT = REPO / ".cache" / "kodi21-root"
READY = "READY"  # the file tools/kodi_root.py writes last into a finished root
BUILD_HINT = "sudo python3 tools/kodi_root.py build"
# Passed to the chrooted processes instead of the machine's environment: nothing from the host's Python
# (PYTHONPATH, a venv) may leak into Kodi 21's Python 3.13.
KEEP_ENV = ("LANG", "LC_ALL", "TZ")
CHROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Runs as `sh -c SETUP sh ROOT SHARED... -- CWD COMMAND...` inside the new mount namespace.
_SETUP = ('set -e; r="$1"; shift; mount -t proc proc "$r/proc"; mount --rbind /dev "$r/dev"; '
          'while [ "$1" != "--" ]; do mkdir -p "$r$1"; mount --rbind "$1" "$r$1"; shift; done; shift; '
          'exec chroot "$r" /bin/sh -c \'cd "$1" && shift && exec "$@"\' sh "$@"')


def requested_version() -> str:
    """KODI from the environment: "20" (the default) or "21"."""
    version = os.environ.get("KODI", "").strip() or "20"
    if version not in VERSIONS:
        raise ValueError("KODI=%s: the real-Kodi tests run Kodi %s" % (version, " or ".join(VERSIONS)))
    return version


class KodiRoot:
    """A Debian 13 root holding Kodi 21, and how to run a command chrooted in it."""

    def __init__(self, path: Path):
        self.path = Path(path).resolve()

    @classmethod
    def from_env(cls) -> "KodiRoot":
        return cls(Path(os.environ.get("KODI21_ROOT") or DEFAULT_ROOT))

    @property
    def version(self) -> Optional[str]:
        """The kodi package version the builder recorded, or None if the root is missing or half-built."""
        try:
            return (self.path / READY).read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def kodi_bin(self) -> Optional[str]:
        """kodi.bin's path inside the root."""
        found = sorted(glob.glob(str(self.path / "usr" / "lib" / "*" / "kodi" / "kodi.bin")))
        return "/" + str(Path(found[0]).relative_to(self.path)) if found else None

    def problems(self) -> List[str]:
        """What keeps Kodi 21 from running here, empty if nothing."""
        problems = []
        if os.geteuid() != 0:
            problems.append("root privileges (Kodi 21 runs chrooted in a Debian 13 root)")
        problems += ["%s on the machine" % tool for tool in ("unshare", "chroot") if shutil.which(tool) is None]
        if self.version is None:
            problems.append("the Kodi 21 root in %s (build it: %s)" % (self.path, BUILD_HINT))
        elif self.kodi_bin() is None:
            problems.append("kodi.bin in the Kodi 21 root %s (rebuild it: rm -rf it, then %s)"
                            % (self.path, BUILD_HINT))
        return problems

    def command(self, argv: Sequence[str], cwd: Path, shared: Sequence[Path] = ()) -> List[str]:
        """argv (paths inside the root) run chrooted, from cwd, with /tmp and `shared` folders mounted at the
        same paths as on the machine. The process keeps its pid through exec, so signals and the exit code
        are kodi.bin's own."""
        return (["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", _SETUP, "sh",
                 str(self.path)] + _outermost(["/tmp"] + [str(Path(p).resolve()) for p in shared])
                + ["--", str(cwd)] + list(argv))

    @staticmethod
    def environment(env: Dict[str, str]) -> Dict[str, str]:
        """A clean environment for a chrooted process: PATH, the locale, then env."""
        clean = {key: os.environ[key] for key in KEEP_ENV if key in os.environ}
        clean["PATH"] = CHROOT_PATH
        clean.update(env)
        return clean


def _outermost(paths: Sequence[str]) -> List[str]:
    """The paths without those inside another one of them (already mounted with it)."""
    kept: List[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path == outer or path.startswith(outer.rstrip("/") + "/") for outer in kept):
            kept.append(path)
    return kept
