# bash completion for fptctl(8)                              -*- shell-script -*-
# shellcheck shell=bash disable=SC2207 # COMPREPLY=($(compgen ...)): the usual idiom
# SPDX-License-Identifier: MIT
#
# Commands, options and option values are read from fptctl's own help
# (`fptctl --help`, `fptctl COMMAND --help`: the "Usage:" lines), so they
# follow the fptctl that is installed.  Values: the choices the usage line
# lists (--mode on|madvise|off), cgroup paths under the cgroup2 mount for
# PATH (relative, or absolute under the mount), systemd units for NAME,
# process ids for PID.  Works with and without the bash-completion package.

# _fptctl_cgroup_root: where cgroup2 is mounted (/sys/fs/cgroup, or e.g.
# /sys/fs/cgroup/unified on a hybrid host), from /proc/self/mountinfo.
_fptctl_cgroup_root()
{
    local line mnt
    while IFS= read -r line; do
        case $line in
        *" - cgroup2 "*)
            mnt=${line#* * * * }
            mnt=${mnt%% *}
            printf '%b\n' "$mnt"
            return 0
            ;;
        esac
    done </proc/self/mountinfo 2>/dev/null
    return 1
}

# _fptctl_cgroups CUR: cgroup directories matching CUR; relative paths
# unless CUR is absolute.  A cgroup with children ends in "/" so that the
# next <TAB> goes on into it (fptctl accepts one trailing "/").
_fptctl_cgroups()
{
    local cur=$1 root d rel
    root=$(_fptctl_cgroup_root) || return
    local IFS=$'\n'
    if [[ $cur == /* ]]; then
        for d in $(compgen -d -- "$cur"); do
            [[ $d == "$root"* ]] || [[ $root == "$d"* ]] || continue
            compgen -d -- "$d/" >/dev/null && d+=/
            COMPREPLY+=("$d")
        done
    else
        for d in $(compgen -d -- "$root/$cur"); do
            rel=${d#"$root"/}
            compgen -d -- "$d/" >/dev/null && rel+=/
            COMPREPLY+=("$rel")
        done
    fi
    compopt -o nospace 2>/dev/null
}

# _fptctl_units CUR: loaded systemd units that have a cgroup
_fptctl_units()
{
    local cur=$1 units
    command -v systemctl >/dev/null || return
    units=$(systemctl list-units --no-legend --plain --no-pager --full \
        --type=service,scope,slice,socket,mount,swap 2>/dev/null | awk '{ print $1 }')
    local IFS=$'\n'
    COMPREPLY+=($(compgen -W "$units" -- "$cur"))
}

_fptctl()
{
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion -s || return
    else
        # plain bash: "--opt=value" arrives as "--opt" "=" "value"
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        cur=${COMP_WORDS[cword]}
        prev=${COMP_WORDS[cword - 1]}
        if [[ $cur == = ]]; then
            cur=
        elif [[ $prev == = ]] && ((cword >= 2)); then
            prev=${COMP_WORDS[cword - 2]}
        fi
    fi
    [[ $cur == --*=* ]] && { prev=${cur%%=*}; cur=${cur#*=}; }
    COMPREPLY=()

    local prog=${words[0]} cmd='' i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        -* | =) ;;
        *) cmd=${words[i]}; break ;;
        esac
    done

    local cmds
    cmds=$("$prog" --help 2>/dev/null | awk '/^Commands:/ { on = 1; next }
        on && /^  [a-z]/ { print $1; next } on && !/^  / { on = 0 }')
    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--version --help" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
        fi
        return
    fi
    if [[ $cmd == help ]]; then
        COMPREPLY=($(compgen -W "$cmds" -- "$cur"))
        return
    fi

    # the command's usage lines: options and what their values are
    local usage
    usage=$("$prog" "$cmd" --help 2>/dev/null | awk '/^Usage:/ { on = 1 }
        on && /^$/ { exit } on { print }')
    [[ -n $usage ]] || return

    if [[ $prev == --* ]]; then
        local spec
        # "--mode on|madvise|off", "--cgroup PATH"; a flag has no value
        local v='[^] |)[][^] |)[]*'
        spec=$(grep -o -- "$prev $v\(|$v\)*" <<<"$usage" | head -n 1)
        spec=${spec#"$prev "}
        case $spec in
        "") ;;                       # a flag: complete the next option
        PATH) _fptctl_cgroups "$cur"; return ;;
        NAME) _fptctl_units "$cur"; return ;;
        PID)
            COMPREPLY=($(compgen -W "$(cd /proc 2>/dev/null && printf '%s ' [0-9]*)" -- "$cur"))
            return ;;
        *\|*) COMPREPLY=($(compgen -W "${spec//|/ }" -- "$cur")); return ;;
        *) return ;;                 # SECONDS, N: nothing to offer
        esac
    fi

    local opts
    opts=$(grep -o -- '--[a-z0-9][a-z0-9-]*' <<<"$usage" | sort -u)
    COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))
} &&
    complete -F _fptctl fptctl

# ex: filetype=sh
