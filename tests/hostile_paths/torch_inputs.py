"""Hostile and confused ``--input`` values repeated for a module whose forward takes several
inputs (issue 18): too few or too many, batches that disagree, a value malformed, too long,
with escapes or past the hook fallback's limit, integer inputs a float tensor cannot be, and
commands or SPECs that take one input. Ids start with ``torch-inputs-``."""

from __future__ import annotations

from tests.hostile_paths import Case

HEAD = "import torch\nfrom torch import nn\n"

#: an image tower and a vector through a Linear, concatenated: forward(x, y)
TWO = HEAD + '''
class TwoTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.image = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(),
                                   nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.text = nn.Linear(77, 16)
        self.head = nn.Linear(24, 10)
    def forward(self, x, y):
        return self.head(torch.cat([self.image(x), self.text(y)], dim=1))
def build():
    return TwoTower()
'''

#: two inputs and a branch on the data: torch.fx cannot trace it, so it runs on real tensors
BRANCHY = HEAD + '''
class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
    def forward(self, x, y):
        if y.sum() > 0:
            return self.conv(x)
        return self.conv(x) * 2
def build():
    return Branchy()
'''

#: token ids: an embedding needs integer inputs, and costmodel's are float
TOKENS = HEAD + '''
def build():
    return nn.Sequential(nn.Embedding(100, 8), nn.Flatten(), nn.Linear(8 * 77, 10))
'''

GOOD = ("--input", "1,3,32,32", "--input", "1,77")


def _two(tail: tuple[str, ...], command: str = "compare", *more: str) -> tuple[str, ...]:
    return (command, "two.py:build", *more, "--input", "1,3,32,32", *tail)


CASES = [
    Case("torch-inputs-ok", ("summary", "two.py:build", *GOOD, "--format", "json"),
         {"two.py": TWO}, expect="ok"),
    Case("torch-inputs-too-few", ("compare", "two.py:build", "--input", "1,3,32,32"),
         {"two.py": TWO}, says=("takes 2 inputs", "1 was given")),
    Case("torch-inputs-too-many", _two(("--input", "1,77", "--input", "1,5")),
         {"two.py": TWO}, says=("3 were given",)),
    Case("torch-inputs-17-times", ("compare", "two.py:build", *("--input", "1,3") * 17),
         {"two.py": TWO}, says=("MAX_INPUTS",)),
    Case("torch-inputs-batches-differ", _two(("--input", "2,77")), {"two.py": TWO},
         says=("batch N",)),
    Case("torch-inputs-second-malformed", _two(("--input", "1,x")), {"two.py": TWO},
         says=("--input takes",)),
    Case("torch-inputs-second-zero", _two(("--input", "1,0")), {"two.py": TWO},
         says=("positive",)),
    Case("torch-inputs-second-empty", _two(("--input", "")), {"two.py": TWO},
         says=("--input takes",)),
    Case("torch-inputs-second-61-digits", _two(("--input", "1," + "9" * 61)),
         {"two.py": TWO}, says=("digits",)),
    Case("torch-inputs-second-escape", _two(("--input", "1,\x1b[2J\x07")), {"two.py": TWO},
         says=("--input takes",)),
    Case("torch-inputs-rank-9", _two(("--input", ",".join(["1"] + ["2"] * 8))),
         {"two.py": TWO}, says=("--input takes",)),
    Case("torch-inputs-second-wrong-size", _two(("--input", "1,76")), {"two.py": TWO},
         says=("failed on inputs 1×3×32×32, 1×76",)),
    # the hook fallback allocates every input: their elements together are bounded
    Case("torch-inputs-huge-hooks", ("compare", "branchy.py:build", "--input", "1,3,8,8",
                                     "--input", "1,16777216"), {"branchy.py": BRANCHY},
         says=("MAX_TRACED_INPUT_ELEMENTS",)),
    Case("torch-inputs-integer-ids", ("compare", "tokens.py:build", "--input", "1,77"),
         {"tokens.py": TOKENS}, says=("float inputs only",)),
    Case("torch-inputs-zoo-takes-one", ("compare", "mobilenet_v1", *GOOD),
         says=("takes one input",)),
    Case("torch-inputs-import-refused", ("import", "two.py:build", *GOOD), {"two.py": TWO},
         says=("2 inputs",)),
    Case("torch-inputs-latency-batch-conflict", ("latency", "two.py:build", "--hw", "pixel1",
                                                 "--batch", "3", "--input", "2,3,32,32",
                                                 "--input", "2,77"), {"two.py": TWO},
         says=("different batches",)),
]
