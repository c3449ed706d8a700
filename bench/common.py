"""Helpers shared by the bench scripts: run a command, time it, find the baseline, print a table."""

import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SMOKE = os.environ.get("SMOKE") == "1"


def baseline_path():
    """`reference_baseline.py` (not in this repository): $REFERENCE_BASELINE, else a copy in bench/."""
    for path in (os.environ.get("REFERENCE_BASELINE"), os.path.join(HERE, "reference_baseline.py")):
        if path and os.path.exists(path):
            return os.path.abspath(path)
    sys.exit("reference_baseline.py not found: set REFERENCE_BASELINE to its path, or copy it to bench/")


def run(cmd, env=None, timeout=3600):
    """Runs `cmd`, returns (wall seconds, stdout); exits with its stderr when it fails."""
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=timeout,
                          cwd=ROOT)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, proc.stdout


def baseline(which, env=None):
    """Runs the reference baseline `which` and returns its RESULT dict."""
    _, out = run([sys.executable, baseline_path(), which], env=env)
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def median_time(cmd, repeat, env=None):
    return statistics.median(run(cmd, env)[0] for _ in range(repeat))


def table(rows, headers):
    """Prints a Markdown table."""
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


def machine():
    import platform

    return f"{platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def peak_rss_mb(cmd, env=None):
    """Runs `cmd` in a fresh wrapper process and returns (wall seconds, peak RSS of `cmd` in MB)."""
    wrapper = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
               "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    wall, out = run([sys.executable, "-c", wrapper, *cmd], env=env)
    return wall, int(out.split()[-1]) / 1024
