# Sourced by the stack script and the test libraries.
#
# pid_running PID: the process runs. `kill -0` is not enough: it also
# succeeds on a zombie, and a daemon whose launcher has exited is a child of
# PID 1, which in some sandboxes and CI runners never reaps it. A loop
# "while kill -0" then waits for ever on a process long dead.
pid_running() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat:0:1}" != Z ]
}
