#!/usr/bin/env bash
# launch/local.sh: run dpo-ddp data parallel on this machine.
#
#   launch/local.sh [-n RANKS] [--oversubscribe] [--hostfile FILE] [--] dpo-ddp-args...
#
#   launch/local.sh -- train --config configs/default.yaml        # one rank per core
#   launch/local.sh -n 2 -- train --config my.yaml --resume latest
#   launch/local.sh -n 4 --oversubscribe -- train --model gpt2-tiny --data data/default/train.jsonl
#   launch/local.sh --hostfile launch/hostfile.example -- train --config my.yaml   # several nodes
#
# RANKS defaults to the number of cores (at least 1). Every rank gets OPENBLAS_NUM_THREADS =
# max(1, cores / RANKS) so that the ranks together use each core once (dpo-ddp also sizes its own
# kernel threads to cores / ranks unless --threads is given). More ranks than cores is refused
# unless --oversubscribe is given, since it only slows a run down; it is useful for tests.
# With RANKS = 1 the binary runs directly, without mpirun (a world of one).
#
# With --hostfile FILE (an Open MPI hostfile, see launch/hostfile.example) the ranks go to the
# hosts of the file: RANKS defaults to the sum of its slots, RANKS above that sum needs
# --oversubscribe, and OPENBLAS_NUM_THREADS = max(1, cores of this machine / the largest slots=
# of the file), which assumes nodes like this one with slots = ranks per node.
#
# Environment:
#   DPO_DDP        the binary to run (default: .build/release/dpo-ddp in this repository);
#                  its dpo-ddp_Tokenizer.resources directory must be next to it.
#   MPIRUN         the mpirun to use (default: mpirun on PATH).
#   MPIRUN_ARGS    extra mpirun options, split on spaces, e.g. "--mca btl_tcp_if_include eth0".
#   Any OMPI_MCA_* variable is read by mpirun itself (e.g. OMPI_MCA_btl_tcp_if_include=eth0).
set -euo pipefail

usage() {
    # The comment block at the top of this file, without its '# '.
    awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}

die() {
    echo "launch/local.sh: $*" >&2
    exit 2
}

cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
if ! [[ $cores =~ ^[0-9]+$ ]] || ((cores < 1)); then
    cores=1
fi

ranks=
oversubscribe=0
hostfile=
while (($# > 0)); do
    case $1 in
        -n | --np | -np)
            (($# >= 2)) || die "$1 needs a number of ranks"
            ranks=$2
            shift 2
            ;;
        -n*) # -n4
            ranks=${1#-n}
            shift
            ;;
        --oversubscribe)
            oversubscribe=1
            shift
            ;;
        --hostfile)
            (($# >= 2)) || die "$1 needs a file"
            hostfile=$2
            shift 2
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        --)
            shift
            break
            ;;
        *) # the first dpo-ddp argument
            break
            ;;
    esac
done

# Where the ranks may go: this machine's cores, or the slots of a hostfile.
capacity=$cores
per_host=$cores
where="this machine's $cores cores"
if [[ -n $hostfile ]]; then
    [[ -r $hostfile ]] || die "cannot read hostfile '$hostfile'"
    # One host per line, "slots=N" (1 when missing, as Open MPI counts); '#' starts a comment.
    read -r capacity per_host < <(awk '
        { sub(/#.*/, "") }
        NF == 0 { next }
        { n = 1; for (i = 2; i <= NF; i++) if ($i ~ /^slots=/) { n = substr($i, 7) + 0 } }
        { total += n; if (n > most) most = n }
        END { print total + 0, most + 0 }' "$hostfile")
    ((capacity >= 1)) || die "hostfile '$hostfile' lists no hosts"
    hostfile=$(cd "$(dirname "$hostfile")" && pwd)/$(basename "$hostfile")
    where="the $capacity slots of $hostfile"
fi
ranks=${ranks:-$capacity}

if ! [[ $ranks =~ ^[0-9]+$ ]] || ((10#$ranks < 1)); then
    die "RANKS must be a whole number >= 1, got '$ranks'"
fi
ranks=$((10#$ranks))

if ((ranks > capacity && oversubscribe == 0)); then
    die "$ranks ranks is more than $where: ranks would share cores, which only slows training down.
Use -n $capacity (or fewer), or pass --oversubscribe to run them anyway (for tests)."
fi

# Ranks on this machine: all of them, or with a hostfile the most any host gets.
local_ranks=$ranks
if [[ -n $hostfile ]] && ((per_host < ranks)); then
    local_ranks=$per_host
fi
threads=$((cores / local_ranks))
((threads >= 1)) || threads=1

# The binary: $DPO_DDP, else .build/release/dpo-ddp of the repository holding this script.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
binary=${DPO_DDP:-$repo/.build/release/dpo-ddp}
[[ -x $binary ]] || die "no executable dpo-ddp at '$binary'.
Build it with 'swift build -c release' in $repo, or point DPO_DDP at one."
# mpirun starts the ranks with this path; keep it absolute so that it does not depend on
# the working directory of remote ranks.
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
[[ -d $(dirname "$binary")/dpo-ddp_Tokenizer.resources ]] \
    || echo "launch/local.sh: warning: no dpo-ddp_Tokenizer.resources next to $binary; dpo-ddp will not find its tokenizer" >&2

print_command() {
    printf '+'
    printf ' %q' "$@"
    printf '\n'
}

if ((ranks == 1)) && [[ -z $hostfile ]]; then
    # A world of one: no MPI launcher, no MPI initialisation.
    print_command env "OPENBLAS_NUM_THREADS=$threads" "$binary" "$@" >&2
    exec env "OPENBLAS_NUM_THREADS=$threads" "$binary" "$@"
fi

mpirun=${MPIRUN:-mpirun}
command -v "$mpirun" >/dev/null || die "'$mpirun' not found; install Open MPI (apt-get install -y openmpi-bin libopenmpi-dev)"

cmd=()
# Open MPI refuses to start as root unless both variables are set; only set them when we are root.
if (($(id -u) == 0)); then
    cmd+=(env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1)
fi
cmd+=("$mpirun" -np "$ranks")
if [[ -n $hostfile ]]; then
    cmd+=(--hostfile "$hostfile")
fi
if ((oversubscribe == 1)); then
    cmd+=(--oversubscribe)
fi
# -x exports the variable to every rank, including ranks on other hosts of a hostfile.
cmd+=(-x "OPENBLAS_NUM_THREADS=$threads")
if [[ -n ${OPENBLAS_CORETYPE:-} ]]; then
    cmd+=(-x OPENBLAS_CORETYPE)
fi
if [[ -n ${MPIRUN_ARGS:-} ]]; then
    read -r -a extra <<<"$MPIRUN_ARGS"
    cmd+=("${extra[@]}")
fi
cmd+=("$binary" "$@")

print_command "${cmd[@]}" >&2
exec "${cmd[@]}"
