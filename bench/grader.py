"""The grader's agreement with the hand-graded answers, and its scores for answers built to game it.

Run from the repository root: `python bench/grader.py`. Targets: Spearman >= 0.8 per study; keyword
lists, pasted rubric terms, questions only and negated claims <= 1.0 overall; a strong answer in other
words >= 2.5; the model answers >= 3.5."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))

import engine  # noqa: E402
from bench import results_file  # noqa: E402
from engine.interview.agreement import measure  # noqa: E402


def main() -> None:
    rows = {s.id: measure(s.id) for s in engine.list_studies()}
    kinds = list(next(iter(rows.values())).adversarial)
    print(
        f"{'study':16} {'spearman':>8} " + " ".join(f"{k:>8}" for k in ("strong", "adequate", "weak", "off"))
    )
    for study, a in rows.items():
        means = a.mean_by_label
        print(
            f"{study:16} {a.spearman:8.3f} "
            + " ".join(f"{means[k]:8.2f}" for k in ("strong", "adequate", "weak", "off_topic"))
        )
    print("\nwhole interviews, overall score (0-4):")
    print(f"{'study':16} " + " ".join(f"{k[:14]:>14}" for k in kinds))
    for study, a in rows.items():
        print(f"{study:16} " + " ".join(f"{a.adversarial[k]:14.2f}" for k in kinds))
    results_file.store("grader", {s: a.__dict__ for s, a in rows.items()})


if __name__ == "__main__":
    main()
