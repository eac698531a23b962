# The voxeval leaderboard (Streamlit) serving the results/ folder baked into the image.
# Build, run, stop and the risks of listening on 0.0.0.0: docs/deploy.md.
#   docker build -t voxeval-leaderboard . && docker run --rm -p 127.0.0.1:8501:8501 voxeval-leaderboard
FROM python:3.11-slim-bookworm

# tini is PID 1: it forwards SIGTERM/SIGINT (docker stop, Ctrl-C) to the server and reaps
# zombies. A process that is PID 1 gets no signal it has not installed a handler for, and
# Streamlit installs its SIGTERM handler only after several seconds of imports.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*

# uid 1000, never root: the user Hugging Face Docker Spaces run as, with a writable home for
# the leaderboard's index cache (results/ itself stays read-only).
RUN useradd --create-home --uid 1000 user
ENV HOME=/home/user \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    HF_HUB_OFFLINE=1 \
    VOXEVAL_CACHE_DIR=/home/user/.cache/voxeval \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

# voxeval with only what the leaderboard needs (the [leaderboard] extra: streamlit, pandas,
# pyarrow); no torch, no ASR models. The source is removed once installed.
COPY pyproject.toml README.md /src/
COPY harness/ /src/harness/
COPY adapters/ /src/adapters/
COPY tasks/ /src/tasks/
COPY leaderboard/ /src/leaderboard/
RUN pip install "/src[leaderboard]" && rm -rf /src

WORKDIR /app
COPY results/ /app/results/

USER user
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# `voxeval leaderboard` execs Streamlit: one process under tini, which SIGTERM stops.
CMD ["voxeval", "leaderboard", "--host", "0.0.0.0", "--port", "8501", "--results-dir", "/app/results"]
