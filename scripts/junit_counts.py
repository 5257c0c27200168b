"""Print 'LABEL: N passed, N failed, N skipped' from pytest's JUnit XML files."""

import sys
import xml.etree.ElementTree as ET

label, paths = sys.argv[1], sys.argv[2:]
tests = failed = skipped = 0
for path in paths:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        failed += 1  # a pass that wrote no report did not succeed
        continue
    for suite in root.iter("testsuite"):
        tests += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
print(f"{label}: {tests - failed - skipped} passed, {failed} failed, {skipped} skipped")
