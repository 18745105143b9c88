"""A standalone Spark cluster for the tests, and the driver that runs journeys on it.

Users who outgrow one machine point journeys at a cluster with
``connect("spark", spark_master="spark://host:7077")``. The tests in
``tests/test_spark_cluster.py`` check that path end to end: a master and two workers
are started here from the PySpark distribution installed in the virtual environment
(``pyspark/bin/spark-class``), on 127.0.0.1 and on free ports, each with its own
configuration, log, local and work folders.

Why the driver runs in a subprocess
-----------------------------------
A Python process holds at most one running ``SparkContext``. The local-mode fixture
``spark_con`` of ``tests/conftest.py`` is session-scoped and keeps its session until the
end of the run; it may be created before or after the cluster tests. Connecting to the
cluster in the test process would mean stopping that session under the other tests'
feet (its Ibis backend would keep pointing at a stopped context) and starting it again
afterwards, which cannot be done cleanly from outside the fixture. So the cluster's
driver is a separate process, ``python -m tests.spark_cluster``, which connects through
the public API, reads the events, runs the analyses and writes their JSON to a file.
The test process only compares that JSON with DuckDB's and with plain-Python
computations; the local session, whatever its state, is never touched, and the
driver's JVM ends with the subprocess.

Every process started here runs in its own process group (``start_new_session``), so
that stopping a daemon also stops what it started (executors, Python workers).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from ibis.backends import BaseBackend

FUNNEL_STEPS = ["catalog", "product1|product2", "cart", "payment_done"]
FUNNEL_WINDOW = "30d"
MAX_STEPS = 6
ROOT = Path(__file__).resolve().parents[1]

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


class ClusterError(RuntimeError):
    """The cluster could not be started, or its driver failed."""


def pyspark_home() -> Path:
    """The folder of the installed ``pyspark`` package, which is a Spark distribution.

    Returns
    -------
    Path
        The package folder, holding ``bin/spark-class`` and ``jars/``.
    """
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def find_java_home() -> Path:
    """The Java installation that Spark will use: ``JAVA_HOME``, else ``java`` on the PATH.

    Returns
    -------
    Path
        A folder with ``bin/java`` that answers ``java -version`` with version 17 or later.

    Raises
    ------
    ClusterError
        When no Java is found, or it does not run, or it is older than 17.
    """
    advice = (
        "the Spark cluster tests need Java 17 (Debian/Ubuntu: "
        "`apt-get install -y openjdk-17-jre-headless`, as .ci/run does), "
        "on the PATH or in JAVA_HOME"
    )
    if os.environ.get("JAVA_HOME"):
        java = Path(os.environ["JAVA_HOME"]) / "bin" / "java"
    else:
        found = shutil.which("java")
        if found is None:
            raise ClusterError(f"no `java` on the PATH and JAVA_HOME is not set: {advice}")
        java = Path(found).resolve()
    try:
        answer = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=60, check=True
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise ClusterError(f"`{java} -version` failed ({error}): {advice}") from None
    version = _java_major_version(answer.stderr + answer.stdout)
    if version is None or version < 17:
        raise ClusterError(f"{java} is Java {version or 'of unknown version'}: {advice}")
    return java.parent.parent


def _java_major_version(text: str) -> int | None:
    """The major version in the output of ``java -version`` (``"17.0.15"`` gives 17)."""
    for line in text.splitlines():
        if "version" in line and '"' in line:
            number = line.split('"')[1]
            parts = number.split(".")
            major = parts[1] if parts[0] == "1" and len(parts) > 1 else parts[0]
            digits = "".join(c for c in major if c.isdigit())
            return int(digits) if digits else None
    return None


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 that were free a moment ago.

    Parameters
    ----------
    count
        How many ports.

    Returns
    -------
    list[int]
        The port numbers, chosen by the kernel.
    """
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file, or a note that it does not exist."""
    if not path.exists():
        return f"({path} does not exist)"
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return f"--- {path} (last {len(text)} lines) ---\n" + "\n".join(text)


def stop_group(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    """Stop a process and everything in its process group, forcibly if it lingers.

    Parameters
    ----------
    process
        A process started with ``start_new_session=True`` (its pid is its group id).
    grace
        Seconds to wait after SIGTERM before SIGKILL.
    """
    group = process.pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _kill_group(group)
        process.wait(timeout=grace)
    # Children (executors, Python workers) may outlive the leader for a moment.
    deadline = time.monotonic() + grace
    while _group_alive(group):
        if time.monotonic() > deadline:
            _kill_group(group)
            break
        time.sleep(0.2)


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM interrupts the run as Ctrl-C does, so teardown runs.

    ``timeout pytest ...`` and CI runners stop pytest with SIGTERM, which by default ends
    the process without running fixture finalizers; the cluster's daemons, in their own
    sessions, would then outlive it. Only a default handler in the main thread is
    replaced, and it is put back at the end.

    Yields
    ------
    None
    """

    def interrupt(signum: int, frame: FrameType | None) -> NoReturn:
        raise KeyboardInterrupt(f"signal {signum}")

    replace = (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    )
    if replace:
        signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        if replace:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _kill_group(group: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class StandaloneCluster:
    """A Spark standalone master and its workers, on 127.0.0.1, for the time of a test run.

    Parameters
    ----------
    root
        An empty folder for the configuration, logs and work folders of every process.
    workers
        How many workers, of one core and ``worker_memory`` each.
    python
        The Python of the driver and of the executors' Python workers: they must match.
    worker_memory
        The memory each worker offers to executors (one executor of 1g fits in 1g).
    """

    root: Path
    workers: int = 2
    python: str = sys.executable
    worker_memory: str = "1g"
    spark_home: Path = field(default_factory=pyspark_home)
    java_home: Path | None = None
    master_port: int = 0
    webui_port: int = 0
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    @property
    def master_url(self) -> str:
        """The URL that drivers connect to: ``spark://127.0.0.1:PORT``."""
        return f"spark://127.0.0.1:{self.master_port}"

    @property
    def webui_url(self) -> str:
        """The master's web UI, whose ``/json/`` page describes workers and applications."""
        return f"http://127.0.0.1:{self.webui_port}"

    @property
    def conf_dir(self) -> Path:
        """The ``SPARK_CONF_DIR`` of every process (holds ``spark-defaults.conf``)."""
        return self.root / "conf"

    def environment(self, name: str) -> dict[str, str]:
        """The environment of one process of the cluster, or of its driver.

        Parameters
        ----------
        name
            The process's name, which is also its folder under ``root``.

        Returns
        -------
        dict[str, str]
            ``os.environ`` with Spark's home, Java, Python and folders set.
        """
        if self.java_home is None:
            raise ClusterError("the cluster is not started")
        own = self.root / name
        local = own / "local"
        local.mkdir(parents=True, exist_ok=True)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SPARK_", "PYSPARK_")) and key != "PYTHONPATH"
        }
        env.update(
            SPARK_HOME=str(self.spark_home),
            SPARK_CONF_DIR=str(self.conf_dir),
            SPARK_LOG_DIR=str(own),
            SPARK_PID_DIR=str(own),
            SPARK_LOCAL_DIRS=str(local),
            SPARK_LOCAL_IP="127.0.0.1",
            SPARK_LOCAL_HOSTNAME="127.0.0.1",
            JAVA_HOME=str(self.java_home),
            PYSPARK_PYTHON=self.python,
            PYSPARK_DRIVER_PYTHON=self.python,
            PYTHONPATH=str(ROOT),
        )
        return env

    def start(self, timeout: float = 180.0) -> None:
        """Start the master and the workers and wait until every worker is ALIVE.

        Parameters
        ----------
        timeout
            Seconds to wait for the workers to register.

        Raises
        ------
        ClusterError
            When Java is missing or a process dies or the workers do not register in time.
            The processes already started keep running: call :meth:`stop`.
        """
        self.java_home = find_java_home()
        spark_class = self.spark_home / "bin" / "spark-class"
        if not spark_class.exists():
            raise ClusterError(f"{spark_class} does not exist: is pyspark installed whole?")
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        (self.conf_dir / "spark-defaults.conf").write_text(
            "spark.ui.showConsoleProgress false\n"
            "spark.driver.host 127.0.0.1\n"
            "spark.driver.bindAddress 127.0.0.1\n"
            "spark.executor.memory 1g\n"
        )
        ports = free_ports(2 + 2 * self.workers)
        self.master_port, self.webui_port = ports[0], ports[1]
        master = ["--host", "127.0.0.1", "--port", str(self.master_port)]
        self._launch("master", [MASTER_CLASS, *master, "--webui-port", str(self.webui_port)])
        for number in range(1, self.workers + 1):
            name = f"worker-{number}"
            port, webui = ports[2 * number], ports[2 * number + 1]
            work = self.root / name / "work"
            work.mkdir(parents=True, exist_ok=True)
            options = ["--host", "127.0.0.1", "--port", str(port), "--webui-port", str(webui)]
            options += ["--cores", "1", "--memory", self.worker_memory, "--work-dir", str(work)]
            self._launch(name, [WORKER_CLASS, self.master_url, *options])
        self.wait_for_workers(timeout)

    def _launch(self, name: str, arguments: Sequence[str]) -> None:
        log = self.root / name / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as output:
            process = subprocess.Popen(
                [str(self.spark_home / "bin" / "spark-class"), *arguments],
                env=self.environment(name),
                cwd=log.parent,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append((name, process))

    def status(self) -> dict[str, Any]:
        """The master's description of itself, its workers and applications (``/json/``).

        Returns
        -------
        dict[str, Any]
            The parsed JSON of the master's web UI.
        """
        with urllib.request.urlopen(f"{self.webui_url}/json/", timeout=5) as answer:
            status: dict[str, Any] = json.load(answer)
        return status

    def alive_workers(self) -> int:
        """How many workers the master sees ALIVE (0 while its web UI does not answer)."""
        try:
            workers = self.status().get("workers", [])
        except (OSError, ValueError, urllib.error.URLError):
            return 0
        return sum(1 for worker in workers if worker.get("state") == "ALIVE")

    def wait_for_workers(self, timeout: float) -> None:
        """Wait until the master reports every worker ALIVE.

        Parameters
        ----------
        timeout
            Seconds before giving up.

        Raises
        ------
        ClusterError
            When a process exits or time runs out; the message holds the logs' ends.
        """
        deadline = time.monotonic() + timeout
        while True:
            dead = [(name, p.returncode) for name, p in self.processes if p.poll() is not None]
            if dead:
                raise ClusterError(f"Spark processes exited early: {dead}\n{self.logs()}")
            if self.alive_workers() == self.workers:
                return
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"the master at {self.master_url} did not see {self.workers} ALIVE "
                    f"workers within {timeout:.0f} s\n{self.logs()}"
                )
            time.sleep(0.5)

    def logs(self) -> str:
        """The ends of every process's log, for error messages."""
        return "\n".join(tail(self.root / name / f"{name}.log") for name, _ in self.processes)

    def stop(self) -> None:
        """Stop the workers, then the master, with everything they started."""
        while self.processes:
            _, process = self.processes.pop()
            stop_group(process)

    def run_driver(self, data: Path, timeout: float = 900.0) -> dict[str, Any]:
        """Run the analyses on the cluster in a driver subprocess and return their JSON.

        Parameters
        ----------
        data
            The events file; it is given to Spark as an absolute path, which the
            executors can read because they run on this machine.
        timeout
            Seconds before the driver is stopped.

        Returns
        -------
        dict[str, Any]
            What :func:`main` writes: the driver's facts and each analysis's JSON.

        Raises
        ------
        ClusterError
            When the driver fails or runs out of time; the message holds its log's end.
        """
        folder = self.root / "driver"
        folder.mkdir(parents=True, exist_ok=True)
        output, log = folder / "results.json", folder / "driver.log"
        command = [self.python, "-m", "tests.spark_cluster", "--executors", str(self.workers)]
        command += [self.master_url, str(data.resolve()), str(output)]
        with log.open("wb") as handle:
            process = subprocess.Popen(
                command,
                env=self.environment("driver"),
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                stop_group(process)
                raise ClusterError(
                    f"the driver ran longer than {timeout:.0f} s\n{tail(log)}\n{self.logs()}"
                ) from None
            finally:
                if process.poll() is None:
                    stop_group(process)
        if code != 0 or not output.exists():
            raise ClusterError(f"the driver exited with {code}\n{tail(log, 80)}")
        results: dict[str, Any] = json.loads(output.read_text())
        return results


def run_analyses(con: BaseBackend, data: Path) -> dict[str, Any]:
    """Read the events and run the funnel, step matrix and retention, as their JSON.

    Parameters
    ----------
    con
        A connection from ``journeys.connect``.
    data
        The events file.

    Returns
    -------
    dict[str, Any]
        ``{"funnel": ..., "step_matrix": ..., "retention": ...}``, each the parsed
        ``to_json()`` of the result.
    """
    import journeys

    log = journeys.read_events(data, connection=con)
    funnel = journeys.funnel(log, journeys.FunnelParams(steps=FUNNEL_STEPS, window=FUNNEL_WINDOW))
    matrix = journeys.step_matrix(log, journeys.StepMatrixParams(max_steps=MAX_STEPS))
    retention = journeys.retention(log, journeys.RetentionParams(period="month"))
    return {
        "funnel": json.loads(funnel.to_json()),
        "step_matrix": json.loads(matrix.to_json()),
        "retention": json.loads(retention.to_json()),
    }


def _executors(session: Any) -> int:
    """How many executors have registered with the driver (the driver itself excluded)."""
    count: int = session.sparkContext._jsc.sc().getExecutorMemoryStatus().size()
    return count - 1


def _executor_pythons(session: Any) -> list[str]:
    """The Python interpreters that ran tasks on the executors."""
    context = session.sparkContext
    tasks = context.parallelize(range(8), 8)
    return sorted(set(tasks.map(lambda _: sys.executable).collect()))


def main(argv: Sequence[str] | None = None) -> None:
    """Connect to a cluster, run the analyses and write their JSON to a file.

    Parameters
    ----------
    argv
        ``[--executors N] MASTER_URL DATA OUTPUT`` (default: the command line). The
        driver waits up to two minutes for N executors (default 2) before it starts.
    """
    parser = argparse.ArgumentParser(prog="python -m tests.spark_cluster")
    parser.add_argument("--executors", type=int, default=2)
    parser.add_argument("master")
    parser.add_argument("data", type=Path)
    parser.add_argument("output", type=Path)
    arguments = parser.parse_args(argv)
    if not arguments.data.is_absolute():
        parser.error("DATA must be an absolute path, for the executors to find it")

    from pyspark.sql import SparkSession

    import journeys

    started = time.monotonic()
    con = journeys.connect("spark", spark_master=arguments.master)
    session = SparkSession.getActiveSession()
    if session is None:
        raise SystemExit("journeys.connect('spark') left no active Spark session")
    try:
        connected = time.monotonic()
        # Executors register a moment after the application; wait for all of them so
        # that the work is spread over the cluster, not run by the first one alone.
        deadline = connected + 120
        while _executors(session) < arguments.executors and time.monotonic() < deadline:
            time.sleep(0.5)
        ready = time.monotonic()
        results = run_analyses(con, arguments.data)
        results["driver"] = {
            "master": session.sparkContext.master,
            "executors": _executors(session),
            "executor_pythons": _executor_pythons(session),
            "seconds": {
                "connect": round(connected - started, 1),
                "await_executors": round(ready - connected, 1),
                "analyses": round(time.monotonic() - ready, 1),
            },
        }
    finally:
        session.stop()
    arguments.output.write_text(json.dumps(results))


if __name__ == "__main__":
    main()
