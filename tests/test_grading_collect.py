"""``collect`` from an LMS zip never stops on one bad entry (issue 15: faults that cost the batch).

Each test builds a real zip with the standard library, damages it the way a download or a
student can (a flipped byte, a cut-off file, a zip inside the zip, a zip bomb), and proves:
the other students are collected byte for byte, each left-out entry is listed with its
reason, and the input is only read.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pytest

from autograder import collect, lms_zip

NB = "ps1.ipynb"


def _nb(who: str) -> bytes:
    return json.dumps({"cells": [], "metadata": {"who": who}, "nbformat": 4, "nbformat_minor": 5}).encode()


def _zip(entries: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name, (2026, 11, 20, 10, 0, 0)), data, compress_type=method)
    return buf.getvalue()


def _class(n=4) -> dict[str, bytes]:
    return {f"student{i}_{100 + i}_{500 + i}_{NB}": _nb(f"student{i}") for i in range(n)}


def _collected(root: Path) -> dict[str, bytes]:
    return {p.parts[-3]: p.read_bytes() for p in sorted((root / "submitted").glob(f"*/ps1/{NB}"))}


def _corrupt_crc(data: bytes, name: str) -> bytes:
    """Flip one byte inside ``name``'s stored data: its CRC no longer matches."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    b = bytearray(data)
    b[start + 5] ^= 0xFF
    return bytes(b)


def _write(tmp_path: Path, data: bytes, name="export.zip") -> Path:
    z = tmp_path / name
    z.write_bytes(data)
    return z


def test_a_bad_crc_entry_is_left_out_with_its_reason_and_the_rest_collected(tmp_path):
    entries = _class()
    bad = f"student1_101_501_{NB}"
    z = _write(tmp_path, _corrupt_crc(_zip(entries, zipfile.ZIP_STORED), bad))
    before = z.read_bytes()
    got = collect.collect(z, tmp_path / "c", "ps1", [NB])
    assert _collected(tmp_path / "c") == {"student0": _nb("student0"), "student2": _nb("student2"),
                                         "student3": _nb("student3")}
    assert [s for s in got.skipped if s.startswith(bad)] == [f"{bad}: damaged entry (BadZipFile: Bad CRC-32 for file '{bad}')"]
    assert z.read_bytes() == before


def test_a_damaged_newest_copy_falls_back_to_the_older_one_that_reads(tmp_path):
    entries = {"ann/ps1 (1).ipynb": _nb("old"), "ann/ps1 (2).ipynb": _nb("new")}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(zipfile.ZipInfo("ann/ps1 (1).ipynb", (2026, 1, 1, 0, 0, 0)), _nb("old"))
        zf.writestr(zipfile.ZipInfo("ann/ps1 (2).ipynb", (2026, 1, 2, 0, 0, 0)), _nb("new"))
    z = _write(tmp_path, _corrupt_crc(buf.getvalue(), "ann/ps1 (2).ipynb"))
    got = collect.collect(z, tmp_path / "c", "ps1", [NB])
    assert _collected(tmp_path / "c") == {"ann": _nb("old")} and entries
    assert any(s.startswith("ann/ps1 (2).ipynb: damaged entry") for s in got.skipped)


def test_a_truncated_zip_yields_every_entry_whose_data_is_complete(tmp_path):
    data = _zip(_class())
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        last = zf.infolist()[-1]
    cut = last.header_offset + 30 + len(last.filename) + 10  # inside the last entry's data
    z = _write(tmp_path, data[:cut])
    got = collect.collect(z, tmp_path / "c", "ps1", [NB])
    assert _collected(tmp_path / "c") == {f"student{i}": _nb(f"student{i}") for i in range(3)}
    text = "\n".join(got.skipped)
    assert f"{last.filename}: cut off: the zip ends inside this entry" in text
    assert "export.zip: the zip is truncated" not in text and "the zip is truncated" in text


def test_zips_nested_in_the_zip_are_expanded_and_named_by_their_owner(tmp_path):
    inner_canvas = _zip({NB: _nb("carol")})
    inner_moodle = _zip({"work/ps1.ipynb": _nb("dave")})
    z = _write(tmp_path, _zip({f"carolc_301_901_ps1.zip": inner_canvas,
                               "Dave Doe_302_assignsubmission_file_/upload.zip": inner_moodle,
                               f"erine_303_903_{NB}": _nb("erin")}))
    got = collect.collect(z, tmp_path / "c", "ps1", [NB])
    assert _collected(tmp_path / "c") == {"carolc": _nb("carol"), "dave_doe_302": _nb("dave"), "erine": _nb("erin")}
    assert got.records["carolc"]["lms"] == "canvas" and got.records["carolc"]["lms_id"] == "301"
    assert got.records["dave_doe_302"]["lms"] == "moodle" and got.records["dave_doe_302"]["lms_id"] == "302"


def test_a_zip_nested_too_deep_is_left_out(tmp_path):
    assert lms_zip.MAX_DEPTH == 2
    deep = _zip({"l2.zip": _zip({"l3.zip": _zip({NB: _nb("x")})})})
    z = _write(tmp_path, _zip({"fred_1_2_ps1.zip": deep, f"gina_4_5_{NB}": _nb("gina")}))
    got = collect.collect(z, tmp_path / "c", "ps1", [NB])
    assert _collected(tmp_path / "c") == {"gina": _nb("gina")}
    assert "fred_1_2_ps1.zip/l2.zip/l3.zip: a zip nested more than 2 levels deep" in got.skipped


def test_a_zip_bomb_that_declares_its_size_is_left_out_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(collect, "MAX_NOTEBOOK_BYTES", 1 << 20)
    z = _write(tmp_path, _zip({f"hank_1_2_{NB}": b"{" + b" " * (8 << 20), f"ivy_3_4_{NB}": _nb("ivy")}))
    got = collect.collect(z, tmp_path / "c", "ps1", [NB])
    assert _collected(tmp_path / "c") == {"ivy": _nb("ivy")}
    assert f"hank_1_2_{NB}: larger than 1 MiB" in got.skipped


def test_a_zip_bomb_that_lies_about_its_size_is_left_out(tmp_path):
    data = bytearray(_zip({f"hank_1_2_{NB}": b"{" + b" " * (8 << 20), f"ivy_3_4_{NB}": _nb("ivy")}))
    cd = data.find(b"PK\x01\x02")
    data[cd + 24:cd + 28] = (100).to_bytes(4, "little")  # the directory claims 100 bytes
    z = _write(tmp_path, bytes(data))
    got = collect.collect(z, tmp_path / "c", "ps1", [NB])
    assert _collected(tmp_path / "c") == {"ivy": _nb("ivy")}
    assert [s for s in got.skipped if s.startswith("hank")] == [
        f"hank_1_2_{NB}: damaged entry (BadZipFile: Bad CRC-32 for file 'hank_1_2_{NB}')"]


def test_reading_an_entry_stops_at_the_cap_whatever_it_holds(tmp_path):
    z = _write(tmp_path, _zip({"big.bin": b"\0" * (32 << 20)}))
    (m,), bad = lms_zip.members(z)
    assert bad == [] and m.size == 32 << 20
    assert len(m.read(40 << 20)) == 32 << 20
    with pytest.raises(lms_zip.Unreadable, match="over the 1 MiB limit"):
        m.read(1 << 20)


def test_a_nested_zip_larger_than_its_cap_is_left_out(tmp_path, monkeypatch):
    monkeypatch.setattr(lms_zip, "MAX_NESTED_BYTES", 1 << 20)
    big = _zip({NB: b"\0" * (2 << 20)}, zipfile.ZIP_STORED)  # 2 MiB as a zip, a few KiB compressed
    z = _write(tmp_path, _zip({"jack_1_2_ps1.zip": big, f"kim_3_4_{NB}": _nb("kim")}))
    got = collect.collect(z, tmp_path / "c", "ps1", [NB])
    assert _collected(tmp_path / "c") == {"kim": _nb("kim")}
    assert any(s.startswith("jack_1_2_ps1.zip: uncompressed size over the 1 MiB limit") for s in got.skipped)


def test_a_file_that_is_no_zip_at_all_is_reported_not_raised(tmp_path):
    z = _write(tmp_path, b"this is an html error page, not a zip")
    got = collect.collect(z, tmp_path / "c", "ps1", [NB])
    assert got.students == {} and got.skipped == ["(the zip): not a zip file"]


def test_zip_times_are_read_in_the_configured_time_zone_and_recorded(tmp_path):
    z = _write(tmp_path, _zip({f"lena_1_2_{NB}": _nb("lena")}))  # entry time 2026-11-20 10:00 local
    got = collect.collect(z, tmp_path / "c", "ps1", [NB], timezone="Europe/Berlin")
    stamp = (tmp_path / "c" / "submitted" / "lena" / "ps1" / "timestamp.txt").read_text()
    assert stamp == "2026-11-20 09:00:00.000000 UTC"  # Berlin is UTC+1 in November
    rec = collect.read_record(tmp_path / "c", "ps1")["lena"]
    assert rec["timestamp"] == "2026-11-20T09:00:00+00:00"
    assert rec["timestamp_source"] == "the zip entry's time, read as Europe/Berlin" and got.records["lena"] == rec


def test_an_exchange_timestamp_beside_the_notebook_wins_over_the_file_time(tmp_path):
    src = tmp_path / "inbox" / "mia"
    src.mkdir(parents=True)
    (src / NB).write_bytes(_nb("mia"))
    (src / "timestamp.txt").write_text("2026-11-21 23:30:00.000000 UTC")
    collect.collect(tmp_path / "inbox", tmp_path / "c", "ps1", [NB])
    rec = collect.read_record(tmp_path / "c", "ps1")["mia"]
    assert rec["timestamp"] == "2026-11-21T23:30:00+00:00" and rec["timestamp_source"] == "the exchange's timestamp.txt"


def test_an_entry_with_no_valid_time_gets_no_timestamp_file(tmp_path):
    data = bytearray(_zip({f"noah_1_2_{NB}": _nb("noah")}))
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):  # DOS date 0: month 0 is no date
        at = data.find(sig)
        off = 10 if sig == b"PK\x03\x04" else 12
        data[at + off:at + off + 4] = b"\0\0\0\0"
    z = _write(tmp_path, bytes(data))
    collect.collect(z, tmp_path / "c", "ps1", [NB])
    assert not (tmp_path / "c" / "submitted" / "noah" / "ps1" / "timestamp.txt").exists()
    assert collect.read_record(tmp_path / "c", "ps1")["noah"]["timestamp"] is None
