# Sourced by the run scripts: lets several instances of one script share a queue of runs (one per
# core, or per machine on a shared file system). A run directory is claimed with a non-blocking
# flock on DIR/.run.lock; the lock is held by the open descriptor, which the training process
# inherits, so it stays held exactly as long as that process lives (also if the script is killed).
#
#   claim=0; claim_run "$dir" || claim=$?   # 0: claimed, 1: another process holds it, 2: error
#   ...; release_run
#   wait_run "$dir"                          # blocks until nobody holds it (2: error)
# Errors print one line; callers must not take them for "busy".

claim_fd=""
claim_run() {  # DIR -> 0 with the lock held (in claim_fd), 1 if another process holds it, 2 on error
  mkdir -p "$1" || return 2
  if ! exec {claim_fd}> "$1/.run.lock"; then
    claim_fd=""
    echo "run_claim: cannot open $1/.run.lock" >&2
    return 2
  fi
  local rc=0
  flock -n "$claim_fd" || rc=$?
  ((rc == 0)) && return 0
  exec {claim_fd}>&-
  claim_fd=""
  ((rc == 1)) && return 1  # flock -n: the lock is held elsewhere
  echo "run_claim: cannot lock $1/.run.lock (flock exit $rc)" >&2
  return 2
}
release_run() {
  if [[ -n $claim_fd ]]; then exec {claim_fd}>&-; claim_fd=""; fi
}
wait_run() {  # DIR: returns once no process holds DIR's run lock; 2 on error
  local fd rc=0
  [[ -f $1/.run.lock ]] || return 0
  if ! exec {fd}> "$1/.run.lock"; then echo "run_claim: cannot open $1/.run.lock" >&2; return 2; fi
  flock "$fd" || rc=$?
  exec {fd}>&-
  if ((rc != 0)); then echo "run_claim: cannot lock $1/.run.lock (flock exit $rc)" >&2; return 2; fi
}
