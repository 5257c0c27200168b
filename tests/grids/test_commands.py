"""import_jurisdiction, import_layer, unify_grids and activate_grid from the command line."""

import io

import pytest
import shapely
from django.core.management import CommandError, call_command

from grids.models import GridVersion, Layer
from tests.grids.test_services import COMMUNITIES, write

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
box = shapely.box


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def files(tmp_path):
    return {
        "communities": write(tmp_path / "communities.geojson", COMMUNITIES),
        "cg": write(tmp_path / "cg.geojson", [("CG-1", "一", box(121.50, 29.98, 121.515, 30.00)),
                                              ("CG-2", "二", box(121.515, 29.98, 121.52, 30.00))]),
    }  # fmt: skip


def test_the_whole_path_from_files_to_an_active_version(files):
    out, _ = run("import_jurisdiction", "--file", str(files["communities"]))
    assert "3 communities in 2 streets of 1 district(s)" in out
    out, _ = run("import_layer", "--department", "cg", "--file", str(files["cg"]))
    assert out.startswith("CG layer version 1: 2 polygons from cg.geojson")
    out, err = run("unify_grids", "--sliver-area", "50")
    assert "Dry run: nothing saved" in out and not GridVersion.objects.exists()
    assert "communities [" in err  # the progress bar
    out, _ = run("unify_grids", "--commit", "--no-progress")
    version_id = int(out.strip().splitlines()[-1])
    version = GridVersion.objects.get(pk=version_id)
    assert version.status == "draft" and f"{version.cell_count} cells in 3 communities" in out
    out, _ = run("activate_grid", str(version_id))
    assert f"Grid version {version_id} is active" in out
    version.refresh_from_db()
    assert version.status == "active"


def test_errors_are_command_errors(files):
    with pytest.raises(CommandError, match="No department"):
        run("import_layer", "--department", "XX", "--file", str(files["cg"]))
    with pytest.raises(CommandError, match="code"):
        run("import_layer", "--department", "CG", "--file", str(files["cg"]), "--code-field", "bm")
    assert not Layer.objects.exists()
    with pytest.raises(CommandError, match="jurisdiction"):
        run("unify_grids")
    with pytest.raises(CommandError, match="No grid version"):
        run("activate_grid", "999")


def test_activating_a_published_version_is_refused(files):
    run("import_jurisdiction", "--file", str(files["communities"]))
    run("import_layer", "--department", "CG", "--file", str(files["cg"]))
    version_id = run("unify_grids", "--commit", "--no-progress")[0].strip().splitlines()[-1]
    run("activate_grid", version_id)
    with pytest.raises(CommandError, match="Only a draft"):
        run("activate_grid", version_id)
