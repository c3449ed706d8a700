"""`tune --workers N`: keras-tuner's distributed mode, started and supervised on one host.

keras-tuner's distributed mode is a chief that holds the oracle and serves it
over gRPC, and workers that ask it for trials, run them and report back; the
roles come from `KERASTUNER_TUNER_ID` (`chief` or a worker's id),
`KERASTUNER_ORACLE_IP` and `KERASTUNER_ORACLE_PORT`. Here the chief is the
`archbuilder tune` process itself (its oracle served by keras-tuner's own
`OracleServicer`), and each worker is a `python -m archbuilder.tuning.workers RUN_DIR`
subprocess with its tuner id `tuner0`, `tuner1`, ... and, where the host has
several GPUs, its own `CUDA_VISIBLE_DEVICES`.

Workers are fresh interpreters: started with a plain `subprocess.Popen` (no
`preexec_fn`, so CPython execs through vfork), never forked from the chief, whose gRPC
server runs threads that a fork would copy mid-call (gRPC then warns "skipping fork()
handlers" and a child may abort). Each worker asks the kernel itself, first thing, for
SIGTERM when its supervisor dies (`PR_SET_PDEATHSIG`), and holds its own lock,
`tuner/<tuner id>.lock`, so two workers with one id are refused.

keras-tuner's chief waits forever for the trial of a worker that died; the
oracle hands an unfinished trial back to the tuner id that held it, so a dead
worker is restarted under the same id and finishes that trial. Supervision is
per host: workers on other hosts (`archbuilder tune` with `KERASTUNER_*` set to
a worker id) are supervised by their own host's `archbuilder tune --workers N`.
"""

import os
import subprocess
import sys
import time

from archbuilder import compat
from archbuilder.environ import environment
from archbuilder.errors import ArchbuilderError
from archbuilder.run.prepare import prepare_data
from archbuilder.run.rundir import FileLock
from archbuilder.spec.load import load_spec
from archbuilder.tuning.hypermodel import SpecHyperModel
from archbuilder.tuning.job import finished_count
from archbuilder.tuning.job import read_job
from archbuilder.tuning.job import write_job
from archbuilder.tuning.resume import reloading
from archbuilder.tuning.settings import objective_of
from archbuilder.tuning.settings import search_settings
from archbuilder.tuning.tuners import PROJECT
from archbuilder.tuning.tuners import make_tuner

__all__ = ["Supervisor", "chief_environment", "run_chief", "supervise_remote", "run_worker", "gpu_ids", "main"]

MAX_RESTARTS = 5
POLL_SECONDS = 0.5


SUPERVISOR_PID = "ARCHBUILDER_SUPERVISOR_PID"  # set for each worker: the process that started it


def _die_with_parent():
    """Linux: this worker gets SIGTERM when its supervisor dies, even by SIGKILL (no orphans
    left waiting an hour on a chief that is gone).

    Asked by the worker itself at start (not in a `preexec_fn`, which would force a fork);
    a supervisor that died before the request was made is noticed by the parent PID.

    Returns:
        False when the supervisor is already gone: the worker should exit.
    """
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:
            pass
    expected = os.environ.get(SUPERVISOR_PID)
    return not (expected and expected.isdigit() and os.getppid() != int(expected))


JAX_GPU_SHARE = 0.9  # the part of a GPU's memory JAX workers sharing it split between them
PREALLOCATE = "XLA_PYTHON_CLIENT_PREALLOCATE"


def gpu_ids():
    """The GPUs workers may be pinned to: `CUDA_VISIBLE_DEVICES`, else what `nvidia-smi` lists."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [g.strip() for g in visible.split(",") if g.strip() and g.strip() != "-1"]
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


class Supervisor:
    """Starts worker processes and restarts each one that dies, under the same tuner id.

    Args:
        command: the worker's argv.
        tuner_ids: one worker per id.
        oracle_ip: where the chief listens (as workers should dial it).
        oracle_port: the chief's port.
        log_dir: each worker's stdout and stderr go to `log_dir/<tuner id>.log`.
        gpus: GPU ids; with more than one, worker i gets `gpus[i % len(gpus)]`. With
            fewer GPUs than workers, workers sharing a GPU take memory as they need it
            (TensorFlow) or an equal part of 90% of it (JAX's `XLA_PYTHON_CLIENT_MEM_FRACTION`).
    """

    def __init__(self, command, tuner_ids, oracle_ip, oracle_port, log_dir, gpus=None):
        self.command = list(command)
        self.tuner_ids = list(tuner_ids)
        self.oracle_ip = oracle_ip
        self.oracle_port = str(oracle_port)
        self.log_dir = log_dir
        self.gpus = list(gpus if gpus is not None else gpu_ids())
        self.processes = {}
        self.restarts = dict.fromkeys(self.tuner_ids, 0)
        self.finished = set()

    def _env(self, index, tuner_id):
        env = dict(os.environ)
        env.update({"KERASTUNER_TUNER_ID": tuner_id, "KERASTUNER_ORACLE_IP": self.oracle_ip,
                    "KERASTUNER_ORACLE_PORT": self.oracle_port, "PYTHONUNBUFFERED": "1",
                    SUPERVISOR_PID: str(os.getpid())})
        if len(self.gpus) > 1:
            env["CUDA_VISIBLE_DEVICES"] = self.gpus[index % len(self.gpus)]
        if len(self.gpus) < len(self.tuner_ids):  # workers share a GPU
            env.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")  # TensorFlow: take memory as needed
            # JAX preallocates 75% of the GPU per process: a second worker would not fit.
            sharing = -(-len(self.tuner_ids) // max(len(self.gpus), 1))
            env.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", f"{JAX_GPU_SHARE / sharing:.2f}")
        return env

    def start(self, tuner_id):
        """Starts the worker `tuner_id` as a fresh interpreter (an exec, never a fork of this process)."""
        os.makedirs(self.log_dir, exist_ok=True)
        index = self.tuner_ids.index(tuner_id)
        with open(os.path.join(self.log_dir, f"{tuner_id}.log"), "ab") as log:
            self.processes[tuner_id] = subprocess.Popen(self.command, env=self._env(index, tuner_id), stdout=log,
                                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                        close_fds=True)

    def start_all(self):
        for tuner_id in self.tuner_ids:
            self.start(tuner_id)

    def poll(self, warn=None):
        """Restarts dead workers; returns True when every worker has exited cleanly.

        Raises:
            ArchbuilderError: a worker died more than `MAX_RESTARTS` times.
        """
        for tuner_id, process in list(self.processes.items()):
            code = process.poll()
            if code is None or tuner_id in self.finished:
                continue
            if code == 0:
                self.finished.add(tuner_id)
                continue
            self.restarts[tuner_id] += 1
            log = os.path.join(self.log_dir, f"{tuner_id}.log")
            if self.restarts[tuner_id] > MAX_RESTARTS:
                raise ArchbuilderError(f"worker {tuner_id} died {self.restarts[tuner_id]} times (last exit code "
                                       f"{code}); its log: {log}")
            if warn:
                warn(f"worker {tuner_id} exited with code {code}; restarting it with the same "
                     f"KERASTUNER_TUNER_ID to finish its trial (see {log})")
            self.start(tuner_id)
        return len(self.finished) == len(self.tuner_ids)

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _warn(text):
    print(f"archbuilder: {text}", file=sys.stderr, flush=True)


def _serve(oracle, ip, port):
    """Serves `oracle` with keras-tuner's own `OracleServicer`; returns the server and its port."""
    from concurrent import futures

    import grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    compat.kt_protos.get_service_grpc().add_OracleServicer_to_server(compat.OracleServicer(oracle), server)
    bound = server.add_insecure_port(f"{ip}:{port}")
    if not bound:
        raise ArchbuilderError(f"cannot listen on {ip}:{port} for the tuning workers")
    server.start()
    return server, bound


def chief_environment():
    """While a chief's search runs: JAX does not preallocate a GPU its workers share (the variable restored after).

    The chief only serves the oracle while workers train: on JAX its device query (for
    env.json) must not take 75% of a GPU the workers are about to share; the workers it
    starts inherit the setting.
    """
    return environment({PREALLOCATE: "false"}, unset_only=True)


def run_chief(spec, settings, objective, hypermodel, run_dir, report, deadline, workers, **chosen):
    """The chief: serves the oracle, runs `workers` local workers, returns when the search is over.

    `KERASTUNER_ORACLE_IP`/`KERASTUNER_ORACLE_PORT`, when set, say where to listen
    (e.g. `0.0.0.0` and a fixed port for workers on other hosts); else the chief
    listens on 127.0.0.1 at a free port.
    """
    ip = os.environ.get("KERASTUNER_ORACLE_IP", "127.0.0.1")
    port = os.environ.get("KERASTUNER_ORACLE_PORT", "0")
    roles = {"KERASTUNER_TUNER_ID": "chief", "KERASTUNER_ORACLE_IP": ip, "KERASTUNER_ORACLE_PORT": port}
    with environment(roles):
        with reloading(run_dir):  # a resumed project that keras-tuner cannot read back: one line
            tuner = make_tuner(settings, objective, hypermodel, run_dir, PROJECT, on_trial_end=report.trial_ended,
                               deadline=deadline, **chosen)
        tuner.save()
    oracle = tuner.oracle
    report.oracle = oracle
    report.header(settings, resumed=finished_count(oracle))
    server, port = _serve(oracle, ip, port)
    dial = "127.0.0.1" if ip in ("0.0.0.0", "::", "[::]") else ip
    supervisor = Supervisor([sys.executable, "-m", "archbuilder.tuning.workers", os.path.abspath(run_dir)],
                            [f"tuner{i}" for i in range(workers)], dial, port, os.path.join(run_dir, PROJECT, "logs"))
    if not report.quiet and workers:
        _warn(f"chief listening on {ip}:{port}; {workers} worker(s), logs in {supervisor.log_dir}")
    elif not workers:
        _warn(f"chief listening on {ip}:{port}; waiting for workers (KERASTUNER_ORACLE_PORT={port})")
    try:
        supervisor.start_all()
        while True:
            # Over when every local worker was told to stop and exited, and no
            # worker anywhere (other hosts included) still holds a trial.
            if supervisor.poll(warn=_warn) and oracle.stopped and not oracle.ongoing_trials:
                break
            time.sleep(POLL_SECONDS)
    finally:
        supervisor.stop()
        server.stop(grace=2)
    return tuner


def supervise_remote(spec, data, out, workers, quiet):
    """On a worker host: `workers` supervised workers named `<KERASTUNER_TUNER_ID><i>` against the chief."""
    if out is None:
        raise ArchbuilderError("a worker host needs --out: the run directory its trials are recorded in")
    prefix = os.environ["KERASTUNER_TUNER_ID"]
    os.makedirs(os.path.join(out, PROJECT), exist_ok=True)
    with FileLock(os.path.join(out, PROJECT, f"{prefix}.workers.lock"), f"the trials of workers {prefix}0, {prefix}1, ..."):
        write_job(out, spec, data, quiet)
        _supervise(prefix, out, workers, quiet)


def _supervise(prefix, out, workers, quiet):
    supervisor = Supervisor([sys.executable, "-m", "archbuilder.tuning.workers", os.path.abspath(out)],
                            [f"{prefix}{i}" for i in range(workers)], os.environ["KERASTUNER_ORACLE_IP"],
                            os.environ["KERASTUNER_ORACLE_PORT"], os.path.join(out, PROJECT, "logs"))
    try:
        supervisor.start_all()
        while not supervisor.poll(warn=_warn):
            time.sleep(POLL_SECONDS)
    finally:
        supervisor.stop()
    if not quiet:
        print(f"workers {', '.join(supervisor.tuner_ids)} done; their trial records are in "
              f"{os.path.join(out, PROJECT)} (the chief writes trials.csv and best.json)")


def run_worker(spec, data, out):
    """One keras-tuner worker: takes trials from the chief oracle until it says stop.

    The chief is reached through `KERASTUNER_ORACLE_IP`/`KERASTUNER_ORACLE_PORT`;
    `KERASTUNER_TUNER_ID` names this worker (a worker restarted with the same id
    gets its unfinished trial back). Each trial's record goes to `out/tuner/`.
    """
    if out is None:
        raise ArchbuilderError("a worker needs --out: the run directory its trials are recorded in")
    os.makedirs(os.path.join(out, PROJECT), exist_ok=True)
    tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "worker")
    with FileLock(os.path.join(out, PROJECT, f"{tuner_id}.lock"), f"the trials of worker {tuner_id}"):
        _work(spec, data, out)


def _work(spec, data, out):
    settings = search_settings(spec)
    objective = objective_of(spec)
    dataset = prepare_data(spec, data)
    hypermodel = SpecHyperModel(spec, dataset=dataset)
    with reloading(out):
        tuner_ = make_tuner(settings, objective, hypermodel, out, PROJECT)
    tuner_.search(dataset, verbose=0)


def main(argv=None):
    """`python -m archbuilder.tuning.workers RUN_DIR`: one worker of the search whose job is in RUN_DIR/tuner/job.json."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m archbuilder.tuning.workers RUN_DIR  (with KERASTUNER_* set)", file=sys.stderr)
        return 2
    run_dir = argv[0]
    if not _die_with_parent():
        print("archbuilder: the supervisor of this worker is gone; exiting", file=sys.stderr)
        return 1
    try:
        job = read_job(run_dir)
        os.chdir(job["cwd"])
        spec = load_spec(job["spec"], source=job["source"])
        spec.base_dir = job["base_dir"]
        run_worker(spec, job["data"], run_dir)
    except ArchbuilderError as e:  # one line per problem in the worker's log, as the CLI would say it
        for line in e.lines():
            print(line, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
