"""Export without a browser: each format written and valid, the CSV the run's own numbers,
the same bytes twice, the CLI's refusals one clear line with exit status 2.

Truth is independent of the drawing code: PNG sizes from the file's IHDR header, PDF page
sizes by pypdf, SVG by an XML parser, CSV columns against the engine's Trajectory arrays.
"""
import io
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from pypdf import PdfReader

from app import export, export_figures, plots
from app.export_figures import Export, ExportError, Snapshot, Table
from app.export_files import file_bytes, table

ROOT = Path(__file__).resolve().parents[1]
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def zhu():
    return Snapshot.from_preset("zhu-fig2a")   # three runs compared, xyzw


@pytest.fixture(scope="module")
def small():
    return Snapshot.from_preset("quadratic-split")   # 40 steps


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_png_has_the_asked_pixels(small):
    assert png_size(file_bytes(small, "loss", "png", width=4, height=3, dpi=50)) == (200, 150)
    assert png_size(file_bytes(small, "trajectory", "png", width=6.4, height=3.6,
                               dpi=100)) == (640, 360)


def test_the_default_png_is_1920_by_1080_and_dark_is_dark(small):
    data = file_bytes(small, "sharpness", "png", theme="dark")
    assert png_size(data) == (1920, 1080)
    corner = imread(io.BytesIO(data))[2, 2, :3]
    assert np.allclose(corner, np.array([0x1b, 0x1e, 0x23]) / 255, atol=1 / 255)
    light = imread(io.BytesIO(file_bytes(small, "sharpness", "png", dpi=20)))
    assert np.allclose(light[2, 2, :3], 1.0)


def test_pdf_page_is_the_asked_size(zhu):
    reader = PdfReader(io.BytesIO(file_bytes(zhu, "landscape", "pdf", width=6, height=3.4)))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(6 * 72) and float(box.height) == pytest.approx(3.4 * 72)


def _group(root, gid):
    found = [g for g in root.iter(f"{SVG}g") if g.get("id") == gid]
    assert found, f"no <g id={gid!r}> in the SVG"
    return found[0]


def _vertices(path) -> np.ndarray:
    words = path.get("d").replace("M", " ").replace("L", " ").replace("z", " ").split()
    return np.asarray(words, dtype=float).reshape(-1, 2)


def test_svg_is_xml_with_the_plotted_paths_and_the_threshold_line(zhu):
    root = ET.fromstring(file_bytes(zhu, "sharpness", "svg"))
    assert root.tag == f"{SVG}svg"
    assert len(list(root.iter(f"{SVG}path"))) > 50   # curves, ticks, text as glyph paths
    line = _vertices(next(_group(root, "threshold").iter(f"{SVG}path")))
    assert len(line) >= 2 and np.ptp(line[:, 1]) == 0 and np.ptp(line[:, 0]) > 100  # flat
    for gid in ("sharpness_even", "sharpness_odd", "compare1_sharpness", "compare2_sharpness"):
        assert len(_vertices(next(_group(root, gid).iter(f"{SVG}path")))) > 10


def test_the_threshold_is_a_staircase_after_a_drop():
    snap = Snapshot.from_preset("step-drop")
    root = ET.fromstring(file_bytes(snap, "sharpness", "svg"))
    stairs = _vertices(next(_group(root, "threshold").iter(f"{SVG}path")))
    assert len(np.unique(stairs[:, 1])) == 2   # 2/0.2 = 10 then 2/0.1 = 20


def test_csv_columns_are_the_runs_arrays(zhu):
    text = file_bytes(zhu, "trajectory", "csv").decode()
    head = [line for line in text.splitlines() if line.startswith("#")]
    assert any("model: xyzw" in line for line in head)
    assert any("optimizer: gd" in line for line in head)
    assert any("step size: η = 0.2" in line for line in head)
    assert any("start: (x = 2.8, y = 0.2, z = 2.8, w = 0.2)" in line for line in head)
    assert any(line.startswith("# column sharpness [") for line in head)
    rows = [line for line in text.splitlines() if not line.startswith("#")]
    names = rows[0].split(",")
    cells = [r.split(",") for r in rows[1:]]
    col = {n: np.array([float(c[i]) if c[i] else np.nan for c in cells])
           for i, n in enumerate(names)}
    r = zhu.result
    traj, n = r.traj, len(r.traj.loss)
    xs, ys = plots.plane_coords(r.spec.model, traj.params, traj.loss)
    exact = dict(rtol=1e-12, atol=0)
    assert np.array_equal(col["step"][:n], np.arange(n))
    for name, truth in (("x", xs), ("y", ys), ("loss", traj.loss), ("time", traj.time),
                        ("sharpness", traj.sharpness), ("threshold", r.threshold)):
        assert np.allclose(col[name][:n], truth, **exact), name
    assert np.allclose(col["threshold"][:n], 2 / 0.2, **exact)
    for i, (label, other) in enumerate(zhu.compared, 1):
        m = len(other.traj.loss)
        assert np.allclose(col[f"compare{i}_loss"][:m], other.traj.loss, **exact)
        assert np.allclose(col[f"compare{i}_sharpness"][:m], other.traj.sharpness, **exact)
    assert [label for label, _ in zhu.compared] == ["η = 0.25", "η = 0.1667"]


def test_the_page_csv_is_its_figures_columns_merged(zhu):
    merged = table(zhu, "trajectory").columns
    for name in ("landscape", "loss", "sharpness"):
        for column, values in table(zhu, name).columns.items():
            assert np.array_equal(merged[column], values)


def test_the_same_state_gives_the_same_bytes(small):
    again = Snapshot.from_preset("quadratic-split")
    for fmt in ("svg", "pdf"):
        first = file_bytes(small, "trajectory", fmt)
        assert first == file_bytes(again, "trajectory", fmt), fmt
    assert b"CreationDate" not in file_bytes(small, "loss", "pdf")


def test_html_links_nothing(small):
    html = file_bytes(small, "trajectory", "html").decode()
    assert "<script src" not in html and "<link" not in html
    assert "Bokeh" in html and "threshold_line" in html


def test_a_view_registers_with_one_entry(monkeypatch, small):
    """What another view's helper does: one Export, one EXPORTS line, (optionally) a layout."""
    def data(snap):
        tab = Table({})
        tab.add("eta", [snap.state.eta], "[step size] η")
        return tab

    def draw(snap, ax, look):
        ax.plot([0, 1], [snap.state.eta] * 2, gid="toy_line")

    monkeypatch.setattr(sys.modules[__name__], "TOY", Export("trajectory", "Toy", data, draw),
                        raising=False)
    monkeypatch.setitem(export_figures.EXPORTS, "toy", f"{__name__}:TOY")
    assert "toy" in export_figures.view_names()
    assert file_bytes(small, "toy", "csv").decode().strip().endswith("2.5")
    root = ET.fromstring(file_bytes(small, "toy", "svg"))
    assert _group(root, "toy_line") is not None


@pytest.mark.parametrize("argv, words", [
    (["--preset", "nope"], ["no preset 'nope'", "zhu-fig2a"]),
    (["--preset", "zhu-fig2a", "--view", "nope"], ["no view 'nope'", "landscape", "trajectory"]),
    (["--preset", "zhu-fig2a", "--format", "gif"], ["no format 'gif'", "png, svg, pdf"]),
    (["--preset", "zhu-fig2a", "--theme", "blue"], ["no theme 'blue'", "light, dark"]),
    (["--query", "model=xyzw&eta=-1"], ["eta=-1", "it must lie in (0, "]),
    (["--query", "eta=abc"], ["eta=abc", "it is not a number"]),
    (["--query", "etaa=0.2"], ["'etaa' is not a query name"]),
    (["--query", "model=nope"], ["model=nope", "not one of the choices"]),
    (["--preset", "zhu-fig2a", "--dpi", "-3"], ["--dpi = -3", "positive"]),
    (["--preset", "zhu-fig2a", "--dpi", "5000"], ["pixels a side"]),
])
def test_cli_refusals_are_one_clear_line(argv, words, capsys, tmp_path):
    base = {"--view": "loss", "--format": "png", "--out": str(tmp_path / "f.png")}
    args = argv + [a for k, v in base.items() if k not in argv for a in (k, v)]
    assert export.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("app.export: error: ")
    for word in words:
        assert word in err
    assert not (tmp_path / "f.png").exists()


def test_cli_in_a_shell_writes_the_file_or_exits_2_without_a_traceback(tmp_path):
    bad = subprocess.run([sys.executable, "-m", "app.export", "--query", "eta=abc",
                          "--view", "loss", "--format", "svg", "--out", str(tmp_path / "x.svg")],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip() == "app.export: error: eta=abc: it is not a number."
    out = tmp_path / "sub" / "q.pdf"
    good = subprocess.run([sys.executable, "-m", "app.export", "--query",
                           "model=quadratic&eta=2.5&steps=20", "--view", "sharpness",
                           "--format", "pdf", "--out", str(out), "--width", "5", "--height", "3"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert good.returncode == 0, good.stderr
    box = PdfReader(out).pages[0].mediabox
    assert (float(box.width), float(box.height)) == (360.0, 216.0)


def test_a_bad_size_or_unknown_figure_raises_export_error(small):
    with pytest.raises(ExportError, match="no figure 'nope'"):
        export_figures.get("nope")
    with pytest.raises(ExportError, match="--width = 0"):
        file_bytes(small, "loss", "png", width=0)


def test_a_gd_run_compared_with_sgd_is_named_without_a_seed():
    """Wu–Ma–E's preset: the live run is SGD (it has a seed), the compared GD run has none."""
    from app import compare
    from app.state import ExplorerState
    live = ExplorerState()
    live.apply_query({"preset": "wu-ma-e"})
    pins, notices = compare.decode(live.compare, live.model)
    assert notices == [] and "seed" not in pins[0]
    assert compare.label(pins[0], compare.pin_values(live)) == "Gradient descent"


def test_a_3_cycle_exports_as_a_dot_per_step_over_faded_lines():
    """As on the page: the levels of a cycle longer than 2 as dots, one per step."""
    snap = Snapshot.from_query({"model": "x2y2", "optimizer": "sqrt_gd"})
    assert snap.result.period == 3
    root = ET.fromstring(file_bytes(snap, "loss", "svg"))
    dots = _group(root, "loss_dots")
    assert len(list(dots.iter(f"{SVG}use"))) + len(list(dots.iter(f"{SVG}path"))) > 100
    for gid in ("loss_even", "loss_odd"):
        assert "opacity" in ET.tostring(_group(root, gid), encoding="unicode")
    two = ET.fromstring(file_bytes(Snapshot.from_query({}), "loss", "svg"))
    assert not [g for g in two.iter(f"{SVG}g") if g.get("id") == "loss_dots"]
