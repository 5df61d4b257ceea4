"""The names of the study's design options, shared by the spec (knob options) and the pipeline,
and light to import: listing the studies must not load networkx or scikit-learn."""

SOURCES = ("fof", "fof+attributes", "fof+attributes+ppr")
HEURISTICS = (
    "random",
    "preferential_attachment",
    "common_neighbours",
    "jaccard",
    "adamic_adar",
    "resource_allocation",
)
LEARNED = ("logistic", "gbdt")
