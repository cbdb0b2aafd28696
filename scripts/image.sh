#!/usr/bin/env bash
# The container image, built and run without a Docker engine or a registry (buildah, chroot).
#
#   scripts/image.sh base       a stand-in for python:3.11-slim-bookworm: debootstrap'd Debian
#                               bookworm (minbase + python3 3.11 + venv), committed as
#                               $BASE_IMAGE (first run only; a few minutes)
#   scripts/image.sh build      buildah bud of the Dockerfile on that base -> $IMAGE; prints size
#   scripts/image.sh run-ro     runs `scrubber scrub`, `serve`, `run` and `gateway` (+ the HEALTHCHECK
#                               command, in each mode) from the image's root filesystem mounted
#                               READ-ONLY, as uid 10001, /tmp and /var/lib/scrubber on tmpfs
#   scripts/image.sh size       the image's size
#   scripts/image.sh all        base + build + run-ro
#
# Why a stand-in base: registries other than the package registries cannot be reached here, so
# `FROM python:3.11-slim-bookworm@sha256:...` cannot be pulled. The Dockerfile takes the base as
# a build argument (PYTHON_IMAGE); this script passes the local stand-in and `--pull=never`.
# The stand-in has Debian's python3 (3.11.2) at /usr/bin instead of python.org's 3.11 at
# /usr/local/bin; everything else the Dockerfile does is the same on both.
#
# Environment: SCRUBBER_CACHE (~/.cache/scrubber), BASE_IMAGE (localhost/scrubber-base:bookworm),
# IMAGE (localhost/scrubber:dev), DEBIAN_MIRROR (http://deb.debian.org/debian).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${SCRUBBER_CACHE:-${HOME:?}/.cache/scrubber}"
readonly REPO_ROOT CACHE ROOTFS="${CACHE}/image-base/rootfs" UID_GID="10001:10001"
readonly BASE_IMAGE="${BASE_IMAGE:-localhost/scrubber-base:bookworm}" IMAGE="${IMAGE:-localhost/scrubber:dev}"
readonly MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}" SERVE_PORT="${IMAGE_SERVE_PORT:-18080}"

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*" && exit 1; }

ensure_tools() {
  local missing=()
  command -v buildah >/dev/null || missing+=(buildah)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  ((${#missing[@]} == 0)) && return 0
  ((EUID == 0)) || die "install ${missing[*]} (sudo apt-get install -y ${missing[*]})"
  log "installing ${missing[*]} (Debian)"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

image_exists() { buildah inspect --type image "$1" >/dev/null 2>&1; }

cmd_base() {
  ensure_tools
  if image_exists "$BASE_IMAGE"; then
    log "base ${BASE_IMAGE} exists"
    return 0
  fi
  if [[ ! -x "${ROOTFS}/usr/bin/python3" ]]; then
    log "debootstrap bookworm (minbase + python3) into ${ROOTFS}"
    rm -rf "$ROOTFS"
    mkdir -p "$ROOTFS"
    debootstrap --variant=minbase --include=python3,python3-venv,python-is-python3,ca-certificates \
      bookworm "$ROOTFS" "$MIRROR" >"${CACHE}/image-base/debootstrap.log" 2>&1 ||
      die "debootstrap failed (log: ${CACHE}/image-base/debootstrap.log)"
    # What the slim images leave out too: apt lists, docs, man pages, locales.
    rm -rf "${ROOTFS}"/var/lib/apt/lists/* "${ROOTFS}"/var/cache/apt/*.bin \
      "${ROOTFS}"/usr/share/{doc,man,info,locale}/*
  fi
  local ctr mnt
  ctr="$(buildah from scratch)"
  mnt="$(buildah mount "$ctr")"
  cp -a "${ROOTFS}/." "${mnt}/"
  buildah umount "$ctr" >/dev/null
  buildah config --env PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env LANG=C.UTF-8 \
    --cmd python3 --label org.opencontainers.image.description="stand-in for python:3.11-slim-bookworm" \
    "$ctr"
  buildah commit --quiet --rm "$ctr" "$BASE_IMAGE" >/dev/null
  log "committed ${BASE_IMAGE}"
}

cmd_build() {
  ensure_tools
  image_exists "$BASE_IMAGE" || cmd_base
  log "building ${IMAGE} from the Dockerfile on ${BASE_IMAGE}"
  local started=$SECONDS secret=()
  # Behind a TLS-intercepting proxy pip needs its CA: handed in as a build secret, so it never
  # becomes part of an image layer (the Dockerfile's RUN --mount=type=secret,id=pip_cert).
  local ca="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"
  [[ -s "$ca" ]] && secret=(--secret "id=pip_cert,src=${ca}")
  # --format docker: the OCI format has no HEALTHCHECK; chroot isolation: no daemon, no runc.
  buildah bud --isolation chroot --format docker --pull=never --layers=false "${secret[@]}" \
    --build-arg "PYTHON_IMAGE=${BASE_IMAGE}" \
    --build-arg "VCS_REF=$(git -C "$REPO_ROOT" rev-parse HEAD 2>/dev/null || echo unknown)" \
    --build-arg "BUILD_DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    -t "$IMAGE" "$REPO_ROOT" >&2
  log "built in $((SECONDS - started)) s"
  cmd_size
}

cmd_size() {
  local bytes
  bytes="$(buildah inspect --type image --format '{{.OCIv1.Config.User}}' "$IMAGE" >/dev/null &&
    buildah images --format '{{.Size}}' "$IMAGE" | head -n 1)"
  echo "${IMAGE}: ${bytes}"
}

# Runs "$@" inside the image's root filesystem: read-only, uid 10001, its own mount and PID
# namespaces (so "$@" is PID 1, as in a container) with /proc, /dev, and tmpfs on the two
# writable paths the image documents.
in_image_ro() {
  local mnt="$1"
  shift
  unshare --mount --pid --fork --kill-child -- bash -euc '
    root="$1"; shift; uid_gid="$1"; shift
    mount --rbind --make-rslave "$root" "$root"
    mount -o remount,bind,ro "$root"
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs -o mode=1777,size=64m tmpfs "$root/tmp"
    printf "%s\n" "kafka: {bootstrap_servers: \"127.0.0.1:1\"}" \
      "routes: [{name: ro-check, input: ro.in, output: ro.out}]" >"$root/tmp/run.yaml"
    od -An -tx1 -N32 /dev/urandom | tr -d " \n" >"$root/tmp/token.key"
    chmod 0644 "$root/tmp/token.key"
    printf "%s\n" "keys: {default: {file: /tmp/token.key}}" \
      "gateway: {upstream: \"http://127.0.0.1:1\"}" >"$root/tmp/gateway.yaml"
    mount -t tmpfs -o uid=10001,gid=10001,mode=0750,size=64m tmpfs "$root/var/lib/scrubber"
    exec chroot --userspec="$uid_gid" "$root" '"${RUNTIME_ENV[*]}"' "$@"
  ' _ "$mnt" "$UID_GID" "$@"
}

# The image's environment (ENV in the Dockerfile), for a process started inside it.
RUNTIME_ENV=(/usr/bin/env -i PATH=/opt/scrubber/bin:/usr/local/bin:/usr/bin:/bin HOME=/nonexistent
  PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1)

# Runs "$@" in the namespaces of process $1 (its PID 1 and its mounts), in the image's root.
in_namespaces_of() {
  local pid="$1" mnt="$2"
  shift 2
  nsenter --target "$pid" --mount --pid -- chroot --userspec="$UID_GID" "$mnt" "${RUNTIME_ENV[@]}" "$@"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Starts `scrubber "$@"` in the image (read-only, as PID 1 of its namespace), waits for /healthz
# on $port, runs the image's HEALTHCHECK command as Docker would (no arguments, inside the
# container's namespaces), then stops it with SIGTERM, as a container runtime does.
check_mode() {
  local mnt="$1" port="$2" status=0 pid="" deadline=$((SECONDS + 120))
  shift 2
  port_free "$port" || die "port ${port} is taken: set IMAGE_SERVE_PORT to a free one"
  in_image_ro "$mnt" scrubber "$@" &
  local job=$!
  until [[ -n "$pid" ]] && curl -fsS "http://127.0.0.1:${port}/healthz" >/dev/null 2>&1; do
    # job (a subshell) -> unshare -> scrubber, PID 1 inside
    [[ -n "$pid" ]] || pid="$(pgrep -P "$(pgrep -P "$job" | head -n 1)" | head -n 1)" || true
    if ((SECONDS >= deadline)) || ! kill -0 "$job" 2>/dev/null; then
      status=1
      break
    fi
    sleep 1
  done
  if ((status == 0)) && [[ "$1" == serve ]]; then
    curl -fsS -X POST "http://127.0.0.1:${port}/v1/scrub" -H 'content-type: application/json' \
      -d '{"text":"mail maria.garcia@example.com from 203.0.113.42"}' >&2 || status=1
    echo >&2
  fi
  if ((status == 0)); then
    in_namespaces_of "$pid" "$mnt" scrubber-healthcheck || status=1
    ((status == 0)) && log "HEALTHCHECK of '$1' (read from PID 1's command line): healthy"
  fi
  [[ -z "$pid" ]] || kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 40))
  while kill -0 "$job" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
  [[ -z "$pid" ]] || kill -KILL "$pid" 2>/dev/null || true
  wait "$job" 2>/dev/null || true
  return "$status"
}

cmd_run_ro() {
  image_exists "$IMAGE" || die "no ${IMAGE}; run 'scripts/image.sh build' first"
  local mnt status=0
  RUN_CTR="$(buildah from --pull=never "$IMAGE")"
  mnt="$(buildah mount "$RUN_CTR")"
  trap 'buildah umount "$RUN_CTR" >/dev/null 2>&1; buildah rm "$RUN_CTR" >/dev/null 2>&1' EXIT
  log "rootfs ${mnt}: read-only, uid ${UID_GID}"
  log "1/5 a write to / must fail"
  if in_image_ro "$mnt" /bin/sh -c 'touch /probe' 2>/dev/null; then die "the root filesystem is writable"; fi
  log "2/5 scrubber scrub (samples/mixed.log on stdin)"
  in_image_ro "$mnt" scrubber --log-format console scrub <"${REPO_ROOT}/samples/mixed.log" ||
    status=1
  log "3/5 scrubber serve on 127.0.0.1:${SERVE_PORT}: /v1/scrub, then the HEALTHCHECK"
  check_mode "$mnt" "$SERVE_PORT" serve --host 127.0.0.1 --port "$SERVE_PORT" || status=1
  # No broker is needed for this: the worker's loop turns (and /healthz answers) while the
  # client retries a bootstrap address where nothing listens.
  log "4/5 scrubber run (metrics on :$((SERVE_PORT + 1)), no broker), then the HEALTHCHECK"
  check_mode "$mnt" "$((SERVE_PORT + 1))" run --config /tmp/run.yaml \
    --metrics-port "$((SERVE_PORT + 1))" || status=1
  # The upstream is not reached: /healthz and the HEALTHCHECK need only the gateway itself.
  log "5/5 scrubber gateway on 127.0.0.1:$((SERVE_PORT + 2)), then the HEALTHCHECK"
  check_mode "$mnt" "$((SERVE_PORT + 2))" gateway --config /tmp/gateway.yaml \
    --host 127.0.0.1 --port "$((SERVE_PORT + 2))" || status=1
  if in_image_ro "$mnt" scrubber-healthcheck run --metrics-port 1 2>/dev/null; then
    status=1
  else
    log "HEALTHCHECK of 'run' where nothing listens: unhealthy, as it must be"
  fi
  ((status == 0)) || die "a read-only run failed (output above)"
  log "read-only runs: ok"
}

main() {
  (($# == 1)) || {
    echo "usage: $0 base|build|run-ro|size|all" >&2
    exit 2
  }
  case "$1" in
    base) cmd_base ;;
    build) cmd_build ;;
    run-ro) cmd_run_ro ;;
    size) cmd_size ;;
    all) cmd_base && cmd_build && cmd_run_ro ;;
    *) exit 2 ;;
  esac
}

main "$@"
