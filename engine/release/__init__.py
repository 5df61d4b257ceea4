"""Releasing a challenger: shadow traffic, a canary with guardrails on the study's simulated world,
and the statistics of the canary's decisions over seeded repeats. No Streamlit here."""
