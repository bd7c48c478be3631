# Sourced by scripts/setup.sh and scripts/run.sh: progress lines for long steps.
#   STEP_TAG=setup; source scripts/steps.sh
say() { printf '\033[1;34m[%s]\033[0m %s\n' "${STEP_TAG:-tokenpair}" "$*"; }
# step "what" "estimate" command... — says what and how long it should take, runs it, says how
# long it took.
step() {
  local what="$1" estimate="$2" started=$SECONDS
  shift 2
  say "$what — estimate $estimate"
  "$@"
  local took=$((SECONDS - started))
  say "$what — done in $((took / 60)) min $((took % 60)) s"
}
