#!/usr/bin/env python3
"""Independent checks of placemap's OGC API - Features output, for tests/tests/ogc_parts.rs.

  ogc_check.py to-bng            stdin: JSON [[lon, lat], ...] -> stdout: [[easting, northing], ...]
                                 through pyproj (PROJ's EPSG:4326 -> EPSG:27700 transformation)
  ogc_check.py openapi FILE      validates an OpenAPI 3.0 document (openapi-spec-validator)
  ogc_check.py json-schema FILE  checks a JSON Schema document against its 2020-12 metaschema

Exit 0 with JSON on stdout; 1 when a check fails (the reason on stdout as {"error": ...});
2 with {"missing": "module"} when a Python module is not installed (.ci/run installs them).
"""

import json
import sys


def missing(module):
    print(json.dumps({"missing": module}))
    sys.exit(2)


def to_bng():
    try:
        from pyproj import Transformer
    except ImportError:
        missing("pyproj")
    points = json.load(sys.stdin)
    t = Transformer.from_crs("OGC:CRS84", "EPSG:27700", always_xy=True)
    xs, ys = t.transform([p[0] for p in points], [p[1] for p in points])
    print(json.dumps([[x, y] for x, y in zip(xs, ys)]))


def openapi(path):
    try:
        from openapi_spec_validator import validate
    except ImportError:
        missing("openapi_spec_validator")
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    try:
        validate(doc)
    except Exception as e:  # the validator's own error classes vary between versions
        print(json.dumps({"error": str(e)}))
        sys.exit(1)
    print(json.dumps({"valid": True, "paths": len(doc.get("paths", {}))}))


def json_schema(path):
    try:
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError
    except ImportError:
        missing("jsonschema")
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    try:
        Draft202012Validator.check_schema(doc)
    except SchemaError as e:
        print(json.dumps({"error": str(e)}))
        sys.exit(1)
    print(json.dumps({"valid": True, "properties": len(doc.get("properties", {}))}))


def main():
    if len(sys.argv) < 2:
        print(json.dumps({"error": "usage: ogc_check.py to-bng | openapi FILE | json-schema FILE"}))
        sys.exit(1)
    cmd = sys.argv[1]
    if cmd == "to-bng":
        to_bng()
    elif cmd == "openapi" and len(sys.argv) == 3:
        openapi(sys.argv[2])
    elif cmd == "json-schema" and len(sys.argv) == 3:
        json_schema(sys.argv[2])
    else:
        print(json.dumps({"error": f"unknown command {sys.argv[1:]}"}))
        sys.exit(1)


if __name__ == "__main__":
    main()
