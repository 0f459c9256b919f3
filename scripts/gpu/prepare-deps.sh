#!/usr/bin/env bash
# Copies the header-only / C dependencies bench_bcq needs beyond LibTorch (nlohmann-json, HDF5
# and HDF5's shared libraries) into DIR, to carry to a GPU machine that lacks them.
set -euo pipefail
dir=${1:-.device}
mkdir -p "$dir/include/hdf5" "$dir/lib"
cp -r /usr/include/nlohmann "$dir/include/"
cp -r /usr/include/hdf5/serial "$dir/include/hdf5/"
lib=/usr/lib/x86_64-linux-gnu/libhdf5_serial.so
cp -L "$lib" "$dir/lib/libhdf5_serial.so"
cp -L "$lib" "$dir/lib/$(readlink "$lib" | xargs basename)" 2>/dev/null || true
ldd "$lib" | awk '$3 ~ /^\// {print $3}' | grep -v -E '/(libc|libm|libpthread|libdl|ld-linux)[.-]' | while read -r so; do
  cp -L "$so" "$dir/lib/"
done
objdump -p "$lib" | awk '/SONAME/ {print $2}' | while read -r soname; do cp -L "$lib" "$dir/lib/$soname"; done
du -sh "$dir"
