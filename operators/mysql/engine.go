package mysql

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/operators/mysql/mycnf"
	"github.com/stowage/stowage/pkg/cluster"
	"github.com/stowage/stowage/pkg/workload"
)

const (
	engineName = "mysql"
	port       = 3306
	// configPath is included by the my.cnf of both official images.
	configPath = "/etc/mysql/conf.d"
	configFile = "stowage.cnf"
	// userID is the mysql user of the official mysql and mariadb images.
	userID = 999
	// serverIDBase keeps server ids clear of 0, which disables replication.
	serverIDBase = 1000
)

// Keys of the credentials Secret.
const (
	KeyRootPassword        = "root-password"
	KeyOperatorPassword    = "operator-password"
	KeyReplicationPassword = "replication-password"
	KeyMonitorPassword     = "monitor-password"
)

// Options are the manager's settings for MySQLClusters.
type Options struct {
	// MySQLImage and MariaDBImage are used when a cluster names no image.
	MySQLImage   string
	MariaDBImage string
}

// DefaultOptions uses the official images.
func DefaultOptions() Options {
	return Options{MySQLImage: "mysql:8.4", MariaDBImage: "mariadb:10.11"}
}

// Engine describes MySQLClusters to the shared reconciler and, through its Supervisors
// (set by Setup), runs each cluster's data-plane manager: replication, failover,
// switchover. The envtest tier runs no server and hides the data plane.
type Engine struct {
	cluster.Identity
	Options Options
	// Supervisors are the data-plane managers; their registry serves the rest of
	// cluster.DataPlane (Forget, Primary, SyncedAt, Vacate).
	*Supervisors
}

// NewEngine describes MySQLClusters with the given options.
func NewEngine(opts Options) Engine {
	return Engine{
		Identity: cluster.Identity{EngineName: engineName, Kind: "MySQLCluster", New: func() v1alpha1.Cluster { return &v1alpha1.MySQLCluster{} }},
		Options:  opts,
	}
}

// Blueprint describes a MySQLCluster's members.
func (e Engine) Blueprint(obj v1alpha1.Cluster) (workload.Blueprint, error) {
	c, ok := obj.(*v1alpha1.MySQLCluster)
	if !ok {
		return workload.Blueprint{}, fmt.Errorf("mysql engine got a %T", obj)
	}
	flavor := c.Spec.Flavor
	if flavor == "" {
		flavor = v1alpha1.FlavorMySQL
	}
	bp := workload.NewBlueprint(engineName, e.GroupVersionKind(), c)
	if bp.Image == "" {
		bp.Image = e.Options.MySQLImage
		if flavor == v1alpha1.FlavorMariaDB {
			bp.Image = e.Options.MariaDBImage
		}
	}
	bp.HasPrimary = true
	bp.DataPath = mycnf.DataPath
	bp.ConfigPath = configPath
	bp.UserID = userID
	bp.Config = map[string]string{configFile: mycnf.Render(flavor, c.Spec.Parameters)}
	bp.CredentialKeys = []string{KeyRootPassword, KeyOperatorPassword, KeyReplicationPassword, KeyMonitorPassword}
	bp.ClientPorts = []corev1.ServicePort{{Name: "mysql", Port: port, TargetPort: intstr.FromString("mysql"), Protocol: corev1.ProtocolTCP}}
	bp.Container = container(bp, flavor)
	return bp, nil
}

func container(bp workload.Blueprint, flavor v1alpha1.MySQLFlavor) workload.Container {
	server, admin, rootEnv := "mysqld", "mysqladmin", "MYSQL_ROOT_PASSWORD"
	if flavor == v1alpha1.FlavorMariaDB {
		server, admin, rootEnv = "mariadbd", "mariadb-admin", "MARIADB_ROOT_PASSWORD"
	}
	// The server id comes from the ordinal, which only the running pod knows; the
	// image's own entrypoint still initialises the data directory.
	start := fmt.Sprintf(`exec docker-entrypoint.sh %s --server-id=$((%d + ${POD_NAME##*-})) --report-host="${POD_NAME}.${HEADLESS_SERVICE}.${POD_NAMESPACE}.svc"`,
		server, serverIDBase)
	return workload.Container{
		Command: []string{"/bin/sh", "-c", start},
		Env:     []corev1.EnvVar{bp.SecretEnv(rootEnv, KeyRootPassword)},
		Ports:   []corev1.ContainerPort{{Name: "mysql", ContainerPort: port, Protocol: corev1.ProtocolTCP}},
		// Initialising a large data directory or replaying a crash takes a while.
		StartupProbe:  workload.TCPProbe(port, 5, 120),
		LivenessProbe: workload.TCPProbe(port, 10, 6),
		// ping succeeds as soon as the server answers, whatever the credentials.
		ReadinessProbe: workload.ExecProbe(5, 3, admin, "ping", "--host=127.0.0.1", "--connect-timeout=2"),
	}
}
