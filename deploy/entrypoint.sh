#!/bin/sh
# The container's entry point (under tini, PID 1): serve the catalog, or build the default
# spaces first.
#
#   serve (the default)  serve the spaces in $WORDSPACE_CATALOG with nginx in front of
#                        gunicorn (`wordspace serve --proxy`: nginx listens on
#                        $WORDSPACE_HOST:$WORDSPACE_PORT); the catalog may be mounted
#                        read-only, and is never written
#   build [OPTIONS]      `wordspace build OPTIONS` into the catalog, then serve. It builds the
#                        default spaces that are missing or out of date and skips the rest, so
#                        a restart serves at once. Needs a writable volume and an image built
#                        with EXTRAS=train (TensorFlow, the GloVe package): the serving image
#                        carries only what serving imports.
#   ANYTHING ELSE        run as a wordspace command: `build-index glove --from kumo`, `settings`
#
# Settings come from the WORDSPACE_* variables only (see `wordspace settings`).
set -eu

catalog=${WORDSPACE_CATALOG:-/data/indexes}

case "${1:-serve}" in
serve)
    exec wordspace serve --proxy
    ;;
build)
    shift
    if [ $# = 0 ] && ! python -c 'import importlib.util as u, sys; sys.exit(u.find_spec("tensorflow") is None)'; then
        echo "wordspace-entrypoint: building the default spaces needs TensorFlow and the GloVe" \
             "package, which this serving image lacks. Rebuild it with --build-arg EXTRAS=train," \
             "or mount a built catalog and serve." >&2
        exit 64
    fi
    # An s3:// catalog is built in a local copy (WORDSPACE_CACHE) and published to the bucket.
    if ! [ -w "$catalog" ] && [ "${catalog#s3://}" = "$catalog" ]; then
        echo "wordspace-entrypoint: cannot build into $catalog: not writable by uid $(id -u)." \
             "Mount a writable volume there (not :ro) to build." >&2
        exit 73
    fi
    wordspace build "$@"
    exec wordspace serve --proxy
    ;;
*)
    exec wordspace "$@"
    ;;
esac
