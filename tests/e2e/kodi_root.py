"""Which Kodi the real-Kodi tests run: the machine's own (KODI=20, the default), Kodi 19 from a Debian 11 root
(KODI=19) or Kodi 21 from a Debian 13 root (KODI=21), the roots built by tools/kodi_root.py.

Kodi 19 or 21 runs chrooted in its root, in a private mount namespace (`unshare --mount`) where /proc, /dev,
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
VERSIONS = ("19", "20", "21")
ROOTED = {"19": "Debian 11", "21": "Debian 13"}  # the versions that run chrooted, and their root's system
NATIVE = "20"  # the machine's own Kodi
READY = "READY"  # the file tools/kodi_root.py writes last into a finished root
# Passed to the chrooted processes instead of the machine's environment: nothing from the host's Python
# (PYTHONPATH, a venv) may leak into the root's Python (3.9 for Kodi 19, 3.13 for Kodi 21).
KEEP_ENV = ("LANG", "LC_ALL", "TZ")
CHROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Runs as `sh -c SETUP sh ROOT SHARED... -- CWD COMMAND...` inside the new mount namespace.
_SETUP = ('set -e; r="$1"; shift; mount -t proc proc "$r/proc"; mount --rbind /dev "$r/dev"; '
          'while [ "$1" != "--" ]; do mkdir -p "$r$1"; mount --rbind "$1" "$r$1"; shift; done; shift; '
          'exec chroot "$r" /bin/sh -c \'cd "$1" && shift && exec "$@"\' sh "$@"')


def requested_version() -> str:
    """KODI from the environment: "19", "20" (the default) or "21"."""
    version = os.environ.get("KODI", "").strip() or NATIVE
    if version not in VERSIONS:
        raise ValueError("KODI=%s: the real-Kodi tests run Kodi %s" % (version, ", ".join(VERSIONS)))
    return version


def default_root_path(kodi: str) -> Path:
    """$KODI<major>_ROOT, else .cache/kodi<major>-root (where tools/kodi_root.py builds it)."""
    return Path(os.environ.get("KODI%s_ROOT" % kodi) or REPO / ".cache" / ("kodi%s-root" % kodi))


class KodiRoot:
    """A Debian root holding Kodi 19 or 21, and how to run a command chrooted in it."""

    def __init__(self, path: Path, kodi: str = "21"):
        self.path = Path(path).resolve()
        self.kodi = kodi

    @classmethod
    def from_env(cls, kodi: str = "21") -> "KodiRoot":
        return cls(default_root_path(kodi), kodi)

    @property
    def build_hint(self) -> str:
        return "sudo python3 tools/kodi_root.py build --kodi %s" % self.kodi

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
        """What keeps this Kodi from running here, empty if nothing."""
        problems = []
        if os.geteuid() != 0:
            problems.append("root privileges (Kodi %s runs chrooted in a %s root)"
                            % (self.kodi, ROOTED.get(self.kodi, "Debian")))
        problems += ["%s on the machine" % tool for tool in ("unshare", "chroot") if shutil.which(tool) is None]
        if self.version is None:
            problems.append("the Kodi %s root in %s (build it: %s)" % (self.kodi, self.path, self.build_hint))
        elif self.kodi_bin() is None:
            problems.append("kodi.bin in the Kodi %s root %s (rebuild it: rm -rf it, then %s)"
                            % (self.kodi, self.path, self.build_hint))
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
