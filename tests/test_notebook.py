"""examples/explorer.ipynb runs headless (nbclient, the venv's ipykernel) without an error,
and shows the explorer and a Matplotlib figure."""
import sys
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def test_the_example_notebook_runs_headless(tmp_path):
    nb = nbformat.read(ROOT / "examples" / "explorer.ipynb", as_version=4)
    # the kernel is this interpreter (the venv's ipykernel), started in the repository
    spec = tmp_path / "kernels" / "eos"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        '{"argv": ["%s", "-m", "ipykernel_launcher", "-f", "{connection_file}"], '
        '"display_name": "eos", "language": "python"}' % sys.executable)
    manager = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    kernel = KernelManager(kernel_spec_manager=manager, kernel_name="eos")
    client = NotebookClient(nb, km=kernel, timeout=600, kernel_name="eos",
                            resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.get("name") == "stderr" and "Error" in o.get("text", "")]
    kinds = {k for o in outputs for k in o.get("data", {})}
    assert "image/png" in kinds                       # the Matplotlib figure
    assert "application/vnd.holoviews_load.v0+json" in kinds or any(
        "bokeh" in k or "panel" in k for k in kinds)   # the explorer's Panel output
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "final sharpness" in printed and "< 2/η = 10" in printed
