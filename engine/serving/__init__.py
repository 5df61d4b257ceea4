"""Taking a study to production: what it serves (`Predictor`), a model registry with artifacts, a
real HTTP endpoint in its own process, load tests, batch inference and a capacity plan.

No Streamlit here: the Production page, the CLI and the tests all drive these modules."""

from engine.serving.predictor import BadRequest, Predictor

__all__ = ["BadRequest", "Predictor"]
