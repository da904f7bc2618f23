"""Facts flow one way: a role reads another role's outputs (the facts it hands over) through its
own variables, never another role's inputs. Every Jinja expression in a role (templates, `{{ }}`
values, and the bare expressions of when/that/until/failed_when/changed_when) is parsed, and each
variable it reads that another role's meta/argument_specs.yml declares as an input fails here.
The shared customer facts (mail_*) belong to no role."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from jinja2 import Environment, meta

ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file())
CONDITIONALS = {"when", "that", "until", "failed_when", "changed_when"}


class AnyName(dict):
    """Ansible's filters and tests, by any name: only the variables matter here."""

    def __contains__(self, name):
        return True

    def __getitem__(self, name):
        return lambda *args, **kwargs: None

    def get(self, name, default=None):
        return self[name]


# Parsed, never rendered: nothing is escaped or output.
ENV = Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"], autoescape=False)  # noqa: S701
ENV.filters = AnyName()
ENV.tests = AnyName()


def inputs(role: Path) -> set[str]:
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    return {name for entry in specs.values() for name in (entry.get("options") or {})}


def templates(node, key=None) -> list[str]:
    """The Jinja a parsed YAML file holds: each string with {{ }} or {% %}, and the bare
    expressions of the conditional keys."""
    if isinstance(node, dict):
        return [t for k, v in node.items() for t in templates(v, k)]
    if isinstance(node, list):
        return [t for item in node for t in templates(item, key)]
    if isinstance(node, str) and key in CONDITIONALS:
        return [f"{{{{ {node} }}}}"]
    if isinstance(node, str) and ("{{" in node or "{%" in node):
        return [node]
    return []


def read_names(path: Path) -> set[str]:
    text = path.read_text()
    sources = [text] if path.suffix == ".j2" else templates(yaml.safe_load(text))
    names: set[str] = set()
    for source in sources:
        names |= meta.find_undeclared_variables(ENV.parse(source))
    return names


def test_the_scan_sees_expressions_and_conditionals(tmp_path):
    tasks = tmp_path / "main.yml"
    tasks.write_text(
        "# postfix_comment is not read\n"
        "- name: Uses postfix_name_text in a name only\n"
        "  ansible.builtin.debug:\n"
        "    msg: \"{{ postfix_in_braces | default('') }} and postfix_in_text\"\n"
        "  when: postfix_in_when | bool\n"
        "- ansible.builtin.assert:\n"
        "    that: [postfix_in_that is defined]\n"
    )
    assert read_names(tasks) == {"postfix_in_braces", "postfix_in_when", "postfix_in_that"}


# Jinja warns of regex escapes in string literals, which Ansible reads the same way.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_a_role_reads_no_other_roles_inputs(role):
    others = {name: other.name for other in ROLES if other != role for name in inputs(other)}
    read = []
    for path in sorted(role.rglob("*")):
        if path.is_file() and path.suffix in {".yml", ".j2"} and "meta" not in path.relative_to(role).parts:
            found = read_names(path) & others.keys()
            read += [f"{path.relative_to(ROOT)}: {name} ({others[name]}'s)" for name in sorted(found)]
    assert read == [], f"{role.name} reads other roles' inputs (read their outputs, or a mail_* fact): {read}"
