"""`python -m engine new-study ID`: a new study folder, copied from `case_studies/_template` (the
smallest study that passes `engine.check`), ready to run and to be rewritten into your own."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import case_studies

TEMPLATE = Path(case_studies.__path__[0]) / "_template"


def add_command(commands) -> None:
    command = commands.add_parser("new-study", help="a new study folder from the template")
    command.add_argument("id", help="the study's id: a Python identifier, also its folder's name")
    command.add_argument("--into", type=Path, default=Path(case_studies.__path__[0]), help=argparse.SUPPRESS)


def create(study_id: str, into: Path) -> Path:
    """Copy the template to `into/study_id`, its id renamed; refuses an existing folder."""
    if not study_id.isidentifier() or study_id.startswith("_"):
        raise ValueError(f"'{study_id}' is not a study id: use a Python identifier not starting with _")
    target = into / study_id
    if target.exists():
        raise ValueError(f"{target} already exists: choose another id")
    shutil.copytree(TEMPLATE, target, ignore=shutil.ignore_patterns("__pycache__"))
    spec = target / "spec.py"
    spec.write_text(spec.read_text(encoding="utf-8").replace('id="_template"', f'id="{study_id}"'), "utf-8")
    return target


def run(args: argparse.Namespace) -> int:
    target = create(args.id, args.into)
    print(
        f"Created {target}. It runs as it is: `python -m engine check {args.id}`. Then make it yours, "
        "part by part: docs/adding-a-study.md."
    )
    return 0
