#!/usr/bin/env bash
# Builds the ProtoRad server image as an OCI archive from Debian's packages, with no container
# registry: the image image/Dockerfile describes (its packages, user, environment, volumes, ports,
# entry point and command are read from there), with a Debian bookworm base assembled by
# debootstrap, the server's jars as a second layer, and the configuration written with umoci.
# `./protorad image` runs it.
#
#   scripts/image.sh                  CPU image (libtorch from the bundled pytorch-native-cpu jar)
#   scripts/image.sh --gpu --libtorch DIR
#                                     CUDA image: DIR (a CUDA 12.8 libtorch) goes to /opt/libtorch
#   scripts/image.sh --smoke          CPU image, then start it on the embedded demo model (read-only
#                                     root file system, user 10001), check health and one
#                                     prediction, stop it; exit 0 only if all of that held
#
# Prints the path of the OCI archive (target/image/protorad-server-VERSION-FLAVOR.oci.tar). Needs
# root (debootstrap, chroot, mounts); installs debootstrap and umoci from Debian when missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

flavor=cpu
smoke=false
libtorch=""
while [ $# -gt 0 ]; do
  case "$1" in
    --gpu) flavor=cuda ;;
    --smoke) smoke=true ;;
    --libtorch) libtorch="${2:?--libtorch needs a directory}"; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "protorad image: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$flavor" = cuda ] && $smoke; then
  echo "protorad image: --smoke starts the CPU image; it cannot be combined with --gpu" >&2; exit 2
fi
if [ "$flavor" = cuda ] && [ ! -f "$libtorch/lib/libtorch.so" ]; then
  echo "protorad image: --gpu needs --libtorch DIR holding a CUDA 12.8 libtorch (lib/libtorch.so)" >&2
  exit 2
fi
if [ "$(id -u)" != 0 ]; then
  echo "protorad image: needs root (debootstrap builds the base, the smoke check uses chroot)" >&2
  exit 2
fi

log() { echo "protorad image: $*" >&2; }

# What image/Dockerfile says: `packages` (the apt packages of the base), or `config FLAVOR` (umoci
# config flags for that flavor's final image, one per line).
dockerfile() {
  python3 - "$root/image/Dockerfile" "$@" <<'PY'
import json, re, shlex, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
what = sys.argv[2]
if what == "packages":
    m = re.search(r"apt-get install -y --no-install-recommends ([a-z0-9.+\- ]+?)\s*&&", text)
    print(m.group(1).strip())
    sys.exit()
flavor = sys.argv[3]
stages, current = {}, None
for line in text.splitlines():
    m = re.match(r"FROM (\S+)(?: AS (\S+))?", line)
    if m:
        current = m.group(2) or "final"
        stages[current] = []
    elif current and line.strip() and not line.startswith("#"):
        stages[current].append(line.strip())
flags = []
for line in stages.get(flavor, []) + stages["final"]:
    word, _, rest = line.partition(" ")
    if word == "ENV":
        flags += ["--config.env=" + kv for kv in shlex.split(rest)]
    elif word == "USER":
        flags.append("--config.user=" + rest)
    elif word == "WORKDIR":
        flags.append("--config.workingdir=" + rest)
    elif word == "VOLUME":
        flags += ["--config.volume=" + v for v in rest.split()]
    elif word == "EXPOSE":
        flags += ["--config.exposedports=" + p for p in rest.split()]
    elif word == "ENTRYPOINT":
        flags += ["--config.entrypoint=" + a for a in json.loads(rest)]
    elif word == "CMD":
        flags += ["--config.cmd=" + a for a in json.loads(rest)]
print("\n".join(flags))
PY
}

for tool in debootstrap umoci; do
  if ! command -v "$tool" > /dev/null; then
    log "installing $tool from Debian"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$tool" > /dev/null
  fi
done

version="$(sed -n 's:^  <version>\(.*\)</version>:\1:p' pom.xml | head -1)"
version="${version%-SNAPSHOT}"
tag="$version-$flavor"
out="$root/target/image"
mkdir -p "$out"

# Layer 1: Debian bookworm (minbase) with a headless OpenJDK 17, built once and cached.
base="$out/base-bookworm-jre17"
if [ ! -f "$base.complete" ]; then
  log "assembling the base from Debian packages (about a minute)"
  rm -rf "$base"
  packages="$(dockerfile packages)"
  debootstrap --variant=minbase --include="${packages// /,}" \
    bookworm "$base" http://deb.debian.org/debian > "$out/debootstrap.log"
  rm -rf "$base"/var/cache/apt/archives/*.deb "$base"/var/lib/apt/lists/*
  echo "protorad:x:10001:10001:ProtoRad server:/tmp:/usr/sbin/nologin" >> "$base/etc/passwd"
  echo "protorad:x:10001:" >> "$base/etc/group"
  mkdir -p "$base/var/lib/protorad" "$base/models" "$base/etc/protorad"
  chown 10001:10001 "$base/var/lib/protorad"
  touch "$base.complete"
fi

# The server's jars, built here when missing or stale.
if [ ! -f cli/target/protorad.jar ] || [ -n "$(find cli/src server/src -newer cli/target/protorad.jar -print -quit)" ]; then
  log "building the server jar"
  ./mvnw -q -B package -DskipTests -Dbuf.skip=true -Dspotless.check.skip=true -pl cli -am >&2
fi

layout="$out/oci-$tag"
bundle="$out/bundle-$tag"
rm -rf "$layout" "$bundle"
umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci unpack --image "$layout:$tag" "$bundle" > /dev/null
cp -a "$base/." "$bundle/rootfs/"
umoci repack --refresh-bundle --history.created_by "debootstrap bookworm + openjdk-17-jre-headless" \
  --image "$layout:$tag" "$bundle"

# Layer 2: the application.
app="$bundle/rootfs/opt/protorad"
mkdir -p "$app/lib"
cp cli/target/protorad.jar "$app/"
for jar in cli/target/lib/*.jar; do
  case "$(basename "$jar")" in
    pytorch-native-cpu-*) [ "$flavor" = cpu ] && cp "$jar" "$app/lib/" ;;
    *) cp "$jar" "$app/lib/" ;;
  esac
done
if [ "$flavor" = cuda ]; then
  cp -a "$libtorch" "$bundle/rootfs/opt/libtorch"
fi
umoci repack --refresh-bundle --history.created_by "ProtoRad server $version ($flavor)" \
  --image "$layout:$tag" "$bundle"

# The container, as image/Dockerfile says: user 10001, heap from the memory limit, everything
# writable on a volume.
mapfile -t config < <(dockerfile config "$flavor")
umoci config --image "$layout:$tag" --no-history --author "ProtoRad" "${config[@]}" \
  --config.label "org.opencontainers.image.title=protorad-server" \
  --config.label "org.opencontainers.image.version=$version"
umoci gc --layout "$layout"
rm -rf "$bundle"
archive="$out/protorad-server-$tag.oci.tar"
tar -C "$layout" -cf "$archive" .
log "built ghcr.io/protorad/protorad-server:$tag ($(du -h "$archive" | cut -f1))"

if ! $smoke; then
  echo "$archive"
  exit 0
fi

# ---- smoke check: start the image as a runtime would, on the embedded demo model ----
run="$out/smoke"
rm -rf "$run"
mkdir -p "$run/data"
chown 10001:10001 "$run/data"
umoci unpack --image "$layout:$tag" "$run/bundle" > /dev/null
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# The runtime configuration umoci derived from the image: its user, environment and arguments.
read -r -a args < <(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(" ".join(c["process"]["args"]))' "$run/bundle/config.json")
mapfile -t envs < <(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print("\n".join(c["process"]["env"]))' "$run/bundle/config.json")
user="$(python3 -c 'import json,sys; u=json.load(open(sys.argv[1]))["process"]["user"]; print("%d:%d" % (u["uid"], u["gid"]))' "$run/bundle/config.json")"
rootfs="$run/bundle/rootfs"

log "starting the image (user $user, read-only root) on 127.0.0.1:$port"
# A mount and PID namespace of its own: read-only root, /proc, /dev, a tmpfs /tmp, the data and
# model volumes; the network is the host's, so the check below reaches it on loopback.
unshare --mount --pid --fork --kill-child --propagation private bash -c '
  set -e
  r="$1"; data="$2"; models="$3"; user="$4"; shift 4
  mount --bind "$r" "$r"
  mount -t proc proc "$r/proc"
  mount --rbind /dev "$r/dev"
  mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
  mount --bind "$data" "$r/var/lib/protorad"
  mount --bind "$models" "$r/models"
  mount -o remount,bind,ro "$r/models"
  mount -o remount,bind,ro "$r"
  exec chroot --userspec="$user" "$r" /usr/bin/env -i "$@"
' smoke "$rootfs" "$run/data" "$root/models" "$user" \
  "${envs[@]}" PROTORAD_PORT="$port" PROTORAD_HOST=127.0.0.1 \
  "${args[@]}" --demo --data-dir /var/lib/protorad --model /models/demo-base \
  > "$run/server.log" 2>&1 &
server=$!

# SIGTERM to the server (the namespace's first process; unshare itself ignores SIGTERM), as a
# runtime stops a container; SIGKILL after 30 s.
stop() {
  pkill -TERM -P "$server" 2> /dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$server" 2> /dev/null || break
    sleep 1
  done
  kill -KILL "$server" 2> /dev/null || true
  wait "$server" 2> /dev/null || true
}
trap stop EXIT

cli=(java -cp "cli/target/protorad.jar:cli/target/lib/*" dev.protorad.cli.Main)
healthy=false
for _ in $(seq 1 180); do
  if ! kill -0 "$server" 2> /dev/null; then break; fi
  if "${cli[@]}" health --server "127.0.0.1:$port" > /dev/null 2>&1; then healthy=true; break; fi
  sleep 1
done
if ! $healthy; then
  log "FAILED: the server in the image did not become SERVING; its log:"
  tail -20 "$run/server.log" >&2
  exit 1
fi
log "health: SERVING"
key="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["clinician"])' "$run/data/demo-credentials.json")"
if ! PROTORAD_API_KEY="$key" "${cli[@]}" example internal-service "127.0.0.1:$port" \
    --order-id SMOKE-1 > "$run/prediction.txt" 2>&1; then
  log "FAILED: no prediction from the image:"
  cat "$run/prediction.txt" >&2
  exit 1
fi
sed 's/^/  /' "$run/prediction.txt" >&2
stop
trap - EXIT
if ! grep -q "protorad: stopped" "$run/server.log"; then
  log "FAILED: the server did not stop cleanly on SIGTERM; its log:"
  tail -20 "$run/server.log" >&2
  exit 1
fi
log "smoke check passed: the image started, reported SERVING, answered a prediction and stopped"
echo "$archive"
