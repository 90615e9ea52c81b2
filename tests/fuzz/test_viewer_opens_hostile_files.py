"""The viewer's window survives every hostile file: it names the file in the error it shows,
keeps working, and no exception escapes a panel while the cursor walks a damaged trace.

The window belongs to the viewer (``gui``); these tests only drive ``MainWindow.open_trace``
offscreen through ``tests.fuzz.viewer.ViewerProbe``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from tests.fuzz import mutate
from tests.fuzz.viewer import ViewerProbe

CORPUS = Path(__file__).resolve().parent / "corpus"
MANIFEST: dict[str, dict[str, str]] = json.loads((CORPUS / "manifest.json").read_text())

DAMAGED_VALUES = {
    "giant_shape_with_value.opscope": 1,
    "shape_2_32_squared_with_value.opscope": 2,
    "zero_sized_huge_dims_with_value.opscope": 3,
    "unknown_dtype_with_value.opscope": 4,
    "value_size_mismatch.opscope": 5,
    "value_chunk_gap.opscope": 6,
    "value_stored_as_text.opscope": 7,
}
"""Corpus files whose op (the value) loads but cannot be read: the inspector must say so."""


@pytest.fixture(scope="module")
def probe():
    viewer = ViewerProbe()
    yield viewer
    viewer.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("viewer-corpus")
    for file in CORPUS.iterdir():
        shutil.copyfile(file, folder / file.name)
    return folder


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_viewer_shows_the_error_of_each_corpus_file_and_survives(probe, corpus, name) -> None:
    outcome = probe.open(corpus / name)
    assert not outcome.failed, f"{outcome.kind}: {outcome.detail}"
    expected = MANIFEST[name]["expect"]
    if expected == "rejected":
        assert outcome.kind == "rejected"
        assert name in probe.window.last_error
    elif expected in ("loads", "lazy_error"):
        assert outcome.kind == "loaded", outcome.errors
        walked = probe.walk()
        assert not walked.failed, f"{walked.kind}: {walked.detail}"


@pytest.mark.parametrize(
    "kind",
    [k for k in mutate.SPECIAL_PATHS if not k.startswith("unreadable")],
)
def test_viewer_refuses_special_paths_with_an_error(probe, tmp_path, kind) -> None:
    path = mutate.make_special(kind, tmp_path, CORPUS / "utf16_database.opscope")
    outcome = probe.open(path)
    assert outcome.kind == "rejected", f"{outcome.kind}: {outcome.detail}"


@pytest.mark.parametrize("name", sorted(DAMAGED_VALUES))
def test_tensor_inspector_says_why_a_damaged_value_cannot_be_shown(probe, corpus, name) -> None:
    assert MANIFEST[name]["expect"] == "lazy_error"
    assert probe.open(corpus / name).kind == "loaded"
    inspector = probe.window.inspector
    probe.window.session.go_to(DAMAGED_VALUES[name])
    assert probe.settle()
    assert inspector.stack.currentWidget() is inspector.message
    assert "The stored values cannot be read" in inspector.message.text()
