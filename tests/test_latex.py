"""The LaTeX tables drop into a paper: compiled with pdflatex in a one-column article
(compare also in a two-column one, and with --wide as a table* across both), they raise no
error, no overfull box and no float too large for the page, with only the preamble the
README gives.

pdflatex comes from the system (Debian: texlive-latex-base and texlive-latex-recommended,
which .ci/run installs where apt-get can); without it these tests are skipped, saying so.
"""

import re
import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from costmodel.cli.app import app
from costmodel.report.table import LATEX_PREAMBLE

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    shutil.which("pdflatex") is None,
    reason="pdflatex is not installed (apt-get install texlive-latex-base "
           "texlive-latex-recommended)")]

COMMANDS = {
    "compare": ["compare", "mobilenet_v1", "mobilenet_v1:alpha=1/3,resolution=160", "vgg16",
                "shufflenet_v2", "--memory"],
    "summary": ["summary", "shufflenet_v2", "--memory"],
    "diff": ["diff", "mobilenet_v1", "mobilenet_v2"],
    "sweep": ["sweep", "mobilenet_v2", "--alpha", "0.35,0.5,1/3", "--resolution", "96,224",
              "--memory"],
}


def _latex(args):
    result = CliRunner().invoke(app, [*args, "--format", "latex"])
    assert result.exit_code == 0, result.output
    return result.stdout


def _compile(tmp_path, body, options=""):
    """pdflatex on an article holding ``body``; the problems its log reports."""
    source = tmp_path / "paper.tex"
    source.write_text(f"\\documentclass[{options}]{{article}}\n{LATEX_PREAMBLE}\n"
                      "\\begin{document}\n" + body + "\n\\clearpage\n\\end{document}\n",
                      encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                           source.name], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    log = (tmp_path / "paper.log").read_text(encoding="utf-8", errors="replace")
    assert done.returncode == 0, log[-2000:]
    return re.findall(r"^(?:Overfull \\hbox.*|! .*|LaTeX Warning: Float too large.*)$", log,
                      re.M)


def _report_tables():
    from costmodel.report import beyond_flops, paper_tables

    tables = [build() for build in paper_tables.TABLES.values()]
    return tables + [build() for build in beyond_flops.TABLES.values()]


@pytest.mark.parametrize("options", ["", "twocolumn"])
def test_compare_fits_a_column(tmp_path, options):
    assert _compile(tmp_path, _latex(COMMANDS["compare"]), options) == []


def test_compare_wide_fits_the_text_width_of_a_two_column_paper(tmp_path):
    text = _latex([*COMMANDS["compare"], "--wide"])
    assert text.startswith("\\begin{table*}")
    assert _compile(tmp_path, text, "twocolumn") == []


@pytest.mark.parametrize("name", ["summary", "diff", "sweep"])
def test_command_tables_fit_a_one_column_article(tmp_path, name):
    text = _latex(COMMANDS[name])
    assert "\\toprule" in text and "\\caption{" in text and "\\label{tab:" in text
    assert _compile(tmp_path, "\n\\clearpage\n".join(text.split("\n\n")), "") == []


def test_every_report_table_fits_a_one_column_article(tmp_path):
    tables = _report_tables()
    body = "\n\\clearpage\n".join(t.render("latex") for t in tables)
    assert _compile(tmp_path, body, "") == []
    labels = re.findall(r"\\label\{([^}]*)\}", body)
    assert len(labels) == len(set(labels)) == len(tables), "one distinct label per table"
