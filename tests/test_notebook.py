"""The example notebook runs top to bottom in a fresh Jupyter kernel, so it cannot rot.

It is executed by nbclient with the ``python3`` kernel of the environment running the tests
(jupyter_client starts ``python3`` with this interpreter when ipykernel is installed here; no
kernelspec is installed by the test). The notebook asserts its own cross-checks (AlexNet's
conv2, MobileNet v1 Tables 3, 6 and 7, a MobileNet v2 block), so a wrong number fails here.
"""

from pathlib import Path

import ipykernel  # noqa: F401 - the kernel nbclient starts; a test dependency (.[test])
import nbclient
import nbformat
import pytest

pytestmark = pytest.mark.slow  # runs the notebook in a Jupyter kernel

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "derivations.ipynb"


def test_the_notebook_runs_top_to_bottom():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [output for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    data = [o.get("data", {}) for o in outputs]
    # derivations render as LaTeX, the network as an HTML table, tables as DataFrames
    assert sum("text/latex" in d for d in data) >= 12
    assert any("text/html" in d and "<b>tiny</b>" in d["text/html"] for d in data)
    assert any("text/html" in d and "dataframe" in d["text/html"] for d in data)
    text = "".join(o.get("text", "") for o in outputs)
    assert "alpha = 0.843" in text  # the solve cell


def test_the_notebook_walks_the_source_material_in_order():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    headings = [cell.source.splitlines()[0] for cell in notebook.cells
                if cell.cell_type == "markdown" and cell.source.startswith("## ")]
    expected = ["Group convolution", "Depthwise separable", "Width multiplier",
                "ShuffleNet unit", "inverted residual", "G1 and G2"]
    positions = [next(i for i, h in enumerate(headings) if word in h) for word in expected]
    assert positions == sorted(positions)
