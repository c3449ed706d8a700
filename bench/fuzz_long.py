"""Long fuzz run: the strategies of tests/fuzz_strategies.py for N minutes; counts for BENCHMARKS.md.

A watchdog process runs the fuzzing in a worker process and restarts it when it
stops answering (a hang, even one stuck in C code) or grows past a memory limit.
Each case is one of: a spec drawn from the schema (validate), a mutated spec
(validate), file bytes damaged as text or re-encoded (parse + validate), noise,
any JSON value; a few go through the real CLI (`python -m archbuilder validate`,
exit 0/1, no traceback) and a few accepted specs are built (`build_spec`:
a model or located errors).

A *traceback* is any exception other than archbuilder's located `SpecErrors`
(or an exit code other than 0/1 or a traceback on the CLI's stderr); a *bad
answer* is an error that is not one short located line; a *hang* is a case over
`--case-seconds`, or a worker that stopped answering. The first example of each
distinct failure (exception type and the archbuilder line that raised it) is
saved under `--out`.

Usage:
    nice -n 19 python bench/fuzz_long.py --minutes 10 [--out fuzz-out] [--cli-every 100] [--build-every 400]
"""

import argparse
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

SOURCE = "fuzz.json"


# --- the worker -------------------------------------------------------------------------------


class CaseTimeout(BaseException):
    """A BaseException, so that no `except Exception` in the code under test swallows it."""


class _Stop(BaseException):
    """The run's time is up (ends a hypothesis batch early)."""


def _on_alarm(signum, frame):
    raise CaseTimeout()


def _signature(error):
    """`Type at file:line` of the innermost archbuilder frame (else the innermost frame)."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if f"{os.sep}archbuilder{os.sep}" in f.filename] or frames
    where = f"{os.path.relpath(ours[-1].filename, ROOT)}:{ours[-1].lineno}" if ours else "?"
    return f"{type(error).__name__} at {where}"


class Worker:
    def __init__(self, args):
        self.args = args
        self.counts = collections.Counter()
        self.failures = collections.Counter()  # signature -> count
        self.kinds = collections.Counter()
        self.out = args.out
        self.last_flush = 0.0
        os.makedirs(os.path.join(self.out, "failures"), exist_ok=True)

    # Each case: returns an outcome name; raises for a traceback.
    def validate(self, doc):
        from archbuilder.spec.load import validate_spec

        import fuzz_strategies as fs

        errors, plan = validate_spec(doc, SOURCE)
        if errors:
            problems = fs.answer_problems(errors, SOURCE)
            if problems:
                return "bad_answer", problems
            return "refused", None
        return "accepted", None

    def parse_and_validate(self, data):
        from archbuilder.errors import SpecErrors
        from archbuilder.format.jsonfile import parse_json

        import fuzz_strategies as fs

        try:
            doc = parse_json(data, SOURCE)
        except SpecErrors as e:
            problems = fs.answer_problems(e.errors, SOURCE)
            return ("bad_answer", problems) if problems else ("parse_error", None)
        try:
            json.dumps(doc, allow_nan=False)
        except ValueError:
            return "bad_answer", ["parsed to a non-finite number (NaN/Infinity slipped through)"]
        return self.validate(doc)

    def cli(self, data):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "case.json")
            with open(path, "wb") as f:
                f.write(data)
            env = {**os.environ, "PYTHONPATH": ROOT}
            proc = subprocess.run([sys.executable, "-m", "archbuilder", "validate", path], capture_output=True,
                                  text=True, timeout=self.args.case_seconds * 6, env=env)
        if proc.returncode not in (0, 1) or "Traceback" in proc.stderr or "internal error" in proc.stderr:
            first = (proc.stderr.strip().splitlines() or ["(no stderr)"])[-1][:200]
            raise RuntimeError(f"CLI exit {proc.returncode}: {first}")
        bad = [line for line in proc.stderr.splitlines() if not line.startswith(f"{path}: $") or len(line) > 1000]
        return ("bad_answer", bad[:3]) if bad else (f"cli_exit_{proc.returncode}", None)

    def build(self, doc):
        from archbuilder.model.build import build_spec
        from archbuilder.errors import SpecErrors
        from archbuilder.spec.load import load_spec

        import fuzz_strategies as fs

        doc.pop("backbone", None)
        try:
            spec = load_spec(doc, source=SOURCE)
        except SpecErrors:
            return "refused", None
        try:
            build_spec(spec)
        except SpecErrors as e:
            problems = fs.answer_problems(e.errors, SOURCE)
            return ("bad_answer", problems) if problems else ("build_refused", None)
        return "built", None

    def record(self, kind, case, outcome, detail, error=None):
        self.counts["cases"] += 1
        self.kinds[kind] += 1
        self.counts[outcome] += 1
        if outcome in ("traceback", "hang", "bad_answer"):
            signature = _signature(error) if error is not None else f"{outcome}: {str(detail)[:100]}"
            if outcome == "hang":
                signature = f"hang ({kind})"
            self.failures[signature] += 1
            if self.failures[signature] == 1:
                name = f"{outcome}-{os.getpid()}-{len(self.failures):03d}.json"
                text = case.decode("utf-8", "replace") if isinstance(case, bytes) else case
                with open(os.path.join(self.out, "failures", name), "w", encoding="utf-8") as f:
                    json.dump({"signature": signature, "kind": kind, "detail": detail, "case": text,
                               "traceback": "".join(traceback.format_exception(error)) if error else None},
                              f, indent=1, default=repr)
        now = time.monotonic()
        if now - self.last_flush > 2:
            self.flush()

    def flush(self):
        self.last_flush = time.monotonic()
        state = {"counts": self.counts, "kinds": self.kinds, "failures": self.failures}
        tmp = os.path.join(self.out, f"worker-{os.getpid()}.json.tmp")
        with open(tmp, "w") as f:
            json.dump(state, f)
        os.replace(tmp, tmp[:-4])

    def heartbeat(self, kind, case):
        """Writes the case about to run, so a watchdog that kills a stuck worker can keep it."""
        with open(os.path.join(self.out, f"current-{os.getpid()}"), "w", encoding="utf-8") as f:
            f.write(kind + "\n")
            f.write(case.decode("utf-8", "replace") if isinstance(case, bytes) else case)

    def run_case(self, kind, case_obj, action):
        text = case_obj if isinstance(case_obj, bytes) else json.dumps(case_obj, default=repr)
        self.heartbeat(kind, text)
        limit = self.args.case_seconds * (30 if kind == "build" else 6 if kind == "cli" else 1)
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            outcome, detail = action(case_obj)
        except CaseTimeout:
            self.record(kind, text, "hang", f"over {limit} s")
            return
        except Exception as e:  # a traceback: the thing this run hunts
            signal.setitimer(signal.ITIMER_REAL, 0)
            self.record(kind, text, "traceback", str(e)[:300], e)
            return
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        self.record(kind, text, outcome, detail)

    def loop(self):
        from hypothesis import HealthCheck
        from hypothesis import Phase
        from hypothesis import given
        from hypothesis import settings
        from hypothesis import strategies as st

        import fuzz_strategies as fs

        signal.signal(signal.SIGALRM, _on_alarm)
        deadline = self.args.deadline
        args = self.args

        @settings(max_examples=200, phases=[Phase.generate], deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.data())
        def batch(data):
            if time.time() > deadline:
                raise _Stop()
            # Every choice is drawn (none depends on state), so hypothesis sees one consistent strategy.
            roll = int(data.draw(st.randoms(use_true_random=True)).random() * 10_000)
            if args.cli_every and roll < 10_000 // args.cli_every:
                case = data.draw(st.one_of(fs.spec_bytes().map(lambda c: c[1]), fs.garbage_bytes()))
                return self.run_case("cli", case, self.cli)
            if args.build_every and roll >= 10_000 - 10_000 // args.build_every:
                return self.run_case("build", data.draw(fs.spec_docs()), self.build)
            kind = data.draw(st.sampled_from(["schema", "schema", "mutated", "mutated", "bytes", "bytes",
                                              "garbage", "json"]))
            if kind == "schema":
                self.run_case(kind, data.draw(fs.spec_docs()), self.validate)
            elif kind == "mutated":
                self.run_case(kind, data.draw(fs.mutated_docs()), self.validate)
            elif kind == "bytes":
                self.run_case(kind, data.draw(fs.spec_bytes())[1], self.parse_and_validate)
            elif kind == "garbage":
                self.run_case(kind, data.draw(fs.garbage_bytes()), self.parse_and_validate)
            else:
                self.run_case(kind, json.dumps(data.draw(fs.json_values())).encode(), self.parse_and_validate)

        while time.time() < deadline:
            try:
                batch()
            except _Stop:
                break
            except Exception as e:  # hypothesis itself (e.g. an unsatisfiable draw): note it, go on
                if time.time() > deadline:
                    break
                self.counts["strategy_errors"] += 1
                self.failures[f"strategy: {type(e).__name__}"] += 1
                with open(os.path.join(self.out, "failures", f"strategy-{os.getpid()}.txt"), "a") as f:
                    f.write("".join(traceback.format_exception(e))[-3000:] + "\n\n")
        self.flush()


# --- the watchdog -----------------------------------------------------------------------------


def _rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def watchdog(args):
    os.makedirs(args.out, exist_ok=True)
    deadline = time.time() + args.minutes * 60
    hangs = collections.Counter()
    restarts = 0
    started = time.time()
    while time.time() < deadline - 5:
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--deadline", str(deadline), "--out", args.out,
               "--case-seconds", str(args.case_seconds), "--cli-every", str(args.cli_every),
               "--build-every", str(args.build_every)]
        proc = subprocess.Popen(cmd, cwd=ROOT)
        current = os.path.join(args.out, f"current-{proc.pid}")
        while proc.poll() is None:
            time.sleep(1)
            try:
                idle = time.time() - os.path.getmtime(current)
            except OSError:  # no case started yet (imports)
                idle = 0
            rss = _rss_mb(proc.pid)
            stuck = idle > args.case_seconds * 40
            if stuck or rss > args.max_rss_mb:
                reason = "no answer" if stuck else f"{rss} MB"
                proc.kill()
                proc.wait()
                hangs[reason] += 1
                restarts += 1
                if os.path.exists(current):
                    os.replace(current, os.path.join(args.out, "failures", f"stuck-{proc.pid}.txt"))
                break
        if proc.returncode not in (0, -signal.SIGKILL) and proc.returncode is not None:
            restarts += 1
            hangs[f"worker exit {proc.returncode}"] += 1
    return summarize(args, hangs, time.time() - started)


def summarize(args, watchdog_hangs, seconds):
    counts, kinds, failures = collections.Counter(), collections.Counter(), collections.Counter()
    for name in os.listdir(args.out):
        if name.startswith("worker-") and name.endswith(".json"):
            with open(os.path.join(args.out, name)) as f:
                state = json.load(f)
            counts.update(state["counts"])
            kinds.update(state["kinds"])
            failures.update(state["failures"])
    hangs = counts["hang"] + sum(watchdog_hangs.values())
    result = {
        "minutes": round(seconds / 60, 1),
        "cases": counts["cases"],
        "tracebacks": counts["traceback"],
        "hangs": hangs,
        "bad_answers": counts["bad_answer"],
        "outcomes": {k: v for k, v in counts.items() if k != "cases"},
        "kinds": dict(kinds),
        "distinct_failures": dict(failures.most_common()),
        "watchdog": dict(watchdog_hangs),
    }
    print(f"fuzz_long: {result['cases']:,} cases in {result['minutes']} min: "
          f"{result['tracebacks']} tracebacks, {result['hangs']} hangs, {result['bad_answers']} bad answers")
    print("kinds: " + ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items())))
    print("outcomes: " + ", ".join(f"{k} {v:,}" for k, v in sorted(result["outcomes"].items())))
    for signature, count in failures.most_common():
        print(f"  {count:6d}  {signature}")
    for reason, count in watchdog_hangs.items():
        print(f"  {count:6d}  watchdog: {reason}")
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(f"examples: {os.path.join(args.out, 'failures')}/")
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--out", default="fuzz-out")
    parser.add_argument("--case-seconds", type=float, default=5, help="a validate case slower than this is a hang")
    parser.add_argument("--cli-every", type=int, default=100, help="every Nth case goes through the CLI (0: none)")
    parser.add_argument("--build-every", type=int, default=400, help="every Nth case is built (0: none)")
    parser.add_argument("--max-rss-mb", type=int, default=3000, help="a worker over this is killed (a hang)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.out = os.path.abspath(args.out)
    if args.worker:
        Worker(args).loop()
        return
    result = watchdog(args)
    sys.exit(1 if result["tracebacks"] or result["hangs"] else 0)


if __name__ == "__main__":
    main()
