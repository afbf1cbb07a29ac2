"""MobileNet v1 against the paper: Howard et al., arXiv 1704.04861, Tables 6 and 7.

The paper prints MACs in millions and params in millions to 1 decimal; each exact count must
agree with the printed figure (see tests/printed.py: Table 7 truncates 290.7M to 290).
"""

import pytest

from costmodel import zoo
from tests.printed import agrees


@pytest.mark.parametrize("alpha, macs_m, params_m", [
    ("1.0", 569, 4.2),   # Table 6: 568,740,352 MACs, 4,210,088 params
    ("0.75", 325, 2.6),  # 325,400,448 / 2,569,144
    ("0.5", 149, 1.3),   # 149,497,088 / 1,320,648
    ("0.25", 41, 0.5),   # 41,030,272 / 464,600
])
def test_width_multiplier_table6(alpha, macs_m, params_m):
    net = zoo.build("mobilenet_v1", alpha=alpha)
    assert agrees(net.macs(), macs_m, 1)
    assert agrees(net.params(), params_m, 0.1)


@pytest.mark.parametrize("resolution, macs_m", [
    (192, 418),  # 418,121,728
    (160, 290),  # 290,675,200: printed truncated
    (128, 186),  # 186,400,768
])
def test_resolution_table7(resolution, macs_m):
    net = zoo.build("mobilenet_v1", resolution=resolution)
    assert agrees(net.macs(), macs_m, 1)
    assert agrees(net.params(), 4.2, 0.1)  # params do not depend on the resolution


def test_exact_default_counts():
    net = zoo.build("mobilenet_v1")
    # conv1: 112·112·32·3·9 = 10,838,016 MACs; the whole network as summed layer by layer
    assert net.layers[0].counts.macs == 112 * 112 * 32 * 3 * 9
    assert net.macs() == 568_740_352
    # FC: 1024·1000 weights + 1000 biases = 1,025,000 params
    assert net.layers[-1].counts.weights == 1024 * 1000 + 1000
