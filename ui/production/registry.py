"""The Registry view: register the study page's design, list versions with their aliases, promote,
make a challenger, roll back, and diff two versions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from engine.serving.registry import CHALLENGER, CHAMPION, Registry, RegistryError, diff
from engine.study import Study
from ui.knobs import current_config
from ui.production.common import register_current, scope
from ui.views import describe


def view(study: Study, registry: Registry) -> None:
    keys = scope(study, "registry")
    design = current_config(study)
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.markdown(f"**This design:** {describe(study, design)} (from the study page's knobs in this session)")
    if right.button("Register this design", icon=":material/inventory_2:", type="primary", width="stretch"):
        register_current(study, registry)
    versions = registry.versions(study.id)
    if not versions:
        st.info("No versions yet. Register the current design to start.", icon=":material/inventory_2:")
        return
    aliases = registry.aliases(study.id)
    by_version = {v: a for a, v in aliases.items()}
    quality, latency = study.metric(study.quality_metric), study.latency_metric
    st.dataframe(
        pd.DataFrame(
            {
                "version": [v.version for v in versions],
                "alias": [by_version.get(v.version, "") for v in versions],
                "design": [describe(study, v.config) for v in versions],
                quality.label: [quality.format(v.metrics.get(quality.key)) for v in versions],
                latency.label: [latency.format(v.metrics.get(latency.key)) for v in versions],
                "seed": [v.seed for v in versions],
                "artifact sha256": [v.sha256[:12] for v in versions],
                "size": [f"{v.size_bytes / 1e6:.1f} MB" for v in versions],
                "registered": [
                    pd.Timestamp(v.created_at, unit="s").strftime("%Y-%m-%d %H:%M") for v in versions
                ],
            }
        ),
        hide_index=True,
    )
    numbers = [v.version for v in versions]
    pick, promote, challenge, back = st.columns([2, 1, 1, 1], vertical_alignment="bottom")
    chosen = pick.selectbox("Version", numbers, index=len(numbers) - 1, key=keys.key("alias_target"))
    if promote.button("Promote to champion", width="stretch", disabled=aliases.get(CHAMPION) == chosen):
        registry.promote(study.id, chosen)
        st.rerun()
    if challenge.button("Make challenger", width="stretch", disabled=aliases.get(CHALLENGER) == chosen):
        registry.set_alias(study.id, CHALLENGER, chosen)
        st.rerun()
    if back.button("Roll back champion", width="stretch", disabled=CHAMPION not in aliases):
        try:
            st.toast(f"Champion rolled back to version {registry.rollback(study.id)}")
            st.rerun()
        except RegistryError as err:
            st.warning(str(err), icon=":material/undo:")
    alias_history(study, registry)
    if len(versions) > 1:
        compare_versions(study, registry, numbers)


def alias_history(study: Study, registry: Registry) -> None:
    history = registry.history(study.id)
    if not history:
        return
    with st.expander(f"Alias history ({len(history)} moves)"):
        st.dataframe(
            pd.DataFrame(
                {
                    "when": [pd.Timestamp(e.at, unit="s").strftime("%Y-%m-%d %H:%M:%S") for e in history],
                    "alias": [e.alias for e in history],
                    "action": [e.action for e in history],
                    "from": [e.from_version for e in history],
                    "to": [e.to_version for e in history],
                }
            ),
            hide_index=True,
        )


def compare_versions(study: Study, registry: Registry, numbers: list[int]) -> None:
    keys = scope(study, "registry")
    st.markdown("**Compare two versions**")
    a_col, b_col = st.columns(2)
    a = a_col.selectbox("A", numbers, index=len(numbers) - 2, key=keys.key("diff_a"))
    b = b_col.selectbox("B", numbers, index=len(numbers) - 1, key=keys.key("diff_b"))
    changes = diff(registry.get(study.id, a), registry.get(study.id, b))
    rows = [("knob", k, va, vb) for k, (va, vb) in changes["config"].items()]
    rows += [
        ("metric", study.metric(k).label, study.metric(k).format(va), study.metric(k).format(vb))
        for k, (va, vb) in changes["metrics"].items()
        if k in {m.key for m in study.metrics}
    ]
    if rows:
        st.dataframe(pd.DataFrame(rows, columns=["", "what", f"v{a}", f"v{b}"]).astype(str), hide_index=True)
    else:
        st.caption("Same configuration and metrics.")
