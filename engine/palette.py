"""One palette for every chart, ECharts and plotly alike (Streamlit's own colours)."""

BLUE = "#1c83e1"  # online, the current design, the measured series
RED = "#ff4b4b"  # highlighted, a limit (SLO, capacity), a warning
GREY = "#808495"  # offline, the baseline
LIGHT_GREY = "#c0c4cc"  # runs off the frontier
EDGE = "#9aa0a6"
INK = "#31333f"
SERIES = (BLUE, "#ff8700", "#29b09d", "#7d53de", RED, GREY)
