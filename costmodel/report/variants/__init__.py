"""Architectures the papers' tables compare that no zoo knob gives (MobileNet v1 Tables 4
and 5): layer-spec files, as data."""
