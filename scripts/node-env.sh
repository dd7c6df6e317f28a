#!/usr/bin/env bash
# Sourced by every project script: puts the pinned Node.js runtime first on PATH.
# The runtime is the official Node.js build that the npm registry carries as a package
# (node-<os>-<arch>@<version>), unpacked once under .cache/node/. The machine's own Node (any
# version that runs npm) is used only to fetch it.
#   KA_NODE=system   use whatever `node` is on PATH instead (at your own risk: engines say >=24)
KA_NODE_VERSION=24.22.3
if [ "${KA_NODE:-}" != system ]; then
  _ka_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  case "$(uname -s)" in Linux) _ka_os=linux ;; Darwin) _ka_os=darwin ;; *) _ka_os=unsupported ;; esac
  case "$(uname -m)" in x86_64 | amd64) _ka_arch=x64 ;; aarch64 | arm64) _ka_arch=arm64 ;; *) _ka_arch=unsupported ;; esac
  _ka_dir="$_ka_root/.cache/node/$KA_NODE_VERSION-$_ka_os-$_ka_arch"
  if [ ! -x "$_ka_dir/bin/node" ]; then
    if [ "$_ka_os" = unsupported ] || [ "$_ka_arch" = unsupported ]; then
      echo "node-env: no pinned Node.js for $(uname -s)/$(uname -m); install Node $KA_NODE_VERSION and set KA_NODE=system" >&2
      return 1 2>/dev/null || exit 1
    fi
    echo "node-env: fetching Node.js $KA_NODE_VERSION (npm package node-$_ka_os-$_ka_arch) into .cache/node/" >&2
    _ka_tmp="$(mktemp -d)"
    (cd "$_ka_tmp" && npm pack --silent "node-$_ka_os-$_ka_arch@$KA_NODE_VERSION" >/dev/null &&
      tar xzf ./*.tgz && mkdir -p "$(dirname "$_ka_dir")" && rm -rf "$_ka_dir" &&
      mv package "$_ka_dir") || {
      rm -rf "$_ka_tmp"
      echo "node-env: could not fetch node-$_ka_os-$_ka_arch@$KA_NODE_VERSION from the npm registry" >&2
      return 1 2>/dev/null || exit 1
    }
    rm -rf "$_ka_tmp"
  fi
  export PATH="$_ka_dir/bin:$PATH"
  unset _ka_root _ka_os _ka_arch _ka_dir _ka_tmp
fi
