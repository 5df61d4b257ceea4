"""How each study's interview model answers score on the shared rubric, at every level, against a
vague answer; and how many live runs the paths-not-taken table costs. Run from the repository root:
`python bench/interview_content.py`. Seed 0."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

import engine  # noqa: E402
from engine.content import render  # noqa: E402
from engine.interview import LEVELS, load_script  # noqa: E402
from engine.interview.scoring import overall, score  # noqa: E402

for study in [s.id for s in engine.list_studies()]:
    s = load_script(study)
    ref = engine.run(study, {}, 0)
    model = {
        st.id: render(st.model_answer, s.study, ref, lambda c, study=study: engine.run(study, c, 0))
        for st in s.steps
    }
    vague = {st.id: "I would use a neural network and deploy it." for st in s.steps}
    print(
        study,
        {lvl: overall(score(s, model, lvl)) for lvl in LEVELS},
        "min dimension (senior):",
        min(d.auto for d in score(s, model, "senior")),
        "vague:",
        overall(score(s, vague, "senior")),
        "live alternatives:",
        sum(len(c.options) for c in s.choices() if s.is_knob(c.id)),
    )
