"""Read a Model Openness Tool model file (MOF model YAML) into a `MofRelease`.

The files are written by hand and by the tool's web form, so a broken one must
come back as one error naming the file and the field (a JSON pointer), never a
traceback: a batch over hundreds of files has to go on past it.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema.exceptions import ValidationError, best_match

from openaudit.model import Evidence, MofComponent, MofRelease
from openaudit.resources import schema_path
from openaudit.rules.mof import GLOBAL_LICENSE_KEYS, definition

SCHEMA = "mof_schema.json"


class MofFileError(Exception):
    """A model file that cannot be classified: which file, which field, what is wrong."""

    def __init__(self, file: str, field: str, message: str) -> None:
        super().__init__(f"{file}: {field}: {message}")
        self.file = file
        #: JSON pointer ("/release/components/3/license"), "/" for the whole document,
        #: or "line N" for YAML syntax errors.
        self.field = field
        self.message = message


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: the schema wants dates as strings, as written."""


_Loader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@functools.cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(schema_path(SCHEMA).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    validator: jsonschema.protocols.Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validator


def _pointer(parts: Any) -> str:
    escaped = [str(p).replace("~", "~0").replace("/", "~1") for p in parts]
    return "/" + "/".join(escaped)


def _schema_error(file: str, error: ValidationError) -> MofFileError:
    parts = list(error.absolute_path)
    message = error.message
    if error.validator == "required" and isinstance(error.instance, dict):
        # Point at the missing field itself, not at the object that lacks it.
        required = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [k for k in required if k not in error.instance]
        if missing:
            parts.append(missing[0])
            message = "required field is missing"
    return MofFileError(file, _pointer(parts), message)


def parse_release(text: str, file: str) -> MofRelease:
    """Parse and validate the text of a model file; `file` names it in errors and evidence."""
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "/"
        problem = getattr(exc, "problem", None) or str(exc)
        raise MofFileError(file, where, f"not valid YAML: {problem}") from None
    error = best_match(_validator().iter_errors(data))
    if error is not None:
        raise _schema_error(file, error)
    release = data["release"]
    licenses = {
        key: value["name"]
        for key, value in (release.get("license") or {}).items()
        if key in GLOBAL_LICENSE_KEYS and isinstance(value, dict) and value.get("name")
    }
    components = []
    known = {c.name for c in definition().components}
    for i, comp in enumerate(release["components"]):
        name = comp.get("name")
        if name not in known:
            field = _pointer(["release", "components", i, "name"])
            problem = "missing" if name is None else f"'{name}' is not a MOF component"
            raise MofFileError(file, field, problem)
        locator = _pointer(["release", "components", i])
        evidence = (Evidence("file", f"{file}#{locator}", excerpt=name),)
        components.append(MofComponent(name, comp.get("license"), evidence))
    return MofRelease(name=release["name"], licenses=licenses, components=tuple(components))


def read_release(path: str | Path) -> MofRelease:
    """Read one model file; raises MofFileError (never another exception) when it is unusable."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise MofFileError(file, "/", f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise MofFileError(file, "/", "not UTF-8 text") from None
    return parse_release(text, file)
