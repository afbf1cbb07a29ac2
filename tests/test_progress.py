"""Progress that moves with the work: a sweep's bars count what is computed (grid points,
not failing conditions) and end full."""

import pytest

from costmodel.analysis import closed_forms, sweep as sw


class Recorder(sw.Progress):
    def __init__(self):
        self.bars = {}

    def task(self, description, total):
        bar = self.bars[description] = {"total": total, "done": 0, "steps": 0}

        def advance(n=1):
            bar["done"] += n
            bar["steps"] += 1
        return advance


@pytest.mark.slow  # about 2 s: a 67,802-point grid with points recomputed
def test_recomputing_bar_counts_points_and_ends_full():
    progress = Recorder()
    result = sw.sweep("mobilenet_v2", {"alpha": "0.25:1.4:0.02", "resolution": "32:1200:1"},
                      "paper", check=1, progress=progress)
    bar = progress.bars["recomputing where an assumption fails"]
    assert bar["done"] == bar["total"] >= closed_forms.PROGRESS_POINTS
    assert bar["steps"] > 1 and bar["total"] <= len(result)


@pytest.mark.slow  # draws two figures
def test_no_caption_leaves_the_caption_out(tmp_path):
    """--no-caption: the same figure without the text drawn under it (whose lines make the
    plot area shorter: the captioned image has fewer rows of the plot's own pixels)."""
    import numpy as np
    from matplotlib.image import imread
    from typer.testing import CliRunner

    from costmodel.cli.app import app

    images = {}
    for name, extra in (("with", []), ("without", ["--no-caption"])):
        path = tmp_path / f"{name}.png"
        result = CliRunner().invoke(app, ["collapse", "--m", "2,15", "--out", str(path), *extra])
        assert result.exit_code == 0, result.output
        images[name] = imread(path)
    assert images["with"].shape == images["without"].shape

    def lowest_spine(image):  # the lowest row dark across most of the width: the axes' bottom edge
        dark = np.asarray(image)[:, :, :3].mean(axis=2) < 0.5
        return max(i for i, row in enumerate(dark) if row.mean() > 0.6)
    height = images["with"].shape[0]
    # the caption takes the room under the plot; without it the plot reaches lower
    assert lowest_spine(images["without"]) - lowest_spine(images["with"]) > 0.05 * height
