"""The beyond-FLOPs part of `costmodel report` (costmodel.report.beyond_flops): committed files
up to date, and its numbers against hand arithmetic and the papers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from costmodel.report import beyond_flops as B

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "reports" / B.FOLDER


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("beyond")
    B.write(out)
    return out


def rows(folder: Path, name: str) -> list[dict[str, str]]:
    with open(folder / f"{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_committed_tables_and_figures_are_up_to_date(fresh):
    names = sorted(p.name for p in fresh.iterdir())
    assert names == sorted(p.name for p in COMMITTED.iterdir() if p.suffix != ".csv"
                           or p.stem in B.TABLES)
    for name in names:
        if name.endswith((".md", ".csv", ".tex", ".svg")):
            assert (fresh / name).read_bytes() == (COMMITTED / name).read_bytes(), (
                f"reports/{B.FOLDER}/{name} is stale: run `costmodel report`")


@pytest.mark.slow
def test_table3_max_rows(fresh):
    """MobileNet v2 Table 3: MobileNet v1 1600K and MobileNet v2 400K at 16 bits."""
    table = {r["label"]: r for r in rows(fresh, "mobilenet_v2_table3")}
    assert float(table["max / MobileNetV1"]["kb"]) == 1605.6   # 112·112·64·2 / 1000
    assert float(table["max / MobileNetV2"]["kb"]) == 401.4    # 112·112·16·2 / 1000
    assert float(table["max / ShuffleNet (2x, g=3)"]["kb"]) == 752.6  # 28·28·480·2 / 1000


@pytest.mark.slow
def test_shufflenet_v2_table1_mac_by_hand(fresh):
    table = {r["label"]: r for r in rows(fresh, "shufflenet_v2_table1_mac")}
    row = table["c1:c2 = 1:1, GPU"]
    assert int(row["mac"]) == 56 * 56 * 256 + 128 * 128 == 819_200
    assert int(row["macs"]) == 56 * 56 * 128 * 128
    row = table["c1:c2 = 1:12, ARM"]
    assert int(row["mac"]) == 56 * 56 * (9 + 108) + 9 * 108


@pytest.mark.slow
def test_shufflenet_v2_table2_mac_by_hand(fresh):
    table = {r["label"]: r for r in rows(fresh, "shufflenet_v2_table2_mac")}
    row = table["g = 8, GPU"]
    assert int(row["mac"]) == 56 * 56 * 720 + 360 * 360 // 8
    # same B and c1 at g = 1: c2 = 360 / 8 = 45 outputs
    assert int(row["dense"]) == 56 * 56 * (360 + 45) + 360 * 45


@pytest.mark.slow
def test_latency_fits_report_every_predictor(fresh):
    table = rows(fresh, "latency_fits")
    assert {(r["dataset"], r["predictor"]) for r in table} >= {
        (d, p) for d in B.DATASETS for p in ("MACs", "memory traffic", "roofline")}
    for r in table:
        assert -1 <= float(r["spearman"]) <= 1 and float(r["median"]) >= 0


def test_readme_beyond_flops_figures_are_computed():
    from costmodel import zoo
    from costmodel.analysis import latency as L
    from costmodel.analysis import memory as M

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Beyond FLOPs", 1)[1].split("\n## ", 1)[0]
    net = zoo.resolve("mobilenet_v2").build()
    assert f"{int(M.traffic_bytes(net, 'fp16')):,} bytes at fp16" in section
    assert f"{int(net.macs()):,} MACs" in section
    assert f"{int(M.peak_memory(net).bytes('fp16')):,} bytes" in section
    for spec, shown in (("mobilenet_v1", "1,605,632"), ("mobilenet_v2", "401,408"),
                        ("shufflenet_v1:alpha=2,g=3", "752,640"),
                        ("shufflenet_v1:alpha=2,g=2", "627,200")):
        assert M.largest_materialized(zoo.resolve(spec).build()).numel * 2 == int(
            shown.replace(",", "")) and shown in section
    estimate = L.estimate(net, L.load("pixel1"), fused=True).total_seconds
    assert f"estimated at {estimate * 1e3:.1f} ms" in section
    fits = {(r["dataset"], r["predictor"]): r for r in
            rows(ROOT / "reports" / B.FOLDER, "latency_fits")}
    assert f"ρ = {float(fits['table8_gpu', 'MACs']['spearman']):.2f}" in section


def test_readme_fits_table_is_the_reports():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    fits = rows(ROOT / "reports" / B.FOLDER, "latency_fits")
    for dataset in B.DATASETS:
        r = {x["predictor"]: x for x in fits if x["dataset"] == dataset}
        cells = (f"| {r['MACs']['n']} | {r['MACs']['spearman']} / "
                 f"{r['memory traffic']['spearman']} / {r['roofline']['spearman']} | "
                 f"{r['MACs']['median']} / {r['memory traffic']['median']} / "
                 f"{r['roofline']['median']} |")
        assert cells in readme, dataset
