#!/usr/bin/env bash
# Installs the pinned Go-built tools that generation and the interop suite use
# into one known folder, <repo>/.tools/bin (or $SLUICE_TOOLS_BIN). Idempotent:
# a tool already at its pinned version is not rebuilt.
#
#   protoc-gen-go, protoc-gen-go-grpc  local buf plugins for clients/go/buf.gen.yaml
#   grpcurl, grpc-health-probe         standard gRPC tooling checked by test/interop
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${SLUICE_TOOLS_BIN:-$repo/.tools/bin}"
mkdir -p "$bin"
# The folder ignores itself, so nothing built here can be committed by accident.
[ -f "$repo/.tools/.gitignore" ] || { mkdir -p "$repo/.tools" && echo '*' > "$repo/.tools/.gitignore"; }

tools=(
  "protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go v1.36.12"
  "protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc v1.6.2"
  "grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl v1.9.4"
  "grpc-health-probe github.com/grpc-ecosystem/grpc-health-probe v0.4.62"
)

for entry in "${tools[@]}"; do
  read -r name pkg version <<<"$entry"
  stamp="$bin/.$name.version"
  if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    continue
  fi
  echo "installing $name $version" >&2
  GOBIN="$bin" go install "$pkg@$version"
  echo "$version" > "$stamp"
done
