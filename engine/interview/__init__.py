"""Mock interviews: a study's interview script, rubric scoring, follow-ups, the candidate's design run
on the live engine, persistence of attempts, a spaced-repetition practice plan and Markdown export."""

from engine.interview.script import DEFAULT_LENGTH, LENGTHS, LEVELS, Script, has_script, load_script

__all__ = ["DEFAULT_LENGTH", "LENGTHS", "LEVELS", "Script", "has_script", "load_script"]
