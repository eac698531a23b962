"""Sample browser: audio (when it can be found), reference, every model's prediction,
per-sample scores and the judge's rationale."""

from __future__ import annotations

import streamlit as st

from voxeval.leaderboard import samples, views

st.title("Sample browser")
view = views.current_view()
views.banner(view)
if not views.empty_note(view):
    tidy = view.tidy
    task = views.url_choice("Task", sorted(tidy["task"].unique()), "task")
    have = sorted(tidy.loc[tidy["task"] == task, "model"].unique())
    chosen = views.url_multi("Models", have, "models", have[:3], what="model")
    rows = tidy[(tidy["task"] == task) & tidy["model"].isin(chosen)]
    table = views.task_samples(str(view.root), rows, task, tuple(chosen))
    if table.empty:
        st.info("No per-sample records found for these models on this task.")
    else:
        ids = list(dict.fromkeys(table["sample_id"]))
        sample = views.url_choice("Sample", ids, "sample", what="sample id")
        one = table[table["sample_id"] == sample]
        source = rows["dataset_source"].dropna()
        audio = samples.resolve_audio(task, source.iloc[0] if len(source) else None, sample)
        if audio is not None:
            st.audio(audio.read_bytes(), format=f"audio/{audio.suffix.lstrip('.') or 'wav'}")
        else:
            st.caption(
                "No audio: samples files hold none, and this task's data is not on "
                "this machine (demo-asr clips are found in the bundled set)."
            )
        st.subheader("Reference")
        st.text(one["reference"].iloc[0] or "—")
        st.subheader("Predictions")
        predictions = one.drop(columns=["sample_id", "reference"]).dropna(axis=1, how="all")
        views.table(predictions)
        views.downloads(one, f"{task}-{sample}")
        for number, (_, row) in enumerate(one.iterrows(), 1):
            rationale = row.get("judge rationale")
            if isinstance(rationale, str) and rationale:
                with st.expander(f"Judge rationale {number}"):
                    st.text(f"{row['model']}\n\n{rationale}")
        st.subheader("All samples")
        if "wer (%)" in table:
            st.caption("Per-sample WER/CER: jiwer after the run's text normaliser, in %.")
        table = views.sort_controls(table, "", "sample_id")
        views.table(table)
        views.downloads(table, f"{task}-samples")
