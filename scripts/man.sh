#!/usr/bin/env bash
# Writes the man page latent.1 from the commands' own --help (run at build time by
# cmake/install.cmake, so the page and the program cannot drift apart; tests/test_man.sh
# checks it lists every command). Usage: scripts/man.sh LATENT OUT.1
set -euo pipefail
latent=$1 out=$2
# roff-escape help text: backslashes, leading dots/quotes, hyphens (so flags copy-paste right)
esc() { sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
version=$("$latent" --version | awk '{print $2}')
help=$("$latent" --help)
cmds=$(printf '%s\n' "$help" | awk '/^commands:/ {f = 1; next} f && /^  [a-z]/ {print $1} f && /^$/ {f = 0}')
[ -n "$cmds" ] || { echo "man.sh: no commands in '$latent --help'" >&2; exit 1; }
tmp="$out.tmp"
{
    echo ".TH LATENT 1 \"\" \"latent $version\" \"User Commands\""
    echo ".SH NAME"
    echo "latent \\- train, evaluate and sample deep generative models on the CPU"
    echo ".SH SYNOPSIS"
    echo ".B latent"
    echo ".I command"
    echo "[options]"
    echo ".br"
    echo ".B latent"
    echo "\\-\\-help | \\-\\-version"
    echo ".SH DESCRIPTION"
    echo "latent trains, evaluates and samples generative models of images (FVSBN, NADE, MADE, VAE,"
    echo "categorical VAE) on the CPU, from IDX directories or TFRecord files of tf.Example records,"
    echo "into run directories (config.json, metrics.jsonl, checkpoints, sample grids, TensorBoard"
    echo "event files). Each command's options are below, as \\fBlatent\\fR \\fIcommand\\fR \\fB\\-\\-help\\fR prints them."
    echo ".SH COMMANDS"
    for c in $cmds; do
        summary=$(printf '%s\n' "$help" | awk -v c="$c" '$1 == c {sub(/^ *[a-z]+ +/, ""); print}')
        echo ".SS $c"
        printf '%s\n' "$summary" | esc
        h=$("$latent" "$c" --help 2>/dev/null || true)
        if [ "${h#usage:}" != "$h" ]; then  # `latent version --help` prints the version, not a usage
            echo ".PP"
            echo ".nf"
            printf '%s\n' "$h" | esc
            echo ".fi"
        fi
    done
    echo ".SH ENVIRONMENT"
    echo ".TP"
    echo ".B LATENT_THREADS"
    echo "threads for OpenBLAS and the OpenMP loops when \\-\\-threads is not given (default: every core)"
    echo ".SH EXIT STATUS"
    echo "0 on success, 2 for bad input or usage, 1 for a runtime failure;"
    echo "130 or 143 when training was interrupted by SIGINT or SIGTERM (its state is saved)."
    echo ".SH SEE ALSO"
    echo "The library: \\fI<latent/latent.h>\\fR, \\fBpkg-config \\-\\-cflags \\-\\-libs latent\\fR."
} > "$tmp"
mv "$tmp" "$out"
