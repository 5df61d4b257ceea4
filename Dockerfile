# MLSD Lab for a class: the app on a slim Python, as a non-root user, with Streamlit's health check.
# Build: docker build -t mlsd-lab .   Run one with PostgreSQL: docker compose up (see compose.yaml).
FROM python:3.11-slim

# Two malloc arenas: per-thread arenas kept freed memory a server could not reuse (engine/memo.py).
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 MALLOC_ARENA_MAX=2
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends curl libgomp1 \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 lab
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY --chown=lab:lab . .
USER lab

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8501/_stcore/health || exit 1
# Model endpoints started from the Production page listen on 127.0.0.1 inside the container.
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
