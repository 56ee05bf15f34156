package nats

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/operators/nats/dataplane"
	"github.com/stowage/stowage/pkg/workload"
)

// reloadEvery spaces the reload requests to one server: the kubelet updates a
// mounted ConfigMap a minute or so after it changed, and until then a reload reads
// the old file again.
const reloadEvery = 10 * time.Second

// memberDigests are the config digests the members report once they run the
// configuration the blueprint holds.
func memberDigests(c *v1alpha1.NATSCluster, bp workload.Blueprint, secrets SecretLookup) (map[string]string, error) {
	conf := serverConf(c)
	out := map[string]string{}
	for i := 0; i < int(c.Spec.Replicas); i++ {
		pod := bp.Names().Pod(i)
		env, err := memberEnv(bp, secrets, pod)
		if err != nil {
			return nil, err
		}
		if out[pod], err = configDigest(conf, env); err != nil {
			return nil, fmt.Errorf("digest of %s's configuration: %w", pod, err)
		}
	}
	return out, nil
}

// reloader brings running servers to the configuration last written: each pass it
// asks every server which configuration it runs (its config digest) and asks the
// ones behind to reload, at most every reloadEvery. A server that refuses (a change
// it cannot take running) is reported; one whose pod template changed too is
// restarted by the rollout anyway.
type reloader struct {
	recorder record.EventRecorder
	// asked is when each server was last asked to reload; behind, the servers seen
	// behind (a ConfigReloaded event when they catch up); refused, the last refusal
	// per server (a Warning event once per distinct reason).
	asked   map[string]time.Time
	behind  map[string]bool
	refused map[string]string
	last    *metav1.Time
}

func newReloader(r record.EventRecorder) *reloader {
	return &reloader{recorder: r, asked: map[string]time.Time{}, behind: map[string]bool{}, refused: map[string]string{}}
}

// pass returns what status.config says; nil when nothing is known yet.
func (r *reloader) pass(ctx context.Context, sys *dataplane.Client, c *v1alpha1.NATSCluster, members []string, want map[string]string) *v1alpha1.ConfigReloadStatus {
	if len(want) == 0 {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	running, err := sys.Configs(rctx, len(members))
	cancel()
	if err != nil {
		return nil
	}
	st := &v1alpha1.ConfigReloadStatus{LastReload: r.last}
	for _, srv := range running {
		digest, ok := want[srv.Name]
		if !ok || !slices.Contains(members, srv.Name) {
			continue // leaving, or not yet described
		}
		if srv.Digest == digest {
			st.Current = append(st.Current, srv.Name)
			if r.behind[srv.Name] {
				delete(r.behind, srv.Name)
				delete(r.refused, srv.Name)
				now := metav1.Now()
				r.last, st.LastReload = &now, &now
				r.recorder.Eventf(c, corev1.EventTypeNormal, "ConfigReloaded", "%s runs the new configuration, loaded %s without a restart", srv.Name, srv.LoadedAt.Format(time.RFC3339))
			}
			continue
		}
		st.Pending = append(st.Pending, srv.Name)
		r.behind[srv.Name] = true
		if time.Since(r.asked[srv.Name]) < reloadEvery {
			continue
		}
		r.asked[srv.Name] = time.Now()
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := sys.Reload(rctx, srv.ID)
		cancel()
		if err == nil {
			continue
		}
		msg := fmt.Sprintf("%s: %v", srv.Name, err)
		if r.refused[srv.Name] != msg {
			r.refused[srv.Name] = msg
			r.recorder.Event(c, corev1.EventTypeWarning, "ConfigReloadFailed", msg)
		}
	}
	for _, name := range st.Pending {
		if msg := r.refused[name]; msg != "" {
			st.Error = msg
		}
	}
	slices.Sort(st.Current)
	slices.Sort(st.Pending)
	return st
}
