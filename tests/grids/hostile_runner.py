"""Run in a child process by test_hostile_layers: read each file as the importer does, one JSON line per file.

If GEOS or GDAL aborted on a file the child would die with a signal; the test
then sees the exit code instead of losing pytest itself. After reading, each
feature also goes through GEOS as the insert would (WKB in, WKT out), which is
where the ±1e300 polygon used to abort the web process.
"""

import json
import sys

import django

django.setup()

from grids.geometry import to_geos  # noqa: E402
from grids.importing import LayerImportError, read_polygons  # noqa: E402


def outcome(path: str) -> dict:
    try:
        data = read_polygons(path)
    except LayerImportError as error:
        return {"file": path, "outcome": "refused", "message": str(error)}
    for feature in data.features:
        geos = to_geos(feature.geometry)
        assert geos.wkt and geos.valid
    return {"file": path, "outcome": "imported", "features": len(data.features), "problems": data.problems}


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(json.dumps({"started": name}), flush=True)
        print(json.dumps(outcome(name), ensure_ascii=False), flush=True)
