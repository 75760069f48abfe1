# shellcheck shell=bash disable=SC2154 # $work is the caller's
# Shared by the registry benchmarks; sourced, not run. Needs $work (a temporary directory the
# caller removes) to be set before start_registry is called.

die() { echo "error: $*" >&2; exit 1; }

load1() { awk '{ print $1 }' /proc/loadavg; }

# require TOOL HOW: fails with how to install TOOL when it is not on PATH. Installs nothing.
require() {
    command -v "$1" >/dev/null || die "$1 is not on PATH; install it ($2) and run again"
}

require_docker_registry() {
    [ -x /usr/bin/docker-registry ] \
        || die "/usr/bin/docker-registry is missing; install it (Debian/Ubuntu: apt-get install -y docker-registry) and run again"
}

# free_port: a free TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_registry NAME STORAGE ACCESSLOG(true|false): starts docker-registry serving STORAGE on a
# free loopback port, sets REGISTRY_HOST and REGISTRY_PID_<NAME>, waits until GET /v2/ is 200.
# With ACCESSLOG=true the access log goes to $work/NAME.log (one line per request).
start_registry() {
    local name=$1 storage=$2 accesslog=$3 port config disabled
    port=$(free_port)
    config=$work/$name.yml
    if [ "$accesslog" = true ]; then disabled=false; else disabled=true; fi
    mkdir -p "$storage"
    cat >"$config" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: $disabled
storage:
  filesystem:
    rootdirectory: $storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
    /usr/bin/docker-registry serve "$config" >"$work/$name.log" 2>&1 &
    eval "REGISTRY_PID_$name=$!"
    REGISTRY_HOST=127.0.0.1:$port
    local i=0
    until curl -fsS -o /dev/null "http://$REGISTRY_HOST/v2/" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -lt 300 ] || { cat "$work/$name.log" >&2; die "docker-registry did not start on $REGISTRY_HOST"; }
        sleep 0.05
    done
}

# machine_line: "N CPUs, model, RAM, kernel" for the report.
machine_line() {
    echo "$(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr)"
}

# median FILE: the median of the numbers in FILE, one a line.
median() {
    sort -g "$1" | awk '{ a[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# now: seconds since the epoch with nanoseconds.
now() { date +%s.%N; }
