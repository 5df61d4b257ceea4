import hashlib

import streamlit as st

from engine.content import load_steps, render, variants
from engine.data import DataError
from engine.study import Dataset, Study
from engine.tradeoffs import changed_knobs
from ui import db, runs, views
from ui.knobs import knob_panel, link_warning, reset_knobs, seed_input
from ui.state import Scope, link_key, study_page
from ui.studies import pick_study

# Plain labels: a bound widget writes its label into the URL, so these make readable links.
LAB, WALKTHROUGH, COMPARE, TRY = "Trade-off lab", "Walkthrough", "Compare", "Try it"


def data_source(study: Study) -> Dataset | None:
    st.subheader("Data", divider="gray")
    several = bool(study.upload.files)
    files = study.upload.files
    types = sorted({name.rsplit(".", 1)[-1] for name in files}) if several else list(study.upload.suffixes)
    uploads = st.file_uploader(
        "Use your own data",
        type=types,
        key=Scope(study.id, "study", "data").key("upload"),
        help=study.upload.format,
        accept_multiple_files=several,
    )
    if not uploads:
        st.caption("Using the simulated world. " + study.upload.format)
        return None
    listed = uploads if several else [uploads]
    files = {u.name: u.getvalue() for u in listed}  # a name uploaded again: the latest copy
    names = ", ".join(files)
    if again := sorted({u.name for u in listed if sum(v.name == u.name for v in listed) > 1}):
        st.caption(
            f"{', '.join(again)} {'is' if len(again) == 1 else 'are'} in the list more than once: the copy "
            "uploaded last is used; remove the others with their ×."
        )
    raw = files if several else next(iter(files.values()))
    try:
        data = runs.load_dataset(study.id, _digest(files), raw)
    except DataError as err:
        st.error(f"**{names}** can't be used: {err}", icon=":material/error:")
        st.caption("Still using the simulated world.")
        return None
    st.success(f"Using **{names}**: {data.summary}.", icon=":material/check_circle:")
    return data


def _digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name])
    return digest.hexdigest()


def last_touched(study: Study, config: dict) -> list[str]:
    """The knobs changed by the latest interaction, remembered until the next change."""
    page = study_page(study.id)
    if page.previous is not None and page.previous != config:
        page.touched = changed_knobs(page.previous, config)
    page.previous = config
    return page.touched


def register_button(study: Study, config: dict, seed: int) -> None:
    """Store this design as the study's next model version, then point to the Production page."""
    if st.button(
        "Register this design",
        icon=":material/inventory_2:",
        width="stretch",
        help="Train and store this configuration as a model version you can serve on the Production page.",
    ):
        with st.spinner("Registering…"):
            model = db.registry().register(study, config, seed)
        study_page(study.id).registered = model.version
    version = study_page(study.id).registered
    if version is not None:
        st.page_link(
            "app_pages/production.py",
            label=f"Version {version} registered: serve it",
            icon=":material/dns:",
            query_params={"study": study.id},
        )


def pin_baseline(study: Study, config: dict) -> None:
    study_page(study.id).baseline = config


@st.fragment
def study_body(study: Study, seed: int, data: Dataset | None) -> None:
    knobs_column, main = st.columns([1, 3.2], gap="large")
    with knobs_column, st.container(key="knob_panel"):  # the key: phones show it after the results
        st.markdown("**Design knobs**")
        config = knob_panel(study, data)
        st.button(
            "Pin as baseline",
            icon=":material/push_pin:",
            on_click=pin_baseline,
            args=(study, config),
            help="Measure every change against this configuration.",
            width="stretch",
        )
        st.button(
            "Reset to defaults",
            icon=":material/restart_alt:",
            on_click=reset_knobs,
            args=(study,),
            width="stretch",
        )
        if study.serving is not None and data is None:
            register_button(study, config, seed)
    with main:
        with st.container(key="phone_only_knobs_below"):
            st.caption("On a phone the design knobs are below the results: scroll down to move them.")
        view = st.segmented_control(
            "View",
            [LAB, WALKTHROUGH, COMPARE] + ([TRY] if study.probe else []),
            key=link_key(study.id, "view"),
            default=LAB,
            required=True,
            bind="query-params",
            label_visibility="collapsed",
        )
        try:
            with st.spinner("Training and evaluating this configuration…", show_time=True):
                result = runs.run_config(study, config, seed, data)
                baseline_config = study_page(study.id).baseline or study.defaults()
                baseline = runs.run_config(study, baseline_config, seed, data)
        except Exception as err:  # noqa: BLE001 - user data can break a run; show it, keep the page
            if data is None:
                raise
            st.error(f"The study could not run on your data: {err}", icon=":material/error:")
            return
        runs.record(study, baseline, data)
        runs.record(study, result, data)
        touched = last_touched(study, result.config)
        if view == WALKTHROUGH:
            walkthrough(study, result, seed, data)
        elif view == COMPARE:
            compare(study, data)
        elif view == TRY:
            try_it(study, result.config, seed, data)
        else:
            lab(study, result, baseline, touched, data)


def lab(study: Study, result, baseline, touched: list[str], data: Dataset | None) -> None:
    same = result.config == baseline.config
    current, pinned = runs.run_key(result, data), runs.run_key(baseline, data)
    elsewhere = runs.world(study, current) != runs.world(study, pinned)
    views.metric_row(study, result, None if same or elsewhere else baseline, study.headline)
    if same:
        st.caption("This is the pinned baseline: move a knob to see the change against it.")
    elif elsewhere:
        moved = ", ".join(
            f"{k.label} {k.format_value(baseline.config[k.id])} → {k.format_value(result.config[k.id])}"
            for k in study.knobs
            if k.world and baseline.config[k.id] != result.config[k.id]
        )
        st.caption(
            f"The baseline was measured in another world ({moved}): every metric moves with the world, so "
            "no change is shown against it. Pin this configuration to compare within this world."
        )
    views.ranges_caption(study, result)
    views.architecture_panel(study, result, touched)
    views.study_panels(study, result, None if same or elsewhere else baseline)
    # One above the other: side by side, the table's A, B and B − A columns were cut at 1,280 px.
    st.markdown("**Quality against cost, every configuration tried in this world**")
    views.pareto_chart(study, runs.same_world(study, current), current, pinned)
    st.markdown("**All metrics: baseline (A) and current (B)**")
    st.dataframe(views.compare_table(study, baseline, result, comparable=not elsewhere), height=340)


def walkthrough(study: Study, result, seed: int, data: Dataset | None) -> None:
    steps = load_steps(study)
    titles = [f"{i}. {step.title}" for i, step in enumerate(steps, start=1)]
    chosen = st.radio(
        "Step",
        titles,
        horizontal=True,
        key=link_key(study.id, "step"),
        bind="query-params",
        label_visibility="collapsed",
    )
    position = titles.index(chosen)
    step = steps[position]
    quoted = variants(step.body, study, result.config)
    runs.run_all(study, quoted, seed, data, "Running the variants this step quotes")
    text = render(step.body, study, result, lambda cfg: runs.run_config(study, cfg, seed, data))
    # While this step is read, the steps after it get their variants run (once per configuration).
    ahead = [cfg for later in steps[position + 1 :] for cfg in variants(later.body, study, result.config)]
    runs.warm_ahead(study, runs.run_key(result, data), ahead, seed, data)
    anchor = f"{study.id}-step"
    st.subheader(step.title, anchor=anchor)
    page = study_page(study.id)
    if page.scroll_pending:
        scroll_to(anchor, page.scroll_pending)
        page.scroll_pending = 0
    st.markdown(text)
    st.caption("Every number on this page comes from the live system with your current knobs.")
    back, forward = st.columns(2)
    if position > 0:
        back.button(f"← {titles[position - 1]}", on_click=go_to_step, args=(study, titles[position - 1]))
    if position < len(titles) - 1:
        forward.button(
            f"{titles[position + 1]} →",
            on_click=go_to_step,
            args=(study, titles[position + 1]),
            type="primary",
        )


def try_it(study: Study, config: dict, seed: int, data: Dataset | None) -> None:
    """Type an input and see what every stage of the live system makes of it."""
    probe = study.probe
    text = st.text_input(
        probe.label,
        value=probe.example,
        placeholder=probe.placeholder,
        key=Scope(study.id, "study", "try").key("input"),
        max_chars=200,
    )
    if not text.strip():
        st.caption("Type something to send it through the system.")
        return
    for index, (heading, output) in enumerate(study.implementation().probe(config, seed, data, text)):
        st.markdown(f"**{heading}**")
        if isinstance(output, str):
            st.markdown(output)  # built by the study from its own tokens: markdown-safe
        elif isinstance(output, dict):
            key = Scope(study.id, "study", "try").key(f"chart{index}")
            st.echarts_chart(output, height=420, key=key, alt=heading)
        else:
            st.dataframe(output)
    st.caption("Your knobs apply: move one and the same input goes through the changed system.")


def go_to_step(study: Study, title: str) -> None:
    st.session_state[link_key(study.id, "step")] = title
    page = study_page(study.id)
    page.step_moves += 1
    page.scroll_pending = page.step_moves


def scroll_to(anchor: str, nonce: int) -> None:
    """Bring a heading to the top of the view: the buttons that change step sit below a long text,
    so the new step would otherwise open scrolled to its end. The nonce makes each move's element
    new, so its script runs again."""
    st.html(
        f"<script>/* move {nonce} */ setTimeout(() => document.getElementById({anchor!r})"
        "?.scrollIntoView({block: 'start'}), 50)</script>",
        unsafe_allow_javascript=True,
    )


def compare(study: Study, data: Dataset | None) -> None:
    tried = runs.history(study)
    keys = list(tried)
    label = {k: f"#{i + 1}: {views.describe(study, tried[k].config)}" for i, k in enumerate(keys)}
    left, right = st.columns(2)
    # No keys: a new run changes the options, so B moves to the newest run.
    a = left.selectbox("Configuration A", keys, index=0, format_func=label.get)
    b = right.selectbox("Configuration B", keys, index=len(keys) - 1, format_func=label.get)
    comparable = runs.world(study, a) == runs.world(study, b)
    st.table(views.compare_table(study, tried[a], tried[b], comparable))
    if not comparable:
        st.caption(
            "A and B were measured in different worlds: every metric moves with the world, so no "
            "change is shown."
        )


study = pick_study()
st.title(study.question)
subtitle = st.empty()  # filled once the sidebar knows whose data this is
link_warning(study)
with st.sidebar:
    seed = seed_input(study)
    data = data_source(study)
subtitle.caption(study.summary if data is None else f"The same system on your data: {data.summary}.")
with st.sidebar:
    st.page_link(
        "app_pages/interview.py",
        label="Practise it in a mock interview",
        icon=":material/record_voice_over:",
        query_params={"study": study.id},
    )
study_body(study, int(seed), data)
