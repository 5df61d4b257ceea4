"""Autosaving answer box: a <textarea> whose text reaches Python while the user types.

Built on Streamlit custom components v2 (st.components.v2.component, Streamlit 1.67).

* The text is sent with setStateValue("text", ...) 600 ms after the last keystroke,
  immediately on blur, and when the element unmounts. Every keystroke also writes a
  draft to sessionStorage, so an edit still inside the debounce window when the page is
  reloaded is restored and sent on the next mount.
* Python seeds the textarea (``value``) only when the DOM node is first mounted or the
  ``key`` changes; later reruns never overwrite what the user is typing.
* User text only ever goes through ``textarea.value`` / ``textContent`` (never innerHTML).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

_HTML = """
<div class="ab-root">
  <label class="ab-label" for="ab-textarea"></label>
  <div class="ab-frame"><textarea class="ab-textarea" id="ab-textarea"
       spellcheck="true" autocomplete="off"></textarea></div>
</div>
"""

# Values picked to match the native st.text_area of Streamlit 1.67 (measured in Chromium):
# label 14px / min-height 24px / margin 4px; frame 1px border, radius = base radius,
# secondary background; textarea 14px, line-height 1.4, padding 12px; focus = primary border.
_CSS = """
:host { display: block; }
.ab-root {
  display: flex; flex-direction: column; width: 100%;
  font-family: var(--st-font); color: var(--st-text-color);
}
.ab-label {
  display: flex; align-items: center; min-height: 1.5rem; margin-bottom: 0.25rem;
  font-size: 0.875rem; line-height: 1.6; color: var(--st-text-color);
  overflow-wrap: anywhere; white-space: pre-wrap;
}
.ab-frame {
  box-sizing: border-box; width: 100%;
  background-color: var(--st-secondary-background-color);
  border: 1px solid var(--st-border-color);
  border-radius: var(--st-base-radius);
  transition: border-color 200ms;
}
.ab-frame:focus-within { border-color: var(--st-primary-color); }
.ab-textarea {
  display: block; box-sizing: border-box; width: 100%; min-height: 66px;
  margin: 0; padding: 0.75rem; border: none; outline: none; background: transparent;
  resize: vertical; font-family: var(--st-font); font-size: 0.875rem; line-height: 1.4;
  color: var(--st-text-color); caret-color: var(--st-text-color);
}
"""

_JS = """
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const ta = parentElement.querySelector("textarea");
  const label = parentElement.querySelector("label");
  if (!ta || !label) return;

  // State that must survive re-invocations of this function (the frontend calls it
  // again whenever `data` changes) lives on the DOM node, not in this closure.
  const s = ta.__answerBox || (ta.__answerBox = { timer: null, lastSent: null, seededKey: null, send: null });
  s.send = setStateValue;                       // always use the newest callback
  s.calls = (s.calls || 0) + 1;                 // invocation counter (debug/tests)

  label.textContent = data.label;               // text, never HTML
  ta.setAttribute("aria-label", data.label);
  ta.style.height = data.textarea_height + "px";

  // Draft in sessionStorage (per tab, survives reload) covers the debounce window:
  // setStateValue is batched with setTimeout by Streamlit, so nothing sent from
  // pagehide/beforeunload ever reaches the server.
  const draftKey = "answer_box:" + location.pathname + ":" + data.key;
  const readDraft = () => {
    try { return JSON.parse(sessionStorage.getItem(draftKey)); } catch (e) { return null; }
  };
  const writeDraft = () => {
    const draft = JSON.stringify({ text: ta.value, base: s.lastSent });
    try { sessionStorage.setItem(draftKey, draft); } catch (e) {}
  };
  const dropDraft = () => { try { sessionStorage.removeItem(draftKey); } catch (e) {} };

  const flush = () => {
    clearTimeout(s.timer); s.timer = null;
    if (ta.value !== s.lastSent) {
      s.lastSent = ta.value;
      s.send("text", ta.value);
    }
  };

  const pythonText = data.value == null ? "" : String(data.value);
  if (s.seededKey !== data.key) {               // first mount of this node, or new key
    clearTimeout(s.timer); s.timer = null;
    s.seededKey = data.key;
    s.lastSent = pythonText;                    // Python already has this text
    const draft = readDraft();
    if (draft && draft.base === pythonText && typeof draft.text === "string" && draft.text !== pythonText) {
      ta.value = draft.text;                    // unsent edit from before a reload: restore + send
      s.timer = setTimeout(flush, 0);
    } else {
      ta.value = pythonText;
      dropDraft();
    }
  } else if (pythonText === ta.value) {
    dropDraft();                                // Python has echoed the current text back
  }

  const onInput = (ev) => {
    if (ev && ev.isComposing) return;           // wait for compositionend (IME)
    writeDraft();
    clearTimeout(s.timer);
    s.timer = setTimeout(flush, data.debounce_ms);
  };
  ta.addEventListener("input", onInput);
  ta.addEventListener("compositionend", onInput);
  ta.addEventListener("blur", flush);

  return () => {
    ta.removeEventListener("input", onInput);
    ta.removeEventListener("compositionend", onInput);
    ta.removeEventListener("blur", flush);
    // Re-invocation (data changed): keep the pending timer, it calls s.send.
    // Real unmount (node detached, e.g. page switch): send what is pending now.
    if (!ta.isConnected) flush();
  };
}
"""

_answer_box_component = st.components.v2.component(
    "autosave_answer_box", html=_HTML, css=_CSS, js=_JS, isolate_styles=True
)

_LABEL_HEIGHT = 28  # label min-height 24px + 4px margin, like st.text_area
_FRAME_BORDER = 2  # 1px top + 1px bottom border around the textarea


def _seen_key(key: str) -> str:
    return f"_answer_box_seen::{key}"


def _text_of(state: Any) -> str | None:
    if isinstance(state, Mapping) and isinstance(state.get("text"), str):
        return state["text"]
    return None


def answer_box(
    label: str,
    *,
    key: str,
    value: str,
    height: int = 160,
    on_change: Callable[[], Any] | None = None,
    debounce_ms: int = 600,
) -> str:
    """Render the autosaving text box and return its current text.

    ``value`` seeds the box (e.g. the text loaded from the database) when the key is
    first shown in this session; afterwards the browser's text wins. ``height`` is the
    total height in pixels including the label, like ``st.text_area(height=...)``.

    ``on_change()`` runs exactly once per new text. Normally it runs as a widget
    callback, before the script body. If a new text reaches Python without the
    callback firing (first run of a new session after a server restart, when the
    browser resends its widget state; or a test setting
    ``st.session_state[key]["text"]``), it runs inline right after the box is drawn,
    so it must not set the state of widgets drawn above it. Read the new text with
    ``st.session_state[key]["text"]``.
    """
    seen = _seen_key(key)

    def _callback() -> None:
        st.session_state[seen] = _text_of(st.session_state.get(key))
        if on_change is not None:
            on_change()

    # Text Python already knows for this key; used only to seed a *new* DOM node
    # (first mount, key change, or after navigating away and back).
    current = _text_of(st.session_state.get(key))
    if current is None:
        current = value

    result = _answer_box_component(
        key=key,
        data={
            "key": key,
            "label": label,
            "value": current,
            "textarea_height": max(int(height) - _LABEL_HEIGHT - _FRAME_BORDER, 66),
            "debounce_ms": int(debounce_ms),
        },
        default={"text": value},
        on_text_change=_callback,
        height="content",
    )
    text = result.get("text")
    if not isinstance(text, str):
        text = value

    # Safety net for changes that arrived without the callback (see docstring).
    if seen not in st.session_state:
        st.session_state[seen] = value
    if text != st.session_state[seen]:
        st.session_state[seen] = text
        if on_change is not None:
            on_change()
    return text
