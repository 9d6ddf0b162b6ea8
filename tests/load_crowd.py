"""A class at one server: N students at once, each moving η and the start; and churn.

:func:`run_class` opens N :class:`~load_client.Student` sessions at the same time (one thread
each), has every student move η ``moves`` times and x₀ ``starts`` times, waiting for each
redraw, then send a burst of three η values without waiting (the last must be the one shown),
keeps everyone connected until all are done, then closes. Every student's η values are its
own (:func:`etas_of`, :func:`x0s_of`: no value is another student's, nor the page's default),
so a value in the wrong page is a cross-session leak: :func:`leaks` counts every η or x₀ a
page ever held or shows at the end that another student sent.
:func:`churn` opens and closes sessions ``batch`` at a time. Both return plain dicts.
"""
from __future__ import annotations

import statistics
import threading
import time

from load_client import Student
from load_moves import SHOWN

BURST = 3


def etas_of(student: int, count: int) -> list[float]:
    """Student ``student``'s η values: distinct across students, inside every slider."""
    # 0.05 + 0.00061 m: up to 50 students × 13 values stay below 0.45, never on xyzw's 0.2
    return [round(0.05 + 0.00061 * (student * count + k), 6) for k in range(count)]


def x0s_of(student: int, count: int) -> list[float]:
    """Student ``student``'s x₀ values: distinct across students, never xyzw's default 2.8."""
    return [round(1.0007 + 0.0131 * student + 0.4 * k, 6) % 3.5 + 0.2 for k in range(count)]


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def _student(url, index, moves, starts, think, result, all_done, budget, client):
    record = result[index]
    student = client(url)
    deadline = time.monotonic() + budget
    try:
        record["open_s"] = student.open()
        etas = etas_of(index, moves + BURST)
        record["mine"] = etas
        x0s = x0s_of(index, starts)
        record["mine_x0"] = x0s
        plan = [("eta", e) for e in etas[:moves]]
        for k, x0 in enumerate(x0s):   # the start moves between the η moves
            plan.insert((k + 1) * len(plan) // (starts + 1) + k, ("x0", x0))
        for kind, value in plan:
            if time.monotonic() > deadline:
                record["errors"].append("out of time")
                break
            student.pump(timeout=think)   # the student looks at the page
            took = student.set_eta(value) if kind == "eta" else student.set_x0(value)
            if took is None:
                record["errors"].append(f"{kind}={value} not shown in time")
            else:
                record["update_s"].append(took)
        for value in etas[moves:]:   # a burst: only the last must be shown
            student.set_eta(value, wait=False)
        last = etas[-1]
        student.pump(lambda: abs((student.shown_eta() or 0) - last) <= SHOWN * last, 30.0)
        shown_slider = student.eta_slider.value
        if (abs((student.shown_eta() or 0) - last) > SHOWN * last
                or abs(shown_slider - last) > SHOWN * last):
            record["lost"] += 1
        shown = student.read_back()   # the page holds this student's own last values
        if (any(abs(v - last) > SHOWN * last for v in shown["eta"])
                or x0s and any(abs(v - x0s[-1]) > 1e-6 * max(1.0, x0s[-1]) for v in shown["x0"])):
            record["lost"] += 1
        if not student.connected():
            record["errors"].append("disconnected")
    except Exception as error:   # a failed session is a figure, not a crash of the run
        record["errors"].append(f"{type(error).__name__}: {error}")
    finally:
        record["seen"] = list(student.seen_etas)
        record["seen_x0"] = list(student.seen_x0s)
        record["done"] = True
        # keep reading until everyone is done: an open tab still receives its patches
        while (student.session is not None and not all_done.is_set()
               and student.connected() and time.monotonic() < deadline + 60):
            student.pump(timeout=0.5)
            record["seen"] = list(student.seen_etas)
            record["seen_x0"] = list(student.seen_x0s)
        if student.session is not None:   # what the page shows once everyone is done
            shown = student.read_back()
            record["seen"] += shown["eta"]
            record["seen_x0"] += shown["x0"]
        student.close()


def leaks(records: list[dict]) -> int:
    """How many times a page held an η or an x₀ that another student sent.

    ``records[i]["mine"]`` / ``["mine_x0"]``: what student i sent; ``["seen"]`` /
    ``["seen_x0"]``: every η (2 / the threshold line, the slider) and x₀ (the start marker,
    the slider) student i's page held.
    """
    count = 0
    for mine, seen, tol in (("mine", "seen", SHOWN), ("mine_x0", "seen_x0", 1e-6)):
        owner = {v: i for i, r in enumerate(records) for v in r.get(mine, [])}
        for i, r in enumerate(records):
            for value in r.get(seen, []):
                match = next((o for v, o in owner.items()
                              if abs(v - value) <= tol * max(1.0, abs(v))), None)
                if match is not None and match != i:
                    count += 1
    return count


def run_class(url: str, n: int, moves: int = 10, starts: int = 2, think: float = 0.3,
              budget: float = 600.0, client=Student) -> dict:
    """N students at once; sessions opened, open and update quantiles, errors, losses, leaks.

    ``client``: :class:`load_client.Student` (``bokeh.client``: the whole document as Python
    models) or :class:`load_wire.WireStudent` (the protocol by hand, as light as a browser tab
    is for the server's machine).
    """
    records = [dict(open_s=None, update_s=[], errors=[], lost=0, done=False) for _ in range(n)]
    all_done = threading.Event()
    threads = [threading.Thread(target=_student, daemon=True,
                                args=(url, i, moves, starts, think, records, all_done, budget,
                                      client))
               for i in range(n)]
    for t in threads:
        t.start()
    end = time.monotonic() + budget + 60
    while time.monotonic() < end and not all(r["done"] for r in records):
        time.sleep(0.2)
    all_done.set()
    for t in threads:
        t.join(timeout=30)
    opens = [r["open_s"] for r in records if r["open_s"] is not None]
    updates = [u for r in records for u in r["update_s"]]
    return dict(n=n, opened=len(opens), open_p50=quantile(opens, 0.5),
                open_p95=quantile(opens, 0.95), updates=len(updates),
                update_p50=quantile(updates, 0.5), update_p95=quantile(updates, 0.95),
                errors=sum(len(r["errors"]) for r in records),
                error_texts=sorted({e for r in records for e in r["errors"]})[:5],
                lost=sum(r["lost"] for r in records), leaks=leaks(records))


def churn(url: str, sessions: int, batch: int = 20, after_batch=None, client=Student) -> dict:
    """Open and close ``sessions`` sessions, ``batch`` at a time (each sends document_ready).

    ``after_batch(opened_so_far)`` is called after each batch has closed (a memory probe).
    """
    errors, opens = [], []

    def one():
        student = client(url)
        try:
            opens.append(student.open())
            student.pump(timeout=0.2)
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")
        finally:
            student.close()

    done = 0
    while done < sessions:
        size = min(batch, sessions - done)
        threads = [threading.Thread(target=one, daemon=True) for _ in range(size)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        done += size
        if after_batch is not None:
            after_batch(done)
    return dict(sessions=sessions, opened=len(opens), errors=len(errors),
                error_texts=sorted(set(errors))[:5],
                open_p50=statistics.median(opens) if opens else None)
