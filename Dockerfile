# wordspace: the similarity service, nginx in front of gunicorn (`wordspace serve --proxy`)
# under tini as PID 1, serving the catalog at /data/indexes on port 8000 (nginx).
#
#   docker build -t wordspace .                          # serving image (no TensorFlow)
#   docker build -t wordspace:train --build-arg EXTRAS=train \
#     --build-arg APT_PACKAGES="wordnet-base dict-gcide" .  # can also build the default spaces
#   docker run -p 8000:8000 -v "$PWD/indexes:/data/indexes:ro" wordspace        # serve a catalog
#   docker run -p 8000:8000 -v wordspace-data:/data/indexes wordspace:train build  # build, then serve
#   docker run -p 8000:8000 -v wordspace-data:/data/indexes wordspace build --spaces glove
#
# Paths go through the venv (/opt/venv/bin), never through the base image's Python, which
# lives in /usr/local/bin on the official image and /usr/bin on a Debian one.
ARG BASE=python:3.11-slim

FROM ${BASE} AS builder
# Which pinned set to install (requirements/*.txt, made by `make lock`): "" serves only,
# "train" can also build spaces (TensorFlow, the GloVe package and pyarrow).
ARG EXTRAS=""
# Use the system's CA bundle, so a CA lent to the build (or added to the base) is trusted.
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/venv
WORKDIR /src
# Dependencies first, from the lock alone, so a code change reuses this layer: every version
# pinned and every file checked against its hash, so two builds install the same bytes.
COPY requirements/ requirements/
RUN /opt/venv/bin/pip install --require-hashes --no-deps -r "requirements/${EXTRAS:-serve}.txt"
COPY pyproject.toml README.md openapi.yaml ./
COPY service/ service/
COPY data/clickbait/ data/clickbait/
RUN /opt/venv/bin/pip install --no-deps . \
 && /opt/venv/bin/python -c "import service.web.contract as c; assert c.OPENAPI.is_file(), c.OPENAPI" \
 && /opt/venv/bin/pip uninstall -y -q pip setuptools

FROM ${BASE}
# More Debian packages for the final image, e.g. "wordnet-base dict-gcide" for the word2vec
# corpus. nginx buffers requests in front of gunicorn; tini is PID 1: it reaps orphans and
# passes signals to the supervisor, which starts and stops nginx and gunicorn.
ARG APT_PACKAGES=""
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx tini $APT_PACKAGES \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 wordspace \
 && useradd --system --uid 10001 --gid wordspace --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin wordspace \
 && mkdir -p /data/indexes && chown wordspace:wordspace /data/indexes
COPY --from=builder /opt/venv /opt/venv
COPY deploy/entrypoint.sh /usr/local/bin/wordspace-entrypoint
# /tmp is the only writable place besides the catalog (the root may be read-only): the proxy's
# runtime folder (nginx's config, pid, logs and temp files, gunicorn's socket) and
# prometheus-client's files go there, matplotlib's cache to $MPLCONFIGDIR.
# PATH is spelled out: a base image made with debootstrap sets none, and nginx is in /usr/sbin.
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    XDG_RUNTIME_DIR=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib \
    WORDSPACE_CATALOG=/data/indexes \
    WORDSPACE_CACHE=/tmp/catalog-cache \
    WORDSPACE_HOST=0.0.0.0 \
    WORDSPACE_PORT=8000 \
    OPENBLAS_NUM_THREADS=1
# One BLAS thread per process: gunicorn's workers and threads already use the cores, each extra
# BLAS thread costs a worker its own buffers (about 21 MiB after an alignment), and a replica's
# answers then do not depend on how many cores its node has (docs/operations.md, "Memory per
# worker").
# Mount a catalog here (read-only is fine to serve), or a writable volume for `build`.
VOLUME /data/indexes
USER 10001:10001
EXPOSE 8000
# Liveness only, through nginx (it listens on WORDSPACE_PORT): /readyz says whether the
# spaces are loaded.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["/opt/venv/bin/python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('WORDSPACE_PORT', '8000'), timeout=4)"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/wordspace-entrypoint"]
CMD ["serve"]
