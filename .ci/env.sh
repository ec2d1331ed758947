# shellcheck shell=bash
# Environment shared by every .ci script: where things live. Sourcing it installs nothing
# (that is .ci/tools.sh's job), so it is cheap enough for the browser tests' server launcher.
#
# - CARGO_TARGET_DIR lives outside the clone so that CI, which runs in a fresh clone, reuses what
#   earlier builds on this machine compiled. cargo-leptos 0.3.10 asks `cargo metadata` for the target
#   directory, so it follows this variable (the site stays in ./target/site, see Cargo.toml).
#   Run `source .ci/env.sh` before running cargo by hand to share the same builds.
# - LEPTOS_OUTPUT_NAME is read at compile time by the leptos crates (option_env!). cargo-leptos sets
#   it for its builds; setting it for plain cargo (test, clippy) too keeps their fingerprints equal,
#   so switching between `cargo test` and `cargo leptos build` does not rebuild leptos every time.
# - LEPTOS_BIN_EXE_NAME: cargo-leptos 0.3.10 assumes the server executable is named after the
#   bin-package ("server"); ours is the bin target "guildhall".

GUILDHALL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GUILDHALL_ROOT

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/guildhall-target}"
export GUILDHALL_TOOLS_DIR="${GUILDHALL_TOOLS_DIR:-$HOME/.cache/guildhall-tools}"

case ":$PATH:" in
  *":$GUILDHALL_TOOLS_DIR/node_modules/.bin:"*) ;;
  *) PATH="$GUILDHALL_TOOLS_DIR/node_modules/.bin:$PATH" ;;
esac
case ":$PATH:" in
  *":$HOME/.cargo/bin:"*) ;;
  *) PATH="$HOME/.cargo/bin:$PATH" ;;
esac
export PATH

export LEPTOS_OUTPUT_NAME="${LEPTOS_OUTPUT_NAME:-guildhall}"
export LEPTOS_BIN_EXE_NAME="${LEPTOS_BIN_EXE_NAME:-guildhall}"

# The debug server binary that `cargo leptos build` produces (the scripts build and serve debug).
export GUILDHALL_BIN="${GUILDHALL_BIN:-$CARGO_TARGET_DIR/debug/guildhall}"

# Chromium for the browser tests (Debian's package; Playwright downloads no browser here).
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export GUILDHALL_CHROMIUM="${GUILDHALL_CHROMIUM:-/usr/bin/chromium}"
