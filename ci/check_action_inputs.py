"""Checks that action.yml passes every input to the container and documents it.

The runner's INPUT_<NAME> variables are not reliable for names with hyphens, so each input must
reach the container through runs.env (or runs.args) by an explicit `${{ inputs.<name> }}`.
"""

import re
import sys

from ruamel.yaml import YAML


def main(path: str) -> int:
    with open(path, encoding="utf-8") as file:
        action = YAML(typ="safe").load(file)

    inputs = action["inputs"]
    runs = action["runs"]
    passed = " ".join([*map(str, runs.get("env", {}).values()), *map(str, runs.get("args", []))])
    referenced = set(re.findall(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}", passed))
    problems = []

    for name, spec in inputs.items():
        description = spec.get("description", "")
        if name not in referenced:
            problems.append(f"input `{name}` is not passed in runs.env or runs.args")
        if not spec.get("required") and "Default:" not in description:
            problems.append(f"input `{name}` does not document its default")
        if str(spec.get("default")) in ("true", "false") and "`true` or `false` only" not in description:
            problems.append(f"boolean input `{name}` does not say it takes only `true` or `false`")
    for name in sorted(referenced - set(inputs)):
        problems.append(f"runs passes `inputs.{name}`, which is not declared")
    env_names = list(runs.get("env", {}))
    for name in sorted({n for n in env_names if env_names.count(n) > 1}):
        problems.append(f"variable `{name}` is set twice in runs.env")

    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "action.yml"))
