"""`costmodel report`: regenerate the paper tables and figures into a folder."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import NoCaptionOption, app, user_errors


REPORT_HELP = (
    "Regenerate the papers' tables (published, computed, Δ%, reason) and the figures.\n\n"
    "Tables in Markdown, LaTeX and CSV: MobileNet v1 Tables 2-9, ShuffleNet v1 Tables 1, 2, 5 "
    "and 6, MobileNet v2 Table 4, ShuffleNet v2 Table 5. Figures as PNG and SVG.\n\n"
    "MACs are multiply-accumulates (1 MAC = 2 FLOPs; the papers' FLOPs/Mult-Adds are MACs), "
    "counted in the paper convention.")


@app.command(help=REPORT_HELP)
@user_errors
def report(
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Folder to write: tables/ (.md, .tex, .csv), figures/ (.png, .svg), "
                            "specs/ and an index README.md.")] = Path("reports"),
    only: Annotated[Optional[list[str]], typer.Option(
        "--only", help="Regenerate only this table or figure (e.g. mobilenet_v1_table6, "
                       "macs_vs_alpha); repeatable.", show_default=False)] = None,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No progress display and no summary line.")] = False,
    no_caption: NoCaptionOption = False,
    readme: Annotated[Optional[Path], typer.Option(
        "--readme", help="Instead: rewrite this Markdown file's ```console examples to what "
                         "their commands print now (100 columns); examples that elide lines "
                         "(...) are only checked.", show_default=False)] = None,
    python_examples: Annotated[bool, typer.Option(
        "--python-examples", help="With --readme: also run examples whose SPEC is a Python "
                                  "file (that runs the file's code).")] = False,
) -> None:
    """Regenerate the paper tables and figures (help: REPORT_HELP)."""
    if readme is not None:
        from .readme_examples import rewrite

        stale = rewrite(readme, python_examples, say=lambda line: typer.echo(line, err=True))
        if stale:
            raise typer.Exit(1)
        return
    from ..report.figure_style import captions
    from ..report.generate import generate

    start = time.perf_counter()
    with captions(not no_caption):
        paths = generate(out, progress=not quiet, only=only or None)
    if not quiet:
        typer.echo(f"Wrote {len(paths)} files to {out}/ in {time.perf_counter() - start:.1f} s; "
                   f"index: {out / 'README.md'}", err=True)
