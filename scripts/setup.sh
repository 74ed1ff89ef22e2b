# Shared set-up of scripts/demo and scripts/test (sourced, not run): installs the Debian packages
# Orchard needs when they are missing, then configures and builds ./build.
# Environment: ORCHARD_JOBS (parallel build jobs, default: all cores), ORCHARD_BUILD (build folder).

ORCHARD_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ORCHARD_BUILD=${ORCHARD_BUILD:-$ORCHARD_ROOT/build}
ORCHARD_JOBS=${ORCHARD_JOBS:-$(nproc)}

# Build tools and libraries, plus the real data sets the tour and the realdata suite read.
ORCHARD_PACKAGES=(
  meson ninja-build pkg-config cmake g++ python3
  libeigen3-dev xtensor-dev xtl-dev libopenblas0-pthread
  doctest-dev libbenchmark-dev nlohmann-json3-dev libxxhash-dev liblbfgspp-dev robin-map-dev
  libcli11-dev zlib1g-dev
  libopenmpi-dev openmpi-bin  # distributed GBDT (Meson option mpi; suite mpi)
  clang-14 libclang-rt-14-dev libomp-14-dev  # the libFuzzer harness (tests/fuzz, suite fuzz)
  dataset-fashion-mnist fortunes
  chromium  # the SS3 explanation page is rendered headless in a test
)

orchard_install_packages() {
  local missing=() p
  for p in "${ORCHARD_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "orchard: installing missing packages: ${missing[*]}"
  local apt=(apt-get)
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      apt=(sudo -n apt-get)
    else
      echo "orchard: cannot install packages (not root, no password-less sudo). Please run:" >&2
      echo "  sudo apt-get install ${missing[*]}" >&2
      return 1
    fi
  fi
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" update -qq &&
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" ||
    { echo "orchard: apt-get install failed for: ${missing[*]}" >&2; return 1; }
}

orchard_configure() {
  if [ ! -f "$ORCHARD_BUILD/build.ninja" ]; then
    meson setup "$ORCHARD_BUILD" "$ORCHARD_ROOT" --wrap-mode=nofallback --buildtype=release "$@"
  fi
}

orchard_build() {
  meson compile -C "$ORCHARD_BUILD" -j "$ORCHARD_JOBS" "$@"
}
