"""Hostile and confused ``file.py:factory`` SPECs (the PyTorch front end): names with terminal
escapes in classes, submodules and exceptions, factories that fail or lie, data-dependent
forwards, inputs too large for a real run, paths that are not files, and warnings that must
reach stderr escaped. Ids start with ``torch-``."""

from __future__ import annotations

import os
from pathlib import Path

from tests.hostile_paths import Case

HEAD = "import torch\nfrom torch import nn\nimport torch.nn.functional as F\n"

#: A module whose names are hostile: its class, a submodule and an uncounted call's module.
EVIL_NAMES = HEAD + '''
Evil = type("Evil\\x1b[2J\\x1b]0;owned\\x07\\u202e", (nn.Module,), {})
def _init(self):
    nn.Module.__init__(self)
    self.add_module("conv\\x1b[31m", nn.Conv2d(3, 8, 3, padding=1))
    self.add_module("act\\nfake | row", nn.GELU())
    self.add_module("fc\\r\\x9b", nn.Linear(8, 10))
def _forward(self, x):
    x = getattr(self, "act\\nfake | row")(getattr(self, "conv\\x1b[31m")(x))
    return getattr(self, "fc\\r\\x9b")(x.mean((2, 3)))
Evil.__init__, Evil.forward = _init, _forward
def build():
    return Evil()
'''

BRANCHY = HEAD + '''
class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.big = nn.Conv2d(8, 64, 3, padding=1)
        self.small = nn.Conv2d(8, 8, 1)
    def forward(self, x):
        x = self.conv(x)
        if x.sum() > 0:
            return self.big(x)
        return self.small(x)
def build():
    return Branchy()
'''

PLAIN = HEAD + '''
def build(width=8):
    return nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(width, 10))
'''

#: an activation costmodel does not count (Mish), so `import` cannot write the network
UNCOUNTED_ACT = HEAD + '''
def build():
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.Mish(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(8, 10))
'''

#: sized for 32×32 inputs only: at the default 224 its Linear gets the wrong width
MISMATCH = HEAD + '''
def build():
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.GELU(), nn.Flatten(), nn.Linear(8 * 30 * 30, 10))
'''

ONLY_UNCOUNTED = HEAD + '''
def build():
    return nn.Sequential(nn.Mish(), nn.Softmin(dim=1))
'''

RAISES_ESCAPES = HEAD + '''
def build():
    raise RuntimeError("boom\\x1b[2J\\nsecond line\\u202e")
'''

IMPORT_FAILS = HEAD + '''
raise ValueError("at import\\x1b]0;title\\x07")
'''

FORWARD_FAILS = HEAD + '''
class Bad(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
    def forward(self, x):
        if x.sum() > 0 or True:
            raise RuntimeError("forward says no\\x1b[5m")
        return self.conv(x)
def build():
    return Bad()
'''

RETURNS = {
    "int": "3", "class": "nn.Conv2d", "string": '"nn.Conv2d(3, 8, 3)"',
    "evil-type": 'type("X\\x1b[2J", (), {})()', "none": "None", "list": "[nn.Conv2d(3, 8, 3)]",
}

DATA_DEPENDENT_SHAPE = HEAD + '''
class Shapes(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 10)
    def forward(self, x):
        x = self.conv(x)
        for _ in range(int(x.abs().sum().item()) % 3 + 1):
            x = F.relu(x)
        return self.fc(x.mean((2, 3)))
def build():
    return Shapes()
'''


def _fifo(folder: Path) -> None:
    os.mkfifo(folder / "pipe.py")


def _dir(folder: Path) -> None:
    (folder / "folder.py").mkdir()


def _cases() -> list[Case]:
    cases = [
        # names from the module, printed escaped everywhere (the runner checks no control char)
        Case("torch-evil-names-compare", ("compare", "evil.py:build", "--input", "1,3,8,8"),
             {"evil.py": EVIL_NAMES}, expect="ok"),
        Case("torch-evil-names-summary", ("summary", "evil.py:build", "--input", "1,3,8,8"),
             {"evil.py": EVIL_NAMES}, expect="ok"),
        Case("torch-evil-names-summary-csv", ("summary", "evil.py:build", "-f", "csv",
                                              "--input", "1,3,8,8"),
             {"evil.py": EVIL_NAMES}, expect="ok"),
        Case("torch-evil-names-markdown", ("summary", "evil.py:build", "-f", "markdown",
                                           "--input", "1,3,8,8"),
             {"evil.py": EVIL_NAMES}, expect="ok"),
        Case("torch-evil-names-json", ("compare", "evil.py:build", "-f", "json",
                                       "--input", "1,3,8,8"),
             {"evil.py": EVIL_NAMES}, expect="ok"),
        Case("torch-evil-names-diff", ("diff", "evil.py:build", "mobilenet_v1",
                                       "--input", "1,3,32,32"),
             {"evil.py": EVIL_NAMES}, expect="ok"),
        Case("torch-evil-names-memory", ("memory", "evil.py:build", "--input", "1,3,8,8"),
             {"evil.py": EVIL_NAMES}, expect="ok"),
        Case("torch-evil-names-latency", ("latency", "evil.py:build", "-f", "latex",
                                          "--input", "1,3,8,8"),
             {"evil.py": EVIL_NAMES}, expect="ok"),
        # the warnings of data-dependent and uncounted modules, in every format
        *(Case(f"torch-branchy-{fmt}", ("compare", "branchy.py:build", "-f", fmt,
                                        "--input", "2,3,16,16"),
               {"branchy.py": BRANCHY}, expect="ok") for fmt in ("table", "json", "csv")),
        Case("torch-branchy-guidelines", ("guidelines", "branchy.py:build", "-f", "json",
                                          "--input", "1,3,16,16"),
             {"branchy.py": BRANCHY}, expect="ok"),
        Case("torch-loop-on-data", ("summary", "loop.py:build", "--input", "1,3,8,8"),
             {"loop.py": DATA_DEPENDENT_SHAPE}, expect="ok"),
        Case("torch-mish-explain", ("explain", "mish.py:build", "-f", "json"),
             {"mish.py": UNCOUNTED_ACT}, expect="ok"),
        Case("torch-mish-import", ("import", "mish.py:build"), {"mish.py": UNCOUNTED_ACT},
             says=("reads",)),
        Case("torch-mish-import-out", ("import", "mish.py:build", "-o", "old.cm"),
             {"mish.py": UNCOUNTED_ACT, "old.cm": "model keep\n"}, protect=("old.cm",)),
        Case("torch-shape-mismatch", ("summary", "mismatch.py:build"),
             {"mismatch.py": MISMATCH}, says=("failed on a 1×3×224×224 input",)),
        Case("torch-shape-mismatch-fits", ("summary", "mismatch.py:build", "-f", "json",
                                           "--input", "3,3,32,32"),
             {"mismatch.py": MISMATCH}, expect="ok"),
        Case("torch-nothing-counted", ("compare", "only.py:build", "--input", "1,3,8,8"),
             {"only.py": ONLY_UNCOUNTED}, says=("could be counted",)),
        # factories that fail or lie
        Case("torch-factory-raises-escapes", ("compare", "raise.py:build"),
             {"raise.py": RAISES_ESCAPES}, says=("RuntimeError", "boom")),
        Case("torch-import-raises", ("summary", "imp.py:build"), {"imp.py": IMPORT_FAILS},
             says=("running the file raised ValueError",)),
        Case("torch-syntax-error", ("compare", "syn.py:build"),
             {"syn.py": "def build(:\n    pass\n"}, says=("not valid Python",)),
        Case("torch-forward-raises", ("compare", "fwd.py:build", "--input", "1,3,8,8"),
             {"fwd.py": FORWARD_FAILS}, says=("failed on a 1×3×8×8 input",)),
        Case("torch-no-factory", ("compare", "plain.py:missing"), {"plain.py": PLAIN},
             says=("has no function 'missing'", "build")),
        Case("torch-factory-not-identifier", ("compare", "plain.py:my-net"),
             {"plain.py": PLAIN}, says=("name the function",)),
        Case("torch-factory-empty", ("compare", "plain.py:"), {"plain.py": PLAIN},
             says=("name the function",)),
        Case("torch-factory-escape-name", ("compare", "plain.py:b\x1b[2Jx"),
             {"plain.py": PLAIN}, says=("name the function",)),
        Case("torch-bad-keyword", ("compare", "plain.py:build:depth=3"), {"plain.py": PLAIN},
             says=("TypeError", "depth")),
        Case("torch-bad-width-type", ("compare", "plain.py:build:width=abc"),
             {"plain.py": PLAIN}, says=("calling build",)),
        Case("torch-negative-width", ("compare", "plain.py:build:width=-4"),
             {"plain.py": PLAIN}, says=("calling build",)),
        Case("torch-width-repeated", ("compare", "plain.py:build:width=4,width=8"),
             {"plain.py": PLAIN}, says=("set twice",)),
        Case("torch-resolution-text", ("compare", "plain.py:build:resolution=big"),
             {"plain.py": PLAIN}, says=("numeric resolution",)),
        Case("torch-resolution-float", ("compare", "plain.py:build:resolution=22.5"),
             {"plain.py": PLAIN}, says=("numeric resolution",)),
        Case("torch-resolution-zero", ("compare", "plain.py:build:resolution=0"),
             {"plain.py": PLAIN}, says=("positive",)),
        *(Case(f"torch-returns-{what}", ("compare", "ret.py:build"),
               {"ret.py": HEAD + f"def build():\n    return {value}\n"},
               says=("not an nn.Module",)) for what, value in RETURNS.items()),
        # paths that are not Python files
        Case("torch-missing-file", ("compare", "nowhere.py:build"), says=("no such file",)),
        Case("torch-directory", ("compare", "folder.py:build"), setup=_dir,
             says=("is a directory",)),
        Case("torch-fifo", ("compare", "pipe.py:build"), setup=_fifo,
             says=("not a regular file",)),
        Case("torch-escape-in-path", ("compare", "we\x1bird.py:build"),
             says=("no such file",)),
        # inputs: malformed, too large for a real run, or inconsistent
        # N,F is a vector's input now (issue 18: inputs of any rank): a 2-D conv refuses it
        Case("torch-input-two", ("compare", "plain.py:build", "--input", "1,3"),
             {"plain.py": PLAIN}, says=("failed on a 1×3 input",)),
        # N,C,L is a sequence's input now: a 2-D module refuses it in its own words, one line
        Case("torch-input-three", ("compare", "plain.py:build", "--input", "1,3,8"),
             {"plain.py": PLAIN}, says=("failed on a 1×3×8 input",)),
        Case("torch-input-zero", ("compare", "plain.py:build", "--input", "1,3,0,8"),
             {"plain.py": PLAIN}, says=("positive",)),
        Case("torch-input-channels", ("compare", "plain.py:build", "--input", "1,4,8,8"),
             {"plain.py": PLAIN}, says=("failed on a 1×4×8×8 input",)),
        Case("torch-input-huge-fx", ("compare", "plain.py:build", "--input",
                                     "1,3,100000,100000"), {"plain.py": PLAIN}, expect="ok"),
        Case("torch-input-huge-hooks", ("compare", "branchy.py:build", "--input",
                                        "64,3,1024,1024"), {"branchy.py": BRANCHY},
             says=("MAX_TRACED_INPUT_ELEMENTS",)),
        Case("torch-input-60-digits", ("compare", "branchy.py:build", "--input",
                                       "1,3," + "9" * 60 + ",8"), {"branchy.py": BRANCHY},
             says=("MAX_TRACED_INPUT_ELEMENTS",)),
        Case("torch-resolution-huge-hooks", ("compare", "branchy.py:build:resolution=9000"),
             {"branchy.py": BRANCHY}, says=("MAX_TRACED_INPUT_ELEMENTS",)),
        Case("torch-latency-batch-conflict", ("latency", "plain.py:build", "--input",
                                              "4,3,16,16", "--batch", "2"),
             {"plain.py": PLAIN}, says=("different batches",)),
        Case("torch-latency-batch-from-input", ("latency", "plain.py:build", "-f", "json",
                                                "--input", "4,3,16,16"),
             {"plain.py": PLAIN}, expect="ok"),
    ]
    return cases


CASES = _cases()
