# Shell integration for every bash the runner starts, in the manner of VS Code's
# shellIntegration-bash.sh: the shell reports where each prompt and command begins and ends, the
# command line and its exit code, as OSC marks that the runner strips from what the page sees
# (runner/shell-marks.ts parses them). Started as `bash --rcfile THIS_FILE -i`.
#
#   ESC ] 133 ; A ; n=NONCE ; d=DEPTH BEL          prompt start
#   ESC ] 133 ; B ; n=NONCE ; d=DEPTH BEL          prompt end, command input starts
#   ESC ] 633 ; E ; ESCAPED-LINE ; n=NONCE ; d=DEPTH BEL   the command line about to run
#   ESC ] 133 ; C ; n=NONCE ; d=DEPTH ; r=1 BEL    command output starts
#   ESC ] 133 ; D ; EXIT ; n=NONCE ; d=DEPTH BEL   command done with its exit code
#
# NONCE is random per shell start (RUNNER_SI_NONCE), so output such as `cat` of a file that holds
# marks cannot forge one. DEPTH is 0 for the runner's shell and one more for each interactive bash
# started inside it, which inherits these hooks through the exported functions and PROMPT_COMMAND,
# so the runner can tell a nested prompt from its own shell's. Every builtin is called as
# `builtin ...` so that a learner's alias or function of the same name cannot break the hooks.
#
# Also sourced at the end of another rc file (the lab's shells name it in LAB_SHELL_INIT).
# RUNNER_SI_USER_RC=1: source ~/.bashrc first. RUNNER_SI_DEFAULT_PS1=1: set the runner's prompt.

if [[ -n "${RUNNER_SI_USER_RC:-}" && -r ~/.bashrc ]]; then
  builtin source ~/.bashrc
fi

# `history` must see every command line, even one that starts with a space (ignorespace) or is
# matched by HISTIGNORE, or the reported line would be the previous one.
if [[ "${HISTCONTROL:-}" == *ignoreboth* ]]; then HISTCONTROL=ignoredups; fi
HISTCONTROL=${HISTCONTROL//ignorespace/}
builtin unset HISTIGNORE
builtin set -o history
# Multi-line blocks arrive as one bracketed paste; make sure readline treats them so.
builtin bind 'set enable-bracketed-paste on' 2>/dev/null

# The runner's own shell is depth 0; a nested interactive bash sets its depth on its first prompt.
__runner_si_depth=0
builtin export RUNNER_SI_DEPTH=0
builtin export RUNNER_SI_NONCE

# Escapes a value for a mark: backslash, ";" and the control characters that could end or corrupt
# an OSC sequence. Pattern substitution instead of a per-character loop: a 32 KiB block stays fast.
__runner_si_escape() {
  builtin local s="$1"
  s=${s//\\/\\\\}
  s=${s//;/\\x3b}
  s=${s//$'\n'/\\x0a}
  s=${s//$'\r'/\\x0d}
  s=${s//$'\t'/\\x09}
  s=${s//$'\e'/\\x1b}
  s=${s//$'\a'/\\x07}
  builtin printf '%s' "$s"
}

# Runs in PS0's command substitution, i.e. in a subshell, just before the command line runs.
__runner_si_preexec() {
  builtin local line
  line=$(builtin fc -ln -0 2>/dev/null)
  # fc prints a tab and a space before the line.
  line=${line#$'\t'}
  line=${line# }
  builtin printf '\e]633;E;%s;n=%s;d=%s\a' "$(__runner_si_escape "$line")" "$RUNNER_SI_NONCE" "$__runner_si_depth"
}

__runner_si_prompt() {
  builtin local code="$?"
  if [[ -z "${__runner_si_depth+set}" ]]; then
    # First prompt of a nested bash that inherited these hooks through the environment.
    __runner_si_depth=$(( ${RUNNER_SI_DEPTH:-0} + 1 ))
    builtin export RUNNER_SI_DEPTH=$__runner_si_depth
  fi
  if [[ -n "${__runner_si_ran:-}" ]]; then
    builtin printf '\e]133;D;%s;n=%s;d=%s\a' "$code" "$RUNNER_SI_NONCE" "$__runner_si_depth"
    __runner_si_ran=
  fi
  builtin printf '\e]133;A;n=%s;d=%s\a' "$RUNNER_SI_NONCE" "$__runner_si_depth"
  # A learner's PS1 or PS0 may be replaced at any time (or by a nested shell's rc file): put the
  # marks back each time. The ${...} inside are expanded when the prompt is shown.
  if [[ "$PS1" != *"$__runner_si_ps1_mark"* ]]; then PS1="$PS1$__runner_si_ps1_mark"; fi
  if [[ "$PS0" != *"$__runner_si_ps0_mark"* ]]; then PS0="$PS0$__runner_si_ps0_mark"; fi
  builtin return "$code"
}
builtin export -f __runner_si_escape __runner_si_preexec __runner_si_prompt

# B at the very end of PS1; E then C from PS0, which bash shows after reading a command line and
# before running it. The arithmetic expansion inside C sets __runner_si_ran in the shell itself
# (prompt expansion is not a subshell), so an empty line reports no D.
builtin export __runner_si_ps1_mark='\[\e]133;B;n=${RUNNER_SI_NONCE};d=${__runner_si_depth}\a\]'
builtin export __runner_si_ps0_mark='$(__runner_si_preexec)\e]133;C;n=${RUNNER_SI_NONCE};d=${__runner_si_depth};r=$((__runner_si_ran=1))\a'

# The runner's default prompt, for a target that asks for it (a plain local shell); a target whose
# own rc file set a prompt (the lab's `vagrant@leaf-sw10:mgmt:~$`) leaves this unset.
if [[ -n "${RUNNER_SI_DEFAULT_PS1:-}" ]]; then
  PS1='\[\e[1;32m\]\u@\h\[\e[0m\]:\[\e[1;34m\]\w\[\e[0m\]\$ '
fi
builtin unset RUNNER_SI_DEFAULT_PS1 RUNNER_SI_USER_RC
PS1="$PS1$__runner_si_ps1_mark"
PS0="${PS0:-}$__runner_si_ps0_mark"

# Ours first, so that $? is still the command's when it is read; it returns that code again for
# whatever the learner's rc file added after it.
if [[ -z "${PROMPT_COMMAND:-}" ]]; then
  PROMPT_COMMAND=__runner_si_prompt
elif [[ "$(builtin declare -p PROMPT_COMMAND 2>/dev/null)" == "declare -a"* ]]; then
  PROMPT_COMMAND=(__runner_si_prompt "${PROMPT_COMMAND[@]}")
else
  PROMPT_COMMAND="__runner_si_prompt; $PROMPT_COMMAND"
fi
builtin export PROMPT_COMMAND 2>/dev/null
