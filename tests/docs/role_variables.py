"""Each role's variable table in its README, generated from the role's meta/argument_specs.yml
(the `main` entry point): the one description of a variable, which `ansible-doc -t role` shows
too. The README keeps the why and the examples; the table stands between two markers and is
rewritten whole.

    python tests/docs/role_variables.py           # rewrite the tables (make docs)
    python tests/docs/role_variables.py --check   # exit 1, naming the READMEs, where one differs

tests/docs/test_role_variables.py fails on drift.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = ROOT / "roles"
BEGIN = "<!-- variables: generated from meta/argument_specs.yml by tests/docs/role_variables.py -->"
END = "<!-- end of the generated variables -->"
# Ansible's documentation markup (O(), C(), V(), ...) as Markdown
MARKUP = re.compile(r"\b(O|C|V|RV|E|M|I|B|U)\(([^()]*)\)|\bL\(([^(),]*),[^()]*\)")


def specs(role: Path) -> dict:
    return yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]


def defaults(role: Path) -> dict:
    return yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}


def markdown(text: str) -> str:
    def convert(match: re.Match) -> str:
        kind, value, title = match.group(1), match.group(2), match.group(3)
        if title is not None:
            return title
        if kind == "I":
            return f"*{value}*"
        if kind == "B":
            return f"**{value}**"
        if kind == "U":
            return value
        return f"`{value}`"

    return MARKUP.sub(convert, " ".join(text.split())).replace("|", "\\|")


def described(option: dict) -> str:
    description = option.get("description", "")
    parts = [description] if isinstance(description, str) else description
    meaning = " ".join(markdown(part) for part in parts)
    if option.get("choices"):
        meaning += " One of " + ", ".join(f"`{c}`" if c != "" else '`""`' for c in option["choices"]) + "."
    return meaning


def kind(option: dict) -> str:
    name = option.get("type", "str")
    if name == "list" and option.get("elements"):
        return f"list of {option['elements']}"
    return name


def default(option: dict, defined: object) -> str:
    """The spec's default; else, as defaults/main.yml defines it (defined): unset (null), or a
    template, which the meaning describes."""
    if option.get("required"):
        return "required"
    if "default" not in option:
        return "unset" if defined is None else "computed (see the meaning)"
    value = option["default"]
    if isinstance(value, str):
        shown = json.dumps(value) if value == "" or value != value.strip() else value
    else:
        shown = json.dumps(value)
    return "`" + shown.replace("|", "\\|") + "`"


def table(role: Path) -> str:
    rows = ["| variable | type | default | meaning |", "|---|---|---|---|"]
    defined = defaults(role)
    for name, option in specs(role)["options"].items():
        shown = default(option, defined.get(name))
        rows.append(f"| `{name}` | {kind(option)} | {shown} | {described(option)} |")
    return "\n".join([BEGIN, *rows, END])


def rewritten(readme: str, block: str, where: Path) -> str:
    if readme.count(BEGIN) != 1 or readme.count(END) != 1:
        raise SystemExit(f"{where}: the two markers of the generated table, once each:\n{BEGIN}\n{END}")
    head, rest = readme.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    return head + block + tail


def roles() -> list[Path]:
    return sorted(p for p in ROLES.iterdir() if (p / "meta" / "argument_specs.yml").exists())


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for role in roles():
        path = role / "README.md"
        text = path.read_text()
        new = rewritten(text, table(role), path)
        if new != text:
            stale.append(str(path.relative_to(ROOT)))
            if not check:
                path.write_text(new)
    if check and stale:
        print("the variable tables differ from meta/argument_specs.yml (make docs):", *stale, sep="\n  ")
        return 1
    for name in stale:
        print(f"rewrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
