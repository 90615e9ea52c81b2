"""The inspector's numpy helpers (no Qt)."""

from __future__ import annotations

import numpy as np

import tracing
from gui.tensor_data import (
    NAN_RGBA,
    NEGINF_RGBA,
    POSINF_RGBA,
    as_2d,
    displayable,
    finite_levels,
    histogram,
    nonfinite_overlay,
    tensor_refs,
)


def test_slices_take_the_last_two_dims_at_the_chosen_leading_indices():
    array = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    np.testing.assert_array_equal(as_2d(array, (1, 2)), array[1, 2])
    np.testing.assert_array_equal(as_2d(array, (9, -3)), array[1, 0])  # clamped
    assert as_2d(np.float32(3.0)).shape == (1, 1)
    assert as_2d(np.arange(6)).shape == (1, 6)
    assert as_2d(np.array([True, False])).dtype == np.uint8


def test_histogram_counts_only_finite_values():
    counts, edges = histogram(np.array([1.0, 2.0, np.nan, np.inf, 3.0]))
    assert counts.sum() == 3 and edges[0] == 1.0 and edges[-1] == 3.0
    counts, edges = histogram(np.array([np.nan, np.nan]))
    assert counts.size == 0
    counts, _ = histogram(np.full(10, 4.0))
    assert counts.sum() == 10


def test_nonfinite_cells_get_their_own_colours():
    data = np.array([[1.0, np.nan], [np.inf, -np.inf]])
    overlay = nonfinite_overlay(data)
    assert tuple(overlay[0, 1]) == NAN_RGBA
    assert tuple(overlay[1, 0]) == POSINF_RGBA
    assert tuple(overlay[1, 1]) == NEGINF_RGBA
    assert overlay[0, 0, 3] == 0
    assert nonfinite_overlay(np.ones((2, 2))) is None
    assert np.isfinite(displayable(data)).all()
    assert finite_levels(data) == (0.5, 1.5)


def test_tensor_refs_list_outputs_then_inputs_with_producers(nan_trace):
    trace = tracing.load(nan_trace)
    sources = {node.node_id: node for node in trace.source_nodes}
    matmul = trace.ops[6]  # q @ k^T: inputs from ops 2 and 5
    refs = tensor_refs(trace, matmul, sources)
    assert refs[0].label == "output" and refs[0].seq == 6
    assert [r.seq for r in refs[1:]] == [2, 5]
    assert refs[1].label.startswith("self ← op 2")
    linear = trace.ops[2]
    param = [r for r in tensor_refs(trace, linear, sources) if "param" in r.label]
    assert param and not param[0].has_value and "not recorded" in param[0].note
