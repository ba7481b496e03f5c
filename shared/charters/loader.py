"""Reading and validating a charter file (YAML), reporting every problem with its path."""
from __future__ import annotations

from typing import Any

import yaml
from pydantic import ValidationError

from shared.charters.model import Charter


class CharterFileError(ValueError):
    """Every problem found in one charter file, each as ``path: message``."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"{source}: " + "; ".join(problems))
        self.source = source
        self.problems = problems


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in {"processing_target", "callback", "opinion_response", "interim_notice", "result_notice",
                      "disclosure_decision", "satisfaction_survey", "rights_notice", "guardian_official", "remedy"}:
            continue  # the discriminator tag pydantic inserts into the location
        else:
            out += f".{part}" if out else str(part)
    return out or "(file)"


def parse_charter(text: str, source: str = "<charter>") -> Charter:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        raise CharterFileError(source, [f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from exc
    if not isinstance(data, dict):
        raise CharterFileError(source, ["(file): a charter file is a mapping of fields"])
    try:
        return Charter.model_validate(data)
    except ValidationError as exc:
        problems = [f"{_path(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise CharterFileError(source, problems) from exc
