# syntax=docker/dockerfile:1
#
# Watchfloor worker image. Not needed for the README's run command (no Docker there);
# docker-compose.yml uses it for the full stack.
#
#   docker build -t watchfloor .
#   docker run --rm -e WATCHFLOOR_KAFKA_BOOTSTRAP=broker:9092 -p 6066:6066 watchfloor
#   docker run --rm watchfloor --help

# --- builder: a wheel of the project and of every dependency ----------------------------
FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY streams ./streams
RUN pip wheel --wheel-dir /wheels .

# --- runtime: the installed wheel, run by a non-root user -------------------------------
FROM python:3.11-slim AS runtime

# Serve /metrics on every interface: 127.0.0.1 is unreachable from outside a container.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WATCHFLOOR_WEB_HOST=0.0.0.0 \
    WATCHFLOOR_WEB_PORT=6066

RUN groupadd --system --gid 10001 watchfloor \
 && useradd --system --uid 10001 --gid watchfloor --no-log-init \
        --home-dir /var/lib/watchfloor --create-home --shell /usr/sbin/nologin watchfloor

RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels watchfloor

# Faust keeps its data folder (<app id>-data) in the working directory.
WORKDIR /var/lib/watchfloor
USER 10001:10001

EXPOSE 6066
ENTRYPOINT ["watchfloor"]
CMD ["worker"]
