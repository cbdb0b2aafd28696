#!/usr/bin/env bash
# The tools `make chart-check` needs, installed once into a cache outside the repo, so that CI on
# a fresh machine (Go and Python, but no helm or promtool) gets them from the repo's own steps.
#
#   scripts/tools.sh install   build or install what is missing; print where each one is
#   scripts/tools.sh env       print HELM=... PSA=... PROMTOOL=... KUBERNETES_VALIDATE=... PIP_COMPILE=...
#
#   helm                 go install helm.sh/helm/v3/cmd/helm@HELM_VERSION   (~4-6 min cold on 2 cores)
#   psa                  go build scripts/psa (k8s.io/pod-security-admission; shares helm's k8s.io
#                        build cache, ~1 min cold)
#   kubernetes-validate  PyPI, in its own venv (it carries the Kubernetes OpenAPI schemas)
#   pip-compile          PyPI pip-tools, same venv (only `make lock` uses it)
#   promtool             Debian's `prometheus` package (apt-get update first)
#
# Cache: SCRUBBER_CACHE (~/.cache/scrubber): bin/ for the Go binaries, tools-venv/ for the
# Python ones. A binary is rebuilt when its pinned version changes (a stamp file per version).
set -euo pipefail

readonly HELM_VERSION="v3.22.0"
# The Kubernetes version of helm's client-go (v0.37): `helm template` and `helm lint` assume it
# when no cluster is asked (helm's own Makefile sets the same through -ldflags).
readonly HELM_K8S_MINOR="37"
readonly KUBERNETES_VALIDATE_VERSION="1.37.0"
readonly PIP_TOOLS_VERSION="7.6.2"

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*" && exit 1; }

PSA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/psa"
CACHE="${SCRUBBER_CACHE:-${HOME:?set HOME or SCRUBBER_CACHE}/.cache/scrubber}"
readonly PSA_DIR CACHE BIN="${CACHE}/bin" VENV="${CACHE}/tools-venv" PYTHON="${PYTHON:-python3}"

# The stamp names what was built from what: a changed pin or psa source rebuilds.
psa_stamp() { cat "${PSA_DIR}/go.mod" "${PSA_DIR}/go.sum" "${PSA_DIR}/main.go" | sha256sum | cut -c1-16; }

ensure_helm() {
  local stamp="${BIN}/.helm-${HELM_VERSION}-k8s1.${HELM_K8S_MINOR}"
  [[ -x "${BIN}/helm" && -f "$stamp" ]] && return 0
  command -v go >/dev/null || die "helm is built with Go: install Go 1.24+ first"
  log "building helm ${HELM_VERSION} with go install (first run only; minutes)"
  local started=$SECONDS
  local pkg="helm.sh/helm/v3" ldflags="-s -w"
  ldflags+=" -X ${pkg}/internal/version.version=${HELM_VERSION}"
  ldflags+=" -X ${pkg}/pkg/lint/rules.k8sVersionMajor=1 -X ${pkg}/pkg/lint/rules.k8sVersionMinor=${HELM_K8S_MINOR}"
  ldflags+=" -X ${pkg}/pkg/chartutil.k8sVersionMajor=1 -X ${pkg}/pkg/chartutil.k8sVersionMinor=${HELM_K8S_MINOR}"
  # Built outside the repo, so no go.mod of ours is involved; CGO off: a static binary.
  (cd / && CGO_ENABLED=0 GOBIN="$BIN" go install -trimpath -ldflags "$ldflags" "${pkg}/cmd/helm@${HELM_VERSION}") >&2
  rm -f "${BIN}"/.helm-* && touch "$stamp"
  log "helm built in $((SECONDS - started)) s"
}

ensure_psa() {
  local stamp
  stamp="${BIN}/.psa-$(psa_stamp)"
  [[ -x "${BIN}/psa" && -f "$stamp" ]] && return 0
  command -v go >/dev/null || die "psa is built with Go: install Go first"
  log "building scripts/psa (k8s.io/pod-security-admission)"
  local started=$SECONDS
  (cd "${PSA_DIR}" && CGO_ENABLED=0 go build -trimpath -mod=readonly -o "${BIN}/psa" .) >&2
  rm -f "${BIN}"/.psa-* && touch "$stamp"
  log "psa built in $((SECONDS - started)) s"
}

ensure_python_tools() {
  local stamp="${VENV}/.installed-${KUBERNETES_VALIDATE_VERSION}-${PIP_TOOLS_VERSION}"
  [[ -f "$stamp" ]] && return 0
  log "installing kubernetes-validate ${KUBERNETES_VALIDATE_VERSION} and pip-tools ${PIP_TOOLS_VERSION} into ${VENV}"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "${VENV}/bin/pip" install -q --disable-pip-version-check \
    "kubernetes-validate==${KUBERNETES_VALIDATE_VERSION}" "pip-tools==${PIP_TOOLS_VERSION}" >&2
  touch "$stamp"
}

ensure_promtool() {
  command -v promtool >/dev/null && return 0
  ((EUID == 0)) || die "promtool is missing: sudo apt-get update && sudo apt-get install -y prometheus"
  log "installing Debian's prometheus package (for promtool)"
  apt-get update -qq >&2
  # The package's service is not started: there is no init system in CI, and none is needed.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >&2
}

cmd_env() {
  printf 'HELM=%s\nPSA=%s\nPROMTOOL=%s\nKUBERNETES_VALIDATE=%s\nPIP_COMPILE=%s\n' \
    "${BIN}/helm" "${BIN}/psa" "$(command -v promtool || echo promtool)" \
    "${VENV}/bin/kubernetes-validate" "${VENV}/bin/pip-compile"
}

cmd_install() {
  mkdir -p "$BIN"
  local started=$SECONDS
  ensure_promtool
  ensure_python_tools
  ensure_helm
  ensure_psa
  log "tools ready in $((SECONDS - started)) s"
  cmd_env
}

case "${1:-}" in
  install) cmd_install ;;
  env) cmd_env ;;
  *)
    echo "usage: $0 install|env" >&2
    exit 2
    ;;
esac
