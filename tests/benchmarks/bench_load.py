"""A class on one server: N real websocket sessions of ``panel serve app/main.py`` at once.

Starts its own ``panel serve`` on loopback (extra flags with ``--server-args``), waits for the
warm-up compilation to finish (the server's CPU goes quiet), then for each N: N students open
the page at the same time and each moves η and x₀ (:mod:`load_crowd`); reports sessions
opened, first document p50/p95, update p50/p95 (η or x₀ sent -> the redrawn data in that
student's document), errors, lost updates, cross-session leaks and the server's memory (RSS of
the server and its children) before / peak / after closing. Then a churn of ``--churn``
sessions opened and closed ``--batch`` at a time: memory growth per session, as the slope of
the server's RSS after each batch and as (after - before) / sessions. Every phase is bounded
in time; the server is killed at the end. Not a test: figures to watch. The clients share the
machine's cores with the server: by default they speak the protocol by hand
(:mod:`load_wire`, as light for this machine as the students' own browsers are);
``--client bokeh`` uses ``bokeh.client``, which rebuilds every page as Python models here and
then costs more CPU than the server. ``--root`` serves another checkout (an older commit's
worktree) for a before/after.

    .venv/bin/python tests/benchmarks/bench_load.py [--n 10 25 50] [--churn 200]
        [--client wire|bokeh] [--root CHECKOUT] [--server-args "--num-procs 2"] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from load_client import Student  # noqa: E402
from load_wire import WireStudent  # noqa: E402
from load_crowd import churn, run_class  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def family(pid: int) -> list[int]:
    """``pid`` and all its descendants (``--num-procs`` forks workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def rss_mb(pid: int) -> float:
    total = 0
    for p in family(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
        except (OSError, StopIteration):
            pass
    return total / 1024


def cpu_s(pid: int) -> float:
    total = 0
    for p in family(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            pass
    return total / TICK


def wait_quiet(pid: int, limit: float = 240.0, window: float = 4.0, rate: float = 0.15) -> float:
    """Wait until the server uses < ``rate`` of a core over ``window`` s; seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        c0 = cpu_s(pid)
        time.sleep(window)
        if (cpu_s(pid) - c0) / window < rate:
            break
    return time.monotonic() - t0


class Peak:
    """The largest RSS of the server while a block runs, sampled every 0.5 s."""

    def __init__(self, pid):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()

    def __enter__(self):
        def sample():
            while not self._stop.is_set():
                self.peak = max(self.peak, rss_mb(self.pid))
                self._stop.wait(0.5)
        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def start_server(port: int, extra: list[str], log_path: Path, root: Path = ROOT) -> subprocess.Popen:
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "panel", "serve", "app/main.py", "--port", str(port),
         "--address", "127.0.0.1", f"--allow-websocket-origin=127.0.0.1:{port}", *extra],
        cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 180
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/main", timeout=60)
            return proc
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise SystemExit(f"panel serve did not start; see {log_path}")
            time.sleep(0.5)


def slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (x, y) points."""
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else None


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="*", default=[10, 25, 50])
    ap.add_argument("--moves", type=int, default=10, help="η moves per student (waited for)")
    ap.add_argument("--starts", type=int, default=2, help="x₀ moves per student")
    ap.add_argument("--think", type=float, default=0.3, help="s between a student's moves")
    ap.add_argument("--churn", type=int, default=200)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--budget", type=float, default=600.0, help="s per class run at most")
    ap.add_argument("--reap", type=float, default=40.0,
                    help="s to wait after closing, for the server to discard the sessions")
    ap.add_argument("--server-args", default="", help="extra `panel serve` flags")
    ap.add_argument("--client", choices=["wire", "bokeh"], default="wire",
                    help="wire: the protocol by hand, as light as a browser tab (load_wire); "
                         "bokeh: bokeh.client, every page rebuilt as Python models here")
    ap.add_argument("--root", default=str(ROOT), help="the checkout to serve (e.g. a worktree "
                    "of an older commit, to compare)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    client = WireStudent if args.client == "wire" else Student
    port = free_port()
    url = f"http://127.0.0.1:{port}/main"
    log_path = Path(os.environ.get("EOS_SERVER_LOG", "/tmp/bench_load_server.log"))
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    report = dict(server_args=args.server_args, client=args.client, root=args.root,
                  load_average_at_start=load, runs=[])
    proc = start_server(port, shlex.split(args.server_args), log_path, Path(args.root))
    try:
        first = client(url)   # a page that says it is drawn starts the warm-up now
        first.open()
        first.pump(timeout=1.0)
        first.close()
        time.sleep(2)
        print(f"server up (pid {proc.pid}); warm-up took {wait_quiet(proc.pid, 400, 8):.0f} s",
              flush=True)
        for n in args.n:
            before = rss_mb(proc.pid)
            cpu0, own0, t0 = cpu_s(proc.pid), _own_cpu_s(), time.monotonic()
            with Peak(proc.pid) as peak:
                result = run_class(url, n, args.moves, args.starts, args.think, args.budget,
                                   client)
            # CPU seconds per wall second of the class: the server's (1.0 = one core busy)
            # and the clients' here (they share the machine's cores with it)
            wall = time.monotonic() - t0
            server_cpu, clients_cpu = cpu_s(proc.pid) - cpu0, _own_cpu_s() - own0
            time.sleep(args.reap)
            result.update(rss_before=before, rss_peak=peak.peak, rss_after=rss_mb(proc.pid),
                          class_s=wall, server_cores_busy=server_cpu / wall,
                          clients_cores_busy=clients_cpu / wall,
                          server_cpu_ms_per_update=1e3 * server_cpu / max(1, result["updates"]))
            report["runs"].append(result)
            print(json.dumps(result), flush=True)
        if args.churn:
            wait_quiet(proc.pid, limit=60)
            before = rss_mb(proc.pid)
            points = []
            result = churn(url, args.churn, args.batch,
                           after_batch=lambda k: points.append((k, rss_mb(proc.pid))),
                           client=client)
            time.sleep(args.reap)
            after = rss_mb(proc.pid)
            per_batch = slope(points)
            result.update(rss_before=before, rss_after=after, rss_points=points,
                          mb_per_session=(after - before) / args.churn,
                          mb_per_session_slope=per_batch)
            report["churn"] = result
            print(json.dumps(result), flush=True)
        with open(log_path) as f:
            text = f.read()
        report["server_tracebacks"] = text.count("Traceback")
    finally:   # the server and the workers it forked: its own process group
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "runs"}))


if __name__ == "__main__":
    main()
