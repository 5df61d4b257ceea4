"""The lab's database (interview attempts and the model registry) behind `st.connection("sql")`.

Where it lives, first match wins: the `MLSD_LAB_DB` environment variable (a SQLAlchemy URL; the tests
use it), `[connections.sql]` in `.streamlit/secrets.toml` (PostgreSQL for a class, say), else a SQLite
file in `data/` next to the app."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from engine.interview.store import Store
from engine.serving.registry import Registry

DEFAULT_FILE = Path(__file__).parents[1] / "data" / "mlsd_lab.db"


def _configured_in_secrets() -> bool:
    try:
        return "sql" in st.secrets.get("connections", {})
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return False


def _engine():
    url = os.environ.get("MLSD_LAB_DB")
    if url is None and not _configured_in_secrets():
        DEFAULT_FILE.parent.mkdir(exist_ok=True)
        url = f"sqlite:///{DEFAULT_FILE}"
    return (st.connection("sql", url=url) if url else st.connection("sql")).engine


def store() -> Store:
    """The signed-in person's attempts and plan (everyone's, as one user, without sign-in)."""
    engine = _engine()
    return _store(str(engine.url), current_owner(), engine)


def sign_in_configured() -> bool:
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return False


def current_owner() -> str:
    """Who owns what this session reads and writes: with `[auth]` in secrets.toml (OpenID Connect,
    see the README) the signed-in person's email, asking them to sign in first; without it ''."""
    if not sign_in_configured():
        return ""
    if not st.user.is_logged_in:
        st.info("Sign in to keep your interviews and progress as your own.", icon=":material/login:")
        st.button("Sign in", on_click=st.login, icon=":material/login:")
        st.stop()
    return str(st.user.get("email") or st.user.get("sub"))


def registry() -> Registry:
    engine = _engine()
    return _registry(str(engine.url), engine)


def url() -> str:
    """The database URL with its password, for the endpoint processes the app starts."""
    return _engine().url.render_as_string(hide_password=False)


@st.cache_resource(show_spinner=False, max_entries=256)
def _store(url: str, owner: str, _engine) -> Store:
    """One Store per database and person; the first creates or migrates the schema."""
    return Store(_engine, owner)


@st.cache_resource(show_spinner=False)
def _registry(url: str, _engine) -> Registry:
    return Registry(_engine)
