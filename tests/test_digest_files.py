"""The digest's files: never written through a link, always whole (temporary file, then rename)."""
from __future__ import annotations

import os

import pytest

from monitor.digest.files import DigestFolder, UnsafePath
from monitor.digest.runner import DigestRunner
from tests.support import build_config
from tests.test_digest import DAY, TZ, seeded  # noqa: F401 - the fixture


def runner_for(tmp_path, seeded):  # noqa: F811
    config = build_config(tmp_path, digest={"timezone": TZ, "directory": str(tmp_path / "digests")})
    return DigestRunner(config, {}, db=seeded.db, mentions=seeded.mentions, runs=seeded.digest_runs)


def test_a_link_at_the_report_name_is_replaced_not_written_through(tmp_path, seeded):  # noqa: F811
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = tmp_path / "digests" / "pixelcart"
    folder.mkdir(parents=True)
    for name in ("2026-11-20.html", "2026-11-20.csv"):
        (folder / name).symlink_to(victim)
    assert runner_for(tmp_path, seeded).run(day=DAY, brands=["Pixelcart"], targets=["file"]) == 1
    assert victim.read_text() == "precious"
    for name in ("2026-11-20.html", "2026-11-20.csv"):
        assert not (folder / name).is_symlink() and (folder / name).stat().st_size > 0
    assert "<html" in (folder / "2026-11-20.html").read_text().lower()
    assert sorted(p.name for p in folder.iterdir()) == ["2026-11-20.csv", "2026-11-20.html"]  # no temp left


def test_a_brand_folder_that_is_a_link_is_refused(tmp_path, seeded, caplog):  # noqa: F811
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "digests").mkdir()
    (tmp_path / "digests" / "pixelcart").symlink_to(elsewhere, target_is_directory=True)
    assert runner_for(tmp_path, seeded).run(day=DAY, brands=["Pixelcart"], targets=["file"]) == 0
    assert list(elsewhere.iterdir()) == []
    assert "is a link or not a folder" in caplog.text


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    files = DigestFolder(tmp_path / "d")
    files.write("brand", "report.html", "old")
    with pytest.raises(RuntimeError), files.replace("brand", "report.html") as out:
        out.write("half of the new")
        raise RuntimeError("the database went away mid-report")
    assert (tmp_path / "d" / "brand" / "report.html").read_text() == "old"
    assert os.listdir(tmp_path / "d" / "brand") == ["report.html"]


@pytest.mark.parametrize("folder, name", [("..", "x.html"), ("a/b", "x.html"), ("brand", "../x.html"),
                                          ("brand", ""), ("", "x.html"), ("brand", "x\0.html")])
def test_names_that_are_not_plain_are_refused(tmp_path, folder, name):
    with pytest.raises(UnsafePath):
        DigestFolder(tmp_path / "d").write(folder, name, "x")
    assert not (tmp_path / "x.html").exists()


def test_the_configured_directory_may_itself_be_a_link(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "linked").symlink_to(real, target_is_directory=True)
    path = DigestFolder(tmp_path / "linked").write("brand", "r.html", "ok")
    assert (real / "brand" / "r.html").read_text() == "ok" and path == tmp_path / "linked" / "brand" / "r.html"
