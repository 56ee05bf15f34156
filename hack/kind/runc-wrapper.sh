#!/bin/bash
# Installed in front of runc only on hosts whose capability bounding set lacks
# CAP_SYS_RESOURCE (see hack/lib.sh lacks_sys_resource). Such a host cannot grant that
# capability, nor lower oom_score_adj, which needs it; runc then refuses privileged
# containers and kubelet's pod sandboxes. Before handing over to the real runc, this
# removes CAP_SYS_RESOURCE from the OCI spec or process file it is given and raises
# negative oomScoreAdj values to 0. Everything else passes through untouched.
real="${STOWAGE_REAL_RUNC:-/usr/sbin/runc}"

spec_files=()
prev=""
for arg in "$@"; do
  case "$prev" in
    --bundle|-b) spec_files+=("$arg/config.json") ;;
    --process|-p) spec_files+=("$arg") ;;
  esac
  case "$arg" in
    --bundle=*) spec_files+=("${arg#--bundle=}/config.json") ;;
    --process=*) spec_files+=("${arg#--process=}") ;;
  esac
  prev="$arg"
done

for f in "${spec_files[@]}"; do
  [[ -f "$f" ]] || continue
  # A bundle's config.json nests the process; an exec process file is the process.
  jq '
    def tame:
      (if .capabilities then .capabilities |= map_values(if type == "array" then map(select(. != "CAP_SYS_RESOURCE")) else . end) else . end)
      | (if (.oomScoreAdj // 0) < 0 then .oomScoreAdj = 0 else . end);
    if has("process") then .process |= tame else tame end
  ' "$f" > "$f.stowage" && mv "$f.stowage" "$f"
done
exec "$real" "$@"
