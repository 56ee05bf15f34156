package redis

import (
	"fmt"
	"path"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/operators/redis/redisconf"
	"github.com/stowage/stowage/pkg/cluster"
	"github.com/stowage/stowage/pkg/workload"
)

const (
	engineName = "redis"
	port       = redisconf.Port
	configPath = "/etc/redis"
	configFile = "redis.conf"
	// userID is the redis user of the official image.
	userID = 999
)

// KeyPassword is the credentials Secret's key for requirepass and masterauth.
const KeyPassword = "password"

// Options are the manager's settings for RedisClusters.
type Options struct {
	// Image is used when a cluster names no image.
	Image string
}

// DefaultOptions uses the official image.
func DefaultOptions() Options { return Options{Image: "redis:7"} }

// Engine describes RedisClusters to the shared reconciler and, through its Supervisors
// (set by Setup), runs each cluster's data-plane manager: replication, failover,
// switchover. The envtest tier runs no server and hides the data plane.
type Engine struct {
	cluster.Identity
	Options Options
	// Supervisors are the data-plane managers; their registry serves the rest of
	// cluster.DataPlane (Forget, Primary, SyncedAt, Vacate).
	*Supervisors
}

// NewEngine describes RedisClusters with the given options.
func NewEngine(opts Options) Engine {
	return Engine{
		Identity: cluster.Identity{EngineName: engineName, Kind: "RedisCluster", New: func() v1alpha1.Cluster { return &v1alpha1.RedisCluster{} }},
		Options:  opts,
	}
}

// Blueprint describes a RedisCluster's members.
func (e Engine) Blueprint(obj v1alpha1.Cluster) (workload.Blueprint, error) {
	c, ok := obj.(*v1alpha1.RedisCluster)
	if !ok {
		return workload.Blueprint{}, fmt.Errorf("redis engine got a %T", obj)
	}
	bp := workload.NewBlueprint(engineName, e.GroupVersionKind(), c)
	if bp.Image == "" {
		bp.Image = e.Options.Image
	}
	bp.HasPrimary = true
	bp.DataPath = redisconf.DataPath
	bp.ConfigPath = configPath
	bp.UserID = userID
	bp.Config = map[string]string{configFile: redisconf.Render(c.Spec.Persistence, c.Spec.Parameters)}
	bp.CredentialKeys = []string{KeyPassword}
	bp.ClientPorts = []corev1.ServicePort{{Name: "redis", Port: port, TargetPort: intstr.FromString("redis"), Protocol: corev1.ProtocolTCP}}

	// The password reaches redis through an include file written from the
	// environment, never through argv, where any process on the node could read it.
	start := fmt.Sprintf(`umask 077 && printf 'requirepass "%%s"\nmasterauth "%%s"\n' "$REDIS_PASSWORD" "$REDIS_PASSWORD" > %s && exec redis-server %s`,
		redisconf.AuthFile, path.Join(configPath, configFile))
	bp.Container = workload.Container{
		Command: []string{"/bin/sh", "-c", start},
		Env: []corev1.EnvVar{
			bp.SecretEnv("REDIS_PASSWORD", KeyPassword),
			// redis-cli reads the password from REDISCLI_AUTH, which keeps it out of
			// the probe's command line too.
			bp.SecretEnv("REDISCLI_AUTH", KeyPassword),
		},
		Ports:          []corev1.ContainerPort{{Name: "redis", ContainerPort: port, Protocol: corev1.ProtocolTCP}},
		StartupProbe:   workload.TCPProbe(port, 5, 60),
		LivenessProbe:  workload.TCPProbe(port, 10, 6),
		ReadinessProbe: workload.ExecProbe(5, 3, "/bin/sh", "-c", "redis-cli -h 127.0.0.1 -p 6379 ping | grep -q PONG"),
	}
	return bp, nil
}
