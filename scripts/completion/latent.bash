# bash completion for latent. Commands and flags come from the program's own --help at
# completion time, so they never fall behind it; file names are completed otherwise.
# Installed as share/bash-completion/completions/latent.
_latent() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion || return
    else
        cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
    fi
    local prog=${words[0]}
    if [ "$cword" -eq 1 ]; then
        local cmds
        cmds=$("$prog" --help 2>/dev/null | awk '/^commands:/ {f = 1; next} f && /^  [a-z]/ {print $1} f && /^$/ {f = 0}')
        mapfile -t COMPREPLY < <(compgen -W "$cmds --help --version" -- "$cur")
        return
    fi
    if [[ $cur == -* ]]; then
        local flags
        flags=$("$prog" "${words[1]}" --help 2>/dev/null | grep -oE -- '(^|[[ |])--?[a-zA-Z][a-zA-Z0-9-]*' | sed 's/^[[ |]*//' | sort -u)
        mapfile -t COMPREPLY < <(compgen -W "$flags --help" -- "$cur")
        return
    fi
    # a flag's fixed choices as --help spells them: "--binarize none|threshold|stochastic|dynamic"
    if [[ $prev == --* ]]; then
        local choices
        choices=$("$prog" "${words[1]}" --help 2>/dev/null | grep -oE -- "$prev [a-z0-9_-]+(\|[a-z0-9_-]+)+" | head -1)
        if [ -n "$choices" ]; then
            choices=${choices#"$prev "}
            mapfile -t COMPREPLY < <(compgen -W "${choices//|/ }" -- "$cur")
            return
        fi
    fi
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}
complete -o filenames -F _latent latent
