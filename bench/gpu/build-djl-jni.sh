#!/usr/bin/env bash
# Builds DJL's PyTorch JNI library (libdjl_torch.so) against the libtorch that ships inside the
# local Python PyTorch, and puts it beside that libtorch, where DJL looks first when
# PYTORCH_LIBRARY_PATH points there. DJL publishes its JNI only for the PyTorch builds it supports
# (2.7.1 for DJL 0.36, CPU on Maven Central); this lets the engine run on a CUDA libtorch a GPU host
# already has.
#
# usage: bench/gpu/build-djl-jni.sh DJL_SRC [JNI_INCLUDE]
#   DJL_SRC      a DJL 0.36.0 source tree (git clone --branch v0.36.0 https://github.com/deepjavalibrary/djl);
#                it needs engines/pytorch/pytorch-native/src/main/native, api/src/main/native and the
#                JNI header include/ai_djl_pytorch_jni_PyTorchLibrary.h, which this script makes with
#                javac (against cli/target/lib, so build first) when it is missing
#   JNI_INCLUDE  a directory holding jni.h and jni_md.h (default: $JAVA_HOME/include)
# needs python3 with torch, g++; prints the line to eval before starting Java:
#   eval "$(bench/gpu/build-djl-jni.sh ~/djl)" && ./protorad bench mixed-adapters
set -euo pipefail
if [ $# -lt 1 ]; then
  sed -n '2,17p' "$0" >&2
  exit 2
fi
src=$(cd "$1" && pwd)
jni=$(cd "${2:-${JAVA_HOME:-/usr/lib/jvm/default-java}/include}" && pwd)
header=$src/include/ai_djl_pytorch_jni_PyTorchLibrary.h
if [ ! -f "$header" ]; then
  engine=$src/engines/pytorch/pytorch-engine/src/main/java
  javac -h "$src/include" -d "$(mktemp -d)" -cp "$(dirname "$0")/../../cli/target/lib/*" \
    -sourcepath "$engine" "$engine/ai/djl/pytorch/jni/PyTorchLibrary.java"
fi
read -r torch version cuda abi < <(python3 -c '
import os, torch
print(os.path.dirname(torch.__file__), torch.__version__.split("+")[0],
      (torch.version.cuda or "").replace(".", "") or "-", int(torch._C._GLIBCXX_USE_CXX11_ABI))')
[ "$cuda" = "-" ] && cuda=""
std=$( (grep -rhoE 'cxx_std_[0-9]+' "$torch/share/cmake" 2>/dev/null || true) | sort -u | tail -1 | sed 's/cxx_std_//')
std=${std:-17}
native=$src/engines/pytorch/pytorch-native/src/main/native
obj=$(mktemp -d)
flags="-std=c++$std -O2 -fPIC -w -D_GLIBCXX_USE_CXX11_ABI=$abi -I$torch/include"
flags+=" -I$torch/include/torch/csrc/api/include -I$jni -I$jni/linux -I$src/include"
flags+=" -I$src/api/src/main/native"
flags+=" -I$native"
started=$(date +%s)
echo "building libdjl_torch.so for PyTorch $version (CUDA ${cuda:-none}, C++$std, cxx11 ABI $abi)" >&2
export flags obj
ls "$native"/*.cc | xargs -P "$(nproc)" -I{} bash -c 'g++ $flags -c "$1" -o "$obj/$(basename "$1" .cc).o"' _ {}
g++ -shared -o "$torch/lib/libdjl_torch.so" "$obj"/*.o -L"$torch/lib" -ltorch -ltorch_cpu -lc10 \
  -Wl,-rpath,'$ORIGIN'
rm -rf "$obj"
echo "built $torch/lib/libdjl_torch.so in $(( $(date +%s) - started )) s" >&2
flavor=cpu
[ -n "$cuda" ] && flavor=cu$cuda
line="export PYTORCH_LIBRARY_PATH=$torch/lib PYTORCH_VERSION=$version PYTORCH_FLAVOR=$flavor"
# DJL counts GPUs through libcudart (JNA); pip installs keep it outside the default library path.
cudart=$( (find "$torch/.." /usr/local -name 'libcudart.so*' 2>/dev/null || true) | head -1)
if [ -n "$cudart" ]; then
  line+=" PROTORAD_JAVA_OPTS=\"\${PROTORAD_JAVA_OPTS:-} -Djna.library.path=$(dirname "$cudart")\""
fi
echo "$line"
