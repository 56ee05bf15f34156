package redis

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/clustertest"
	"github.com/stowage/stowage/internal/dbtest"
	"github.com/stowage/stowage/operators/redis/redisconf"
	"github.com/stowage/stowage/pkg/cluster"
	"github.com/stowage/stowage/pkg/supervise"
)

// TestEnvtestDataPlaneFailoverEvents runs the whole operator path against a real API
// server and three real redis-servers on loopback (clustertest.RunFailoverWithEvents).
func TestEnvtestDataPlaneFailoverEvents(t *testing.T) {
	dbtest.RequireRedis(t)
	e := env.Get(t)
	servers := dbtest.StartRedises(t, "srv", 3, redisconf.Render(v1alpha1.RedisPersistence{}, nil))
	var addrs []string
	for _, s := range servers {
		addrs = append(addrs, s.Addr())
	}
	clustertest.RunFailoverWithEvents(t, e, clustertest.FailoverCase{
		Engine: func(mgr ctrl.Manager, addrOf supervise.AddressFunc) (cluster.Engine, error) {
			engine := NewEngine(DefaultOptions())
			var err error
			engine.Supervisors, err = NewSupervisors(mgr, addrOf)
			return engine, err
		},
		Addrs:  addrs,
		Secret: map[string]string{KeyPassword: dbtest.RedisPassword},
		Cluster: func(meta metav1.ObjectMeta, w v1alpha1.WorkloadSpec) v1alpha1.Cluster {
			return &v1alpha1.RedisCluster{ObjectMeta: meta, Spec: v1alpha1.RedisClusterSpec{WorkloadSpec: w,
				Replication: v1alpha1.RedisReplicationSpec{
					HealthCheckInterval: &metav1.Duration{Duration: 250 * time.Millisecond},
					FailoverGrace:       &metav1.Duration{Duration: time.Second},
				}}}
		},
		Kill:    func(i int) { servers[i].Kill() },
		Restart: func(i int) { servers[i].Restart(t) },
		Replication: func(c v1alpha1.Cluster) (string, int, string, *v1alpha1.PrimaryChange) {
			r := c.(*v1alpha1.RedisCluster).Status.Replication
			if r == nil || len(r.Members) == 0 {
				return "", 0, "", nil
			}
			return r.State, len(r.Members), r.Members[0].Role, r.LastFailover
		},
	})
}
