"""The newer networks' cost tables, as data: which printed table each is, its notes, and why a
row's exact count differs from the printed figure.

:mod:`.paper_tables` builds each of :data:`MODEL_TABLES` as a table of whole zoo networks (the
published rows of that table in ``costmodel/data/published.toml``, each built from its
``model`` and ``config``) and adds :data:`REASONS` to its own; this module imports nothing of
the report, so that the two stay one-way. Every reason is taken from the zoo file's notes and
checked numerically in tests/zoo/report_checks.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelTable:
    """A paper table of whole networks: report file name, published.toml source and table,
    the paper's short name for the title, the caption, and notes under the table."""

    name: str
    source: str
    table: str
    paper: str
    caption: str
    notes: tuple[str, ...] = ()


_EFFICIENTNET_BN = ("Table 2 counts batch norm's scale and shift, as TF's trainable variables "
                    "(the torch convention): {torch} params print as {printed}; without them "
                    "(paper convention) {paper} (zoo note).")

MODEL_TABLES: tuple[ModelTable, ...] = (
    ModelTable("efficientnet_table2", "efficientnet", "Table 2", "EfficientNet",
               "EfficientNet performance results on ImageNet (B0-B3)",
               ("Each variant at the resolution the paper evaluates it: 224, 240, 260, 300.",
                "Table 2's FLOPS are multiply-adds.")),
    ModelTable("ghostnet_table7", "ghostnet", "Table 7", "GhostNet",
               "Comparison of state-of-the-art small networks on ImageNet (GhostNet rows)",
               ("Widths as the authors' code: make_divisible(c * alpha, 4).",)),
    ModelTable("mobilenet_v4_table6", "mobilenet_v4", "Table 6", "MobileNetV4",
               "Classification results on ImageNet-1K (MobileNetV4 rows)",
               ("Conv-S at 224, Conv-M and Hybrid-M at 256, Conv-L and Hybrid-L at 384, as "
                "Table 6 evaluates them.",
                "The architectures are the authors' TF code's, which timm copies (their params "
                "in the torch convention are timm's exactly); the Conv appendix tables agree "
                "with it, the Hybrid-M one orders some blocks differently.",
                "Mobile MQA's MACs include its two attention matmuls.")),
    ModelTable("inception_v3_abstract", "inception_v3", "Abstract", "Inception v3",
               "'a computational cost of 5 billion multiply-adds per inference and ... less "
               "than 25 million parameters'",
               ("The network as released (TF-slim, torchvision), at 299, without the "
                "training-only auxiliary classifier.",)),
    ModelTable("convnext_table1", "convnext", "Table 1", "ConvNeXt",
               "Classification accuracy on ImageNet-1K (ConvNeXt rows, ImageNet-1K trained)",
               ("At 224, as torchvision's convnext_tiny/small/base/large (the exact counts "
                "equal its parameter sums and GFLOPS).",
                "Table 1's FLOPs are multiply-adds; layer norms and layer scales are "
                "counted in the params.")),
    ModelTable("mobilevit_table1", "mobilevit", "Table 1", "MobileViT",
               "MobileViT vs. light-weight CNNs on ImageNet-1k (MobileViT rows)",
               ("At 256, as the paper and the authors' code evaluate them; the table prints "
                "params and top-1 only.",
                "MACs include attention's projections and its two matmuls per layer; XS's "
                "0.7G FLOPs, as paperswithcode transcribes the paper, is not reproduced "
                "(1,025.9M; zoo note).")),
    ModelTable("vit_table1", "vit", "Table 1", "ViT",
               "Details of Vision Transformer model variants (Base, Large)",
               ("Patch 16 at 224 with 1000 classes, as torchvision's vit_b_16/vit_l_16 (the "
                "exact counts equal their num_params and GFLOPS).",
                "Table 1 prints params only; the MACs include attention's two matmuls.")),
)

#: Why a row's exact count (paper convention) differs from the printed figure, keyed by
#: (source, table, label); rows that agree have none.
REASONS: dict[tuple[str, str, str], str] = {
    ("efficientnet", "Table 2", "EfficientNet-B0"):
        _EFFICIENTNET_BN.format(torch="5,288,548", printed="5.3M", paper="5,246,532, 5.2M"),
    ("efficientnet", "Table 2", "EfficientNet-B1"):
        "MACs not reproduced: 686.8M at 240 (0.69B, as torchvision's table prints); the "
        "paper's B4 (4.2B) is below the exact 4,393.8M, so no rule that adds ops explains it. "
        + _EFFICIENTNET_BN.format(torch="7,794,184", printed="7.8M", paper="7,732,136, 7.7M"),
    ("efficientnet", "Table 2", "EfficientNet-B2"):
        "Params not reproduced: 9,042,426, and 9,109,994 with batch norm (torchvision's "
        "figure), 9.1M either way; the TF checkpoints' 1001 classes add 1,409 (zoo note).",
    ("ghostnet", "Table 7", "GhostNet 1.3×"):
        "MACs not reproduced: 227.0M with the code's widths (stem 20, head 1248), 1.0M above "
        "226M; 0.5x and 1.0x agree (zoo note).",
    ("mobilenet_v4", "Table 6", "MNv4-Conv-S"):
        "Table 6 counts batch norm's scale and shift (the torch convention): 3,774,024 params "
        "print as 3.8M; without them 3,748,936, 3.7M (zoo note).",
    ("mobilenet_v4", "Table 6", "MNv4-Conv-M"):
        "Params not reproduced: the appendix architecture (= the TF code and timm) has "
        "9,647,608 (9,715,512 with batch norm, timm's 9.72M); 0.45M above 9.2M, more than batch "
        "norm (67,904) and less than any of the head's layers (zoo note).",
    ("mobilenet_v4", "Table 6", "MNv4-Conv-L"):
        "Not reproduced: the appendix architecture (= the TF code and timm, 32.59M params with "
        "batch norm) has 6,376.2M MACs and 32.4M params, 8.1% and 4.6% above; Conv-M is above "
        "Table 6 by as much, Conv-S agrees (zoo note).",
    ("mobilenet_v4", "Table 6", "MNv4-Hybrid-M"):
        "MACs agree only truncated (1,271.2M printed 1.2G); params not reproduced: 10,998,808 "
        "(11,074,648 with batch norm, timm's 11.07M), 4.8% above 10.5M. The appendix table "
        "rebuilt gives more still (11.17M); the code's network, counted here, is the released "
        "one (zoo note).",
    ("mobilenet_v4", "Table 6", "MNv4-Hybrid-L"):
        "Not reproduced: the authors' code (= timm, 37.76M params with batch norm) has "
        "7,711.9M MACs and 37.6M params, 7.1% and 4.7% above, as Conv-L (zoo note).",
    ("vit", "Table 1", "ViT-Large"):
        "Params not reproduced: 304,326,632 at 224 (torchvision's vit_l_16); a pre-logits "
        "layer adds 1,049,600 (305.4M), still below 307M (zoo note).",
    ("inception_v3", "Abstract", "Inception-v3"):
        "'Less than 25 million' is a bound, and holds: 23,800,136 params (23,834,568 with "
        "batch norm) without the auxiliary classifier, which inference does not run; "
        "torchvision's 27,161,264 include its 3,326,696 (zoo note).",
}
