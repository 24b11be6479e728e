#!/usr/bin/env bash
# The HTTP server of the benchmarks, on 127.0.0.1:PORT (first argument), chosen by SERVER:
#   granian (default): WSGI, WORKERS processes x THREADS blocking threads (default 2 x 4),
#                      as in docs/deployment.md (docs/adr/0005);
#   gunicorn:          WSGI, gthread worker, WORKERS processes x THREADS threads (the set-up
#                      before ADR 0005; 3 x 2 there);
#   uvicorn:            INTERFACE=asgi (default) or wsgi, WORKERS processes.
# Replaces itself with the server (exec), so the caller's $! is the server's process.
set -euo pipefail
port=$1
WORKERS=${WORKERS:-2}
THREADS=${THREADS:-4}
case "${SERVER:-granian}" in
  gunicorn)
    exec .venv/bin/gunicorn config.wsgi:application --bind "127.0.0.1:$port" --worker-class gthread \
      --workers "$WORKERS" --threads "$THREADS" --log-level warning ;;
  granian)
    exec .venv/bin/granian --interface wsgi config.wsgi:application --host 127.0.0.1 --port "$port" \
      --workers "$WORKERS" --blocking-threads "$THREADS" --no-access-log --log-level warning ;;
  uvicorn)
    if [ "${INTERFACE:-asgi}" = wsgi ]; then app=config.wsgi:application interface=wsgi
    else app=config.asgi:application interface=asgi3; fi
    exec .venv/bin/uvicorn "$app" --interface "$interface" --host 127.0.0.1 --port "$port" \
      --workers "$WORKERS" --log-level warning --no-access-log ;;
  *) echo "SERVER must be gunicorn, granian or uvicorn, not '$SERVER'" >&2; exit 2 ;;
esac
