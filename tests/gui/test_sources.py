"""Source text from disk is read only when it looks like what a trace records (no Qt)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from gui import sources
from gui.sources import find_source, read_disk_source, shorten_long_lines
from tests.gui.test_panels import write_located_ops


def test_a_python_file_on_disk_is_read_and_marked_as_from_disk(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("a = 1\nb = relu(a)\n")
    trace = write_located_ops(tmp_path / "t.opscope", str(script), [2])
    found = find_source(trace, str(script))
    assert found.origin == "disk" and found.text.startswith("a = 1")
    assert found.disk_path == str(script)
    assert not found.changed_after_recording


def test_a_file_modified_after_the_recording_is_flagged(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("a = 1\n")
    trace = write_located_ops(tmp_path / "t.opscope", str(script), [1])
    later = time.time() + 60
    os.utime(script, (later, later))
    assert find_source(trace, str(script)).changed_after_recording


def test_a_relative_file_is_found_under_the_runs_folder(tmp_path, monkeypatch):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "model.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)  # the recorder stores this as the run's cwd
    trace = write_located_ops(tmp_path / "t.opscope", "pkg/model.py", [1])
    monkeypatch.chdir("/")
    assert find_source(trace, "pkg/model.py").origin == "disk"


@pytest.mark.parametrize(
    "name", ["/proc/self/environ", "/etc/passwd", "/dev/zero", "/proc/self/cmdline"]
)
def test_system_and_non_python_files_are_never_read(tmp_path, name):
    trace = write_located_ops(tmp_path / "t.opscope", name, [1])
    found = find_source(trace, name)
    assert found.origin == "missing" and found.text is None


def test_a_python_named_link_to_a_secret_is_refused(tmp_path):
    secret = tmp_path / "id_rsa"
    secret.write_text("-----BEGIN PRIVATE KEY-----\n")
    link = tmp_path / "model.py"
    link.symlink_to(secret)
    found = read_disk_source(link)
    assert isinstance(found, str) and "only Python files" in found


def test_a_python_named_link_into_proc_is_refused(tmp_path):
    link = tmp_path / "environ.py"
    link.symlink_to("/proc/self/environ")
    assert isinstance(read_disk_source(link), str)


def test_a_fifo_named_like_python_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "model.py"
    os.mkfifo(fifo)
    assert "not a regular file" in read_disk_source(fifo)


def test_big_and_binary_python_files_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_DISK_SOURCE", 1000)
    big = tmp_path / "big.py"
    big.write_text("x = 1\n" * 500)
    assert "too big" in read_disk_source(big)
    binary = tmp_path / "blob.py"
    binary.write_bytes(b"x = 1\x00\x01\x02")
    assert "not a text file" in read_disk_source(binary)


def test_a_missing_file_says_why(tmp_path):
    assert read_disk_source(Path(tmp_path / "gone.py")) == ""


def test_long_lines_are_cut_and_line_numbers_kept():
    text = "a = 1\n" + "x" * 10_000 + "\nb = 2\n"
    shown, cut = shorten_long_lines(text, limit=100)
    assert cut == 1
    lines = shown.split("\n")
    assert lines[0] == "a = 1" and lines[2] == "b = 2"
    assert lines[1].startswith("x" * 100) and "9,900 more characters" in lines[1]
    assert shorten_long_lines("short\n") == ("short\n", 0)
