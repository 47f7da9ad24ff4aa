#!/usr/bin/env bash
# Installs the brokers that `npm run bench -- --vs nats|rabbitmq` compares
# Sluice with, pinned, from the registries. Idempotent: what is already at its
# pinned version is left alone. The bench itself installs nothing.
#
#   nats-server, nats (natscli)  go install, into <repo>/.tools/bin
#   rabbitmq-server              Debian package (needs root for apt-get)
#   nats, amqplib (Node clients) npm devDependencies of the repository (npm ci)
#
# Usage: bash bench/install-peers.sh [nats] [rabbitmq]   (default: both)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${SLUICE_TOOLS_BIN:-$repo/.tools/bin}"
NATS_SERVER_VERSION=v2.15.3
NATSCLI_VERSION=v0.5.1
RABBITMQ_DEB_VERSION=3.10.8

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(nats rabbitmq)

go_tool() { # name package version
  local name=$1 pkg=$2 version=$3 stamp="$bin/.$1.version"
  if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    echo "$name $version: already installed" >&2
    return
  fi
  echo "installing $name $version (go install)" >&2
  GOBIN="$bin" go install "$pkg@$version"
  echo "$version" >"$stamp"
}

for peer in "${want[@]}"; do
  case "$peer" in
    nats)
      command -v go >/dev/null || { echo "go is required to install nats-server and natscli" >&2; exit 1; }
      mkdir -p "$bin"
      [ -f "$repo/.tools/.gitignore" ] || echo '*' >"$repo/.tools/.gitignore"
      go_tool nats-server github.com/nats-io/nats-server/v2 "$NATS_SERVER_VERSION"
      go_tool nats github.com/nats-io/natscli/nats "$NATSCLI_VERSION"
      ;;
    rabbitmq)
      if dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null | grep -q "^$RABBITMQ_DEB_VERSION"; then
        echo "rabbitmq-server $RABBITMQ_DEB_VERSION: already installed" >&2
      else
        echo "installing rabbitmq-server $RABBITMQ_DEB_VERSION (apt-get)" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "rabbitmq-server=$RABBITMQ_DEB_VERSION*"
      fi
      # The bench starts its own instance on a temp dir; the packaged service is not needed.
      if command -v systemctl >/dev/null && systemctl is-active --quiet rabbitmq-server 2>/dev/null; then
        systemctl stop rabbitmq-server || true
      fi
      service rabbitmq-server stop >/dev/null 2>&1 || true
      ;;
    *)
      echo "unknown peer: $peer (nats or rabbitmq)" >&2
      exit 2
      ;;
  esac
done
# The Node clients (nats, amqplib) are pinned devDependencies of the repository.
if [ ! -d "$repo/node_modules/nats" ] || [ ! -d "$repo/node_modules/amqplib" ]; then
  echo "the Node peer clients are missing: run 'npm install' (or 'npm ci') in $repo" >&2
fi
