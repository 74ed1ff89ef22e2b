"""Re-runs the calling script under bench/compare/venv.sh's Python with the given pinned anchor
packages installed (once per process tree: the child sees ORCHARD_ANCHOR_CHILD=1)."""
import os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def reexec_with(pins):
    if os.environ.get("ORCHARD_ANCHOR_CHILD") == "1":
        return
    py = subprocess.check_output([os.path.join(ROOT, "bench/compare/venv.sh")] + list(pins), text=True).strip()
    os.environ["ORCHARD_ANCHOR_CHILD"] = "1"
    os.execv(py, [py] + sys.argv)
