"""Time and peak memory of archbuilder's refusals (issue 7), for BENCHMARKS.md.

Each row runs the real CLI in a fresh process (interpreter start-up included)
and reports the median wall time over `--repeat` runs and the peak RSS of that
process (read with `getrusage(RUSAGE_CHILDREN)` in a helper process that runs
nothing else). tests/test_limits.py asserts the outcomes and the memory bounds;
this script only measures.

Usage:
    python bench/limits.py [--repeat 3]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from archbuilder.format import jsonfile  # noqa: E402

_MEASURE = ("import resource, subprocess, sys, time, json; t = time.perf_counter(); "
            "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); w = time.perf_counter() - t; "
            "print(json.dumps({'rc': p.returncode, 'wall': w, 'stderr': p.stderr[-400:], "
            "'maxrss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))")

SPECS = {
    "trillion_custom": {"spec_version": 1, "name": "trillion", "family": "custom", "input": {"shape": [1_000_000]},
                        "layers": [{"type": "Dense", "units": 1_000_000}, {"type": "Dense", "units": 10}]},
    "trillion_cnn": {"spec_version": 1, "name": "trillion_cnn", "family": "cnn", "input": {"shape": [1000, 1000, 1]},
                     "conv": [{"filters": 1}], "dense": [{"units": 1_000_000}], "output": {"units": 10}},
    "small_custom": {"spec_version": 1, "name": "small", "family": "custom", "input": {"shape": [40]},
                     "layers": [{"type": "Dense", "units": 10}]},
}


def measure(args, repeat):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))}
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", _MEASURE, *args], capture_output=True, text=True, env=env,
                             check=True, timeout=600)
        runs.append(json.loads(out.stdout))
    first_line = (runs[0]["stderr"].strip().splitlines() or [""])[0]
    return {"rc": runs[0]["rc"], "wall_s": statistics.median(r["wall"] for r in runs),
            "rss_mb": max(r["maxrss_kb"] for r in runs) / 1024, "message": first_line}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "archbuilder"]
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for name, doc in SPECS.items():
            files[name] = os.path.join(tmp, f"{name}.json")
            with open(files[name], "w") as f:
                json.dump(doc, f)
        raw = {
            "oversized (1 MB + 10 B)": json.dumps({**SPECS["small_custom"],
                                                  "description": "x" * (jsonfile.MAX_BYTES + 10)}),
            "nesting 100,000 deep": "[" * 100_000 + "]" * 100_000,
            "5,000-digit integer": '{"spec_version": ' + "9" * 5000 + "}",
            "NaN literal": '{"spec_version": NaN}',
            "duplicate keys": '{"spec_version": 1, "name": "a", "name": "b"}',
        }
        for name, text in raw.items():
            files[name] = os.path.join(tmp, f"raw{len(files)}.json")
            with open(files[name], "w") as f:
                f.write(text)
        rows = [
            ("validate", "10^12 params (custom Dense 10^6 x 10^6)", [*cli, "validate", files["trillion_custom"]]),
            ("validate", "10^12 params (cnn, flatten -> Dense 10^6)", [*cli, "validate", files["trillion_cnn"]]),
            ("build", "10^12 params (custom)", [*cli, "build", files["trillion_custom"], "-o",
                                                os.path.join(tmp, "never.keras")]),
            ("validate", "small valid spec (reference)", [*cli, "validate", files["small_custom"]]),
        ]
        rows += [("validate", name, [*cli, "validate", files[name]]) for name in raw]
        results = [(cmd, what, measure(argv, args.repeat)) for cmd, what, argv in rows]

    print(f"Machine: {platform.node()} ({os.cpu_count()} cores), Python {platform.python_version()}; "
          f"median of {args.repeat} fresh processes, peak RSS the largest.\n")
    print("| command | input | exit | wall (s) | peak RSS (MB) | message |")
    print("|---|---|---|---|---|---|")
    for cmd, what, r in results:
        message = r["message"].split(": ", 1)[-1][:110].replace("|", "\\|")
        print(f"| {cmd} | {what} | {r['rc']} | {r['wall_s']:.2f} | {r['rss_mb']:.0f} | {message} |")


if __name__ == "__main__":
    main()
