"""Tests for the example plugin: its source keeps bamnet's contract, and bamnet loads it."""

from __future__ import annotations

from pathlib import Path

import bamnet_example
from bamnet_core.testing import check_source, load_with


def test_the_source_keeps_the_dataset_source_contract(tmp_path: Path):
    source = bamnet_example.ExampleShapes(per_class=3, size=16, root=str(tmp_path))
    samples = check_source(source)  # Samples, each image once, in a stable order
    assert sorted({s.label for s in samples}) == ["disc", "square"]


def test_bamnet_loads_the_plugin_with_its_source():
    host = load_with(bamnet_example)
    assert not host.failures, host.failures
    assert "example-shapes" in host.registry.names("dataset_source")
