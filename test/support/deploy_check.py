"""Reads and checks the deploy files for test/integration/deploy-files.test.ts, with the venv's PyYAML and jsonschema.

  deploy_check.py to-json FILE            print every YAML document of FILE as one JSON array (anchors merged)
  deploy_check.py validate SCHEMA FILE    validate FILE's first YAML document against the JSON Schema SCHEMA (its
                                          $schema picks the draft); print one line per error, exit 1 when invalid
"""
import json
import sys

import jsonschema
import yaml


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def main(argv):
    if len(argv) == 2 and argv[0] == "to-json":
        json.dump(load_all(argv[1]), sys.stdout)
        return 0
    if len(argv) == 3 and argv[0] == "validate":
        with open(argv[1], encoding="utf-8") as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        errors = sorted(cls(schema).iter_errors(load_all(argv[2])[0]), key=lambda e: e.json_path)
        for e in errors:
            print(f"{e.json_path}: {e.message}")
        return 1 if errors else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
