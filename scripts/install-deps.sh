#!/usr/bin/env bash
# Installs every Debian package the bcq project needs (Debian 12).
# Idempotent: when every package is already installed it does nothing and never calls apt.
# Uses sudo only when not run as root.
set -euo pipefail

PACKAGES=(
  # toolchain
  cmake ninja-build g++ make pkg-config
  # mdp/, bcql/, proofs_checks/, apps/
  libeigen3-dev libboost-graph-dev nlohmann-json3-dev libcli11-dev libfmt-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev
  # continuous/ (LibTorch needs OpenBLAS, else it links the reference BLAS and is ~24x slower;
  # Debian's MuJoCo CMake config needs qhull's headers)
  libtorch-dev libopenblas0-openmp libmujoco-dev libqhull-dev libhdf5-dev
  # zlib: the CRC-32 check of LibTorch's zip archives (policy.pt, checkpoint.pt) before loading
  zlib1g-dev
  # the same torch 1.13 from Python: tests that policy.pt loads with torch.jit.load, and the
  # reference PyTorch BCQ that bench/reference_bcq.py times beside bench_bcq
  python3-torch
  # reports/: plots (gnuplot), counterexample graphs (Graphviz dot); the report's headless
  # browser test opens it in chromium and reads the screenshot with libpng
  gnuplot-nox graphviz chromium libpng-dev
  # BCQ_WITH_MPI
  libopenmpi-dev openmpi-bin
  # tests/continuous: h5py writes D4RL and Minari files as published; fuzz/ (make fuzz):
  # libFuzzer with ASan and UBSan
  python3-h5py clang-14 libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
