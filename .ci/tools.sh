# shellcheck shell=bash
# Sourced by .ci/start and .ci/test: installs whatever this machine is missing, each step only if
# needed, and leaves PATH and the build environment exported (see .ci/env.sh).
# Every step prints one line saying what it found or does; any failure stops the caller.
#
# GUILDHALL_TOOLS_ONLY="step step ..." runs only the named steps (rust, cargo_leptos, wasm_bindgen,
# cargo_deny, npm_tools, chromium, end2end, postgres).

set -euo pipefail

# shellcheck source=.ci/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

CARGO_LEPTOS_VERSION=0.3.10
# The newest cargo-deny, which installs with --locked on Rust 1.95 (pinned so every machine checks alike).
CARGO_DENY_VERSION=0.20.2
WASM_BINDGEN_FALLBACK_VERSION=0.2.130
# The newest webpki-roots that crates.io serves here; wasm-bindgen-cli 0.2.130's own lock wants 1.0.11.
WEBPKI_ROOTS_PRECISE=1.0.10

gh_say() { printf '[tools] %s\n' "$*"; }
gh_die() {
  printf '[tools] ERROR: %s\n' "$*" >&2
  exit 1
}

# Installs run without our CARGO_TARGET_DIR, so their build trees go to a temporary folder that
# cargo removes afterwards instead of piling up in the project's target directory.
gh_cargo_install() { env -u CARGO_TARGET_DIR -u RUSTFLAGS cargo install "$@"; }

gh_tools_rust() {
  command -v cargo >/dev/null || gh_die "cargo is not on PATH (this machine kind ships Rust via rustup)"
  command -v rustup >/dev/null || gh_die "rustup is not on PATH"
  if rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    gh_say "rust: wasm32-unknown-unknown target present"
  else
    gh_say "rust: adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  local missing=()
  rustup component list --installed | grep -q '^rustfmt' || missing+=(rustfmt)
  rustup component list --installed | grep -q '^clippy' || missing+=(clippy)
  if ((${#missing[@]})); then
    gh_say "rust: adding components ${missing[*]}"
    rustup component add "${missing[@]}"
  else
    gh_say "rust: rustfmt and clippy present"
  fi
}

gh_cargo_leptos_version() { cargo leptos --version 2>/dev/null | awk '{print $2}' || true; }

gh_tools_cargo_leptos() {
  local have
  have="$(gh_cargo_leptos_version)"
  if [[ "$have" == "$CARGO_LEPTOS_VERSION" ]]; then
    gh_say "cargo-leptos $have present"
    return
  fi
  # Someone (a setup script, another shell) may already be installing it: wait instead of racing.
  if pgrep -f "cargo install cargo-leptos" >/dev/null 2>&1; then
    gh_say "cargo-leptos: another 'cargo install cargo-leptos' is running; waiting for it to finish"
    while pgrep -f "cargo install cargo-leptos" >/dev/null 2>&1; do sleep 10; done
    have="$(gh_cargo_leptos_version)"
    if [[ "$have" == "$CARGO_LEPTOS_VERSION" ]]; then
      gh_say "cargo-leptos $have present (installed by the other process)"
      return
    fi
  fi
  gh_say "cargo-leptos: installing $CARGO_LEPTOS_VERSION (found '${have:-none}'; about 15 minutes on 2 cores, once per machine)"
  gh_cargo_install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
  have="$(gh_cargo_leptos_version)"
  [[ "$have" == "$CARGO_LEPTOS_VERSION" ]] || gh_die "cargo-leptos reports '$have' after installing $CARGO_LEPTOS_VERSION"
}

gh_tools_cargo_deny() {
  local have
  have="$(cargo deny --version 2>/dev/null | awk '{print $2}' || true)"
  if [[ "$have" == "$CARGO_DENY_VERSION" ]]; then
    gh_say "cargo-deny $have present"
    return
  fi
  gh_say "cargo-deny: installing $CARGO_DENY_VERSION (found '${have:-none}'; a few minutes, once per machine)"
  gh_cargo_install cargo-deny --version "$CARGO_DENY_VERSION" --locked
  have="$(cargo deny --version 2>/dev/null | awk '{print $2}' || true)"
  [[ "$have" == "$CARGO_DENY_VERSION" ]] || gh_die "cargo-deny reports '$have' after installing $CARGO_DENY_VERSION"
}

# The wasm-bindgen version the project is locked to: Cargo.lock, else the "=x.y.z" pin in Cargo.toml.
gh_wasm_bindgen_wanted() {
  local v=""
  if [[ -f "$GUILDHALL_ROOT/Cargo.lock" ]]; then
    v="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$GUILDHALL_ROOT/Cargo.lock")"
  fi
  if [[ -z "$v" ]]; then
    v="$(sed -nE 's/^wasm-bindgen[[:space:]]*=[[:space:]]*"=([0-9.]+)".*/\1/p' "$GUILDHALL_ROOT/Cargo.toml" | head -n 1)"
  fi
  echo "${v:-$WASM_BINDGEN_FALLBACK_VERSION}"
}

gh_tools_wasm_bindgen() {
  local want have src work
  want="$(gh_wasm_bindgen_wanted)"
  have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
  if [[ "$have" == "$want" ]]; then
    gh_say "wasm-bindgen-cli $have present (the version the project is locked to)"
    return
  fi
  gh_say "wasm-bindgen-cli: installing $want from a re-locked copy of its source (found '${have:-none}'; about 2-4 minutes)"
  # `cargo info` downloads the crate's source into the registry cache.
  cargo info --quiet "wasm-bindgen-cli@$want" >/dev/null
  src="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"wasm-bindgen-cli-$want" 2>/dev/null | head -n 1)"
  [[ -n "$src" && -f "$src/Cargo.toml" ]] || gh_die "wasm-bindgen-cli-$want source not found under ~/.cargo/registry/src"
  work="$(mktemp -d "${TMPDIR:-/tmp}/wasm-bindgen-cli-$want.XXXXXX")"
  cp -R "$src/." "$work/"
  (
    cd "$work"
    unset CARGO_TARGET_DIR RUSTFLAGS
    if ! cargo fetch --locked --quiet 2>/dev/null; then
      # Its lock pins a webpki-roots release that the registry does not serve; step back one patch.
      if grep -q '^name = "webpki-roots"$' Cargo.lock; then
        cargo update --quiet -p webpki-roots --precise "$WEBPKI_ROOTS_PRECISE"
      fi
      cargo fetch --locked --quiet
    fi
    cargo install --path . --locked --bin wasm-bindgen --root "${CARGO_HOME:-$HOME/.cargo}"
  )
  rm -rf "$work"
  have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
  [[ "$have" == "$want" ]] || gh_die "wasm-bindgen reports '$have' after installing $want"
}

# npm tools (wasm-opt from binaryen) in a folder outside the clone, pinned by .ci/tools/package-lock.json.
gh_tools_npm_tools() {
  command -v npm >/dev/null || gh_tools_node
  local src="$GUILDHALL_ROOT/.ci/tools"
  if [[ -x "$GUILDHALL_TOOLS_DIR/node_modules/.bin/wasm-opt" ]] &&
    cmp -s "$src/package-lock.json" "$GUILDHALL_TOOLS_DIR/package-lock.json"; then
    gh_say "npm tools present in $GUILDHALL_TOOLS_DIR ($(wasm-opt --version 2>/dev/null || echo wasm-opt))"
    return
  fi
  gh_say "npm tools: npm ci in $GUILDHALL_TOOLS_DIR (binaryen for wasm-opt)"
  mkdir -p "$GUILDHALL_TOOLS_DIR"
  cp "$src/package.json" "$src/package-lock.json" "$GUILDHALL_TOOLS_DIR/"
  (cd "$GUILDHALL_TOOLS_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  command -v wasm-opt >/dev/null || gh_die "wasm-opt is not on PATH after npm ci"
}

gh_tools_node() {
  if command -v npm >/dev/null && command -v node >/dev/null; then
    return
  fi
  gh_say "node: installing Debian's nodejs and npm"
  gh_apt_install nodejs npm
}

gh_apt_install() {
  [[ "$(id -u)" == 0 ]] || gh_die "installing $* needs root (apt-get)"
  # Waits for a running apt/dpkg instead of failing on its lock.
  apt-get -o DPkg::Lock::Timeout=900 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq "$@" >/dev/null
}

gh_tools_chromium() {
  if [[ -x "$GUILDHALL_CHROMIUM" ]]; then
    gh_say "chromium present ($("$GUILDHALL_CHROMIUM" --version 2>/dev/null | head -n 1))"
    return
  fi
  if pgrep -x apt-get >/dev/null 2>&1 || pgrep -x dpkg >/dev/null 2>&1; then
    gh_say "chromium: an apt-get/dpkg run is in progress; waiting for it to finish"
    while pgrep -x apt-get >/dev/null 2>&1 || pgrep -x dpkg >/dev/null 2>&1; do sleep 5; done
    if [[ -x "$GUILDHALL_CHROMIUM" ]]; then
      gh_say "chromium present ($("$GUILDHALL_CHROMIUM" --version 2>/dev/null | head -n 1))"
      return
    fi
  fi
  gh_say "chromium: apt-get install chromium (about a minute)"
  gh_apt_install chromium
  [[ -x "$GUILDHALL_CHROMIUM" ]] || gh_die "$GUILDHALL_CHROMIUM missing after apt-get install chromium"
}

# end2end/node_modules, reinstalled whenever end2end/package-lock.json changes.
gh_tools_end2end() {
  command -v npm >/dev/null || gh_tools_node
  local dir="$GUILDHALL_ROOT/end2end" stamp want
  stamp="$dir/node_modules/.guildhall-lock.sha256"
  want="$(sha256sum "$dir/package-lock.json" | awk '{print $1}')"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$dir/node_modules/.bin/playwright" ]]; then
    gh_say "end2end npm packages present"
    return
  fi
  gh_say "end2end: npm ci (Playwright, axe-core; no browser download)"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
}

gh_tools_postgres() {
  if ! command -v pg_isready >/dev/null; then
    if [[ "${GUILDHALL_REQUIRE_POSTGRES:-0}" == 1 ]]; then
      gh_die "PostgreSQL is required (GUILDHALL_REQUIRE_POSTGRES=1) but pg_isready is not installed"
    fi
    gh_say "postgres: not installed here; the PostgreSQL tests will be skipped"
    return
  fi
  if pg_isready -q -h 127.0.0.1 -t 3; then
    gh_say "postgres answering on 127.0.0.1:5432"
    return
  fi
  if [[ -d /etc/postgresql ]] && command -v pg_ctlcluster >/dev/null; then
    local ver
    ver="$(ls /etc/postgresql | sort -V | tail -n 1)"
    gh_say "postgres: starting cluster $ver/main"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    for _ in $(seq 1 30); do
      pg_isready -q -h 127.0.0.1 -t 1 && break
      sleep 1
    done
  fi
  if pg_isready -q -h 127.0.0.1 -t 3; then
    gh_say "postgres answering on 127.0.0.1:5432"
  elif [[ "${GUILDHALL_REQUIRE_POSTGRES:-0}" == 1 ]]; then
    gh_die "PostgreSQL is required (GUILDHALL_REQUIRE_POSTGRES=1) but 127.0.0.1:5432 does not answer"
  else
    gh_say "postgres: not answering on 127.0.0.1:5432; the PostgreSQL tests will be skipped"
  fi
}

gh_tools_main() {
  local steps="${GUILDHALL_TOOLS_ONLY:-rust cargo_leptos wasm_bindgen cargo_deny npm_tools chromium end2end postgres}"
  local step
  for step in $steps; do
    "gh_tools_$step"
  done
}

gh_tools_main
