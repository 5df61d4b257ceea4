"""`python -m engine interview score STUDY --answers FILE.json`: grade a written interview headless."""

from __future__ import annotations

import json
from pathlib import Path

from engine.data import DataError
from engine.interview.scoring import grade, score
from engine.interview.script import LEVELS, load_script


def add_commands(commands) -> None:
    interview = commands.add_parser("interview", help="grade a mock interview's answers")
    actions = interview.add_subparsers(dest="action", required=True)
    scorer = actions.add_parser("score", help="score answers given as {step id or followup:<id>: text}")
    scorer.add_argument("study")
    scorer.add_argument("--answers", type=Path, required=True, help="a JSON file: step ids to text")
    scorer.add_argument("--level", choices=LEVELS, default="senior")
    scorer.add_argument("--json", action="store_true")


def run(args) -> int:
    script = load_script(args.study)
    try:
        answers = json.loads(args.answers.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(f"{args.answers}: cannot be read as JSON ({err})") from None
    if not isinstance(answers, dict) or not all(isinstance(v, str) for v in answers.values()):
        raise DataError(f"{args.answers}: expected an object mapping step ids to answer text")
    known = {s.id for s in script.steps} | {f"followup:{f.id}" for f in script.followups}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise DataError(
            f"{args.answers}: unknown answer slots {', '.join(unknown)}; "
            f"steps are {', '.join(s.id for s in script.steps)}"
        )
    scores = score(script, answers, args.level)
    result = grade(script, scores, answers)
    out = {
        "study": script.study.id,
        "level": args.level,
        "overall": result.value,
        "hire_signal": result.signal,
        "reason": result.reason,
        "dimensions": [
            {
                "dimension": s.dimension,
                "score": s.final,
                "covered": [{"point": p, "evidence": e} for p, e in s.covered.items()],
                "missed": [p.point for p in s.missed],
            }
            for s in scores
        ],
    }
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    print(f"{result.value:.2f} / 4 ({result.signal}). {result.reason}")
    for s in scores:
        print(f"\n{s.title}: {s.final:.2f}")
        for point, sentence in s.covered.items():
            print(f"  + {point}\n      “{sentence}”")
        for point in s.missed:
            print(f"  - {point.point}")
    return 0
