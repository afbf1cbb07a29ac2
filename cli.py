#!/usr/bin/env python3
"""Run costmodel from a checkout without installing it: `python cli.py compare ...`."""

from costmodel.cli.app import console_script

if __name__ == "__main__":
    console_script()
