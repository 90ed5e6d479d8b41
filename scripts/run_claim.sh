# Sourced by the run scripts: lets several instances of one script share a queue of runs (one per
# core, or per machine on a shared file system). A run directory is claimed with a non-blocking
# flock on DIR/.run.lock; the lock is held by the open descriptor, which the training process
# inherits, so it stays held exactly as long as that process lives (also if the script is killed).
#
#   if claim_run "$dir"; then ...; release_run; fi   # 1: another process holds the run
#   wait_run "$dir"                                   # blocks until nobody holds it

claim_fd=""
claim_run() {  # DIR -> 0 with the lock held (in claim_fd), 1 if another process holds it
  mkdir -p "$1"
  exec {claim_fd}> "$1/.run.lock"
  if flock -n "$claim_fd"; then return 0; fi
  exec {claim_fd}>&-
  claim_fd=""
  return 1
}
release_run() {
  if [[ -n $claim_fd ]]; then exec {claim_fd}>&-; claim_fd=""; fi
}
wait_run() {  # DIR: returns once no process holds DIR's run lock
  local fd
  [[ -f $1/.run.lock ]] || return 0
  exec {fd}> "$1/.run.lock"
  flock "$fd"
  exec {fd}>&-
}
