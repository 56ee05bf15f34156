package nats

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/pkg/cluster"
	"github.com/stowage/stowage/pkg/workload"
)

const (
	engineName  = "nats"
	clientPort  = 4222
	clusterPort = 6222
	monitorPort = 8222
	dataPath    = "/data"
	configPath  = "/etc/nats"
	configFile  = "nats-server.conf"
	userID      = 1000

	// ClientUser is the user applications authenticate as, in the APP account (with
	// JetStream).
	ClientUser = "stowage"
	// SystemUser is the operator's user in the system account: it reads JetStream's
	// meta group and removes departing servers from it.
	SystemUser = "stowage-system"
	routeUser  = "route"
	// Accounts: applications' and the system's.
	appAccount    = "APP"
	systemAccount = "SYS"
	// pidFile lets the preStop hook signal the server into lame-duck mode.
	pidFile = "/run/stowage/nats.pid"
)

// Keys of the credentials Secret.
const (
	KeyPassword       = "password"
	KeyRoutePassword  = "route-password"
	KeySystemPassword = "system-password"
)

// Options are the manager's settings for NATSClusters.
type Options struct {
	// Image is used when a cluster names no image.
	Image string
}

// DefaultOptions uses the official image.
func DefaultOptions() Options { return Options{Image: "nats:2"} }

// Engine describes NATSClusters to the shared reconciler and, through its Supervisors
// (set by Setup), watches JetStream: scaling and restarts wait for it, departing
// servers leave the meta group. The envtest tier runs no server and hides the data
// plane.
type Engine struct {
	cluster.Identity
	Options Options
	*Supervisors
}

// NewEngine describes NATSClusters with the given options.
func NewEngine(opts Options) Engine {
	return Engine{
		Identity: cluster.Identity{EngineName: engineName, Kind: "NATSCluster", New: func() v1alpha1.Cluster { return &v1alpha1.NATSCluster{} }},
		Options:  opts,
	}
}

// Blueprint describes a NATSCluster's members.
func (e Engine) Blueprint(obj v1alpha1.Cluster) (workload.Blueprint, error) {
	c, ok := obj.(*v1alpha1.NATSCluster)
	if !ok {
		return workload.Blueprint{}, fmt.Errorf("nats engine got a %T", obj)
	}
	bp := workload.NewBlueprint(engineName, e.GroupVersionKind(), c)
	if bp.Image == "" {
		bp.Image = e.Options.Image
	}
	// Members must find each other before JetStream's meta group can elect a leader.
	bp.ParallelStart = true
	bp.DataPath = dataPath
	bp.ConfigPath = configPath
	bp.UserID = userID
	if err := checkRemotes(c); err != nil {
		return workload.Blueprint{}, fmt.Errorf("%w: %v", cluster.ErrConfigInvalid, err)
	}
	conf := serverConf(c)
	if err := checkServerConf(conf); err != nil {
		return workload.Blueprint{}, fmt.Errorf("%w: nats-server.conf: %v", cluster.ErrConfigInvalid, err)
	}
	bp.Config = map[string]string{configFile: conf.render()}
	// Routes and the reloadable parameters reach running servers by a reload (the
	// data plane asks each server to reload once it has the new file); only the rest
	// restarts members.
	bp.RestartConfig = map[string]string{configFile: conf.restartPart().render()}
	bp.CredentialKeys = []string{KeyPassword, KeyRoutePassword, KeySystemPassword}
	bp.ClientPorts = []corev1.ServicePort{{Name: "client", Port: clientPort, TargetPort: intstr.FromString("client"), Protocol: corev1.ProtocolTCP}}

	// nats-server parses an environment variable's value as a configuration value:
	// a password of digits would become a number (and crash the server), one with a
	// space or comma a syntax error. The variables the configuration references hold
	// the Secret's value in quotes; Kubernetes expands $(…) inside the container.
	bp.CheckCredential = checkCredential
	var env []corev1.EnvVar
	env = append(env, quotedSecretEnv(bp, "NATS_PASSWORD", KeyPassword)...)
	env = append(env, quotedSecretEnv(bp, "NATS_ROUTE_PASSWORD", KeyRoutePassword)...)
	env = append(env, quotedSecretEnv(bp, "NATS_SYSTEM_PASSWORD", KeySystemPassword)...)
	// Route URLs carry the route password; Kubernetes expands $(NATS_ROUTE_PASSWORD_RAW)
	// inside the container, so the pod spec shows only the reference. Every member
	// gets the URL of every ordinal a cluster may have, and the configuration names
	// the current ones: scaling then changes only the file, which servers reload,
	// not the pod template, which would restart every member.
	for i := 0; i < v1alpha1.MaxReplicas; i++ {
		env = append(env, corev1.EnvVar{
			Name:  routeEnv(i),
			Value: fmt.Sprintf(`"nats://%s:$(NATS_ROUTE_PASSWORD_RAW)@%s:%d"`, routeUser, bp.Names().PodHost(i, c.Namespace), clusterPort),
		})
	}
	ports := []corev1.ContainerPort{
		{Name: "client", ContainerPort: clientPort, Protocol: corev1.ProtocolTCP},
		{Name: "cluster", ContainerPort: clusterPort, Protocol: corev1.ProtocolTCP},
		{Name: "monitor", ContainerPort: monitorPort, Protocol: corev1.ProtocolTCP},
	}
	if ln := c.Spec.LeafNodes; ln != nil {
		if ln.Port != nil {
			bp.CredentialKeys = append(bp.CredentialKeys, KeyLeafPassword)
			env = append(env, quotedSecretEnv(bp, leafPasswordEnv, KeyLeafPassword)...)
			ports = append(ports, corev1.ContainerPort{Name: "leafnodes", ContainerPort: *ln.Port, Protocol: corev1.ProtocolTCP})
			bp.ClientPorts = append(bp.ClientPorts, corev1.ServicePort{Name: "leafnodes", Port: *ln.Port, TargetPort: intstr.FromString("leafnodes"), Protocol: corev1.ProtocolTCP})
		}
		_, remoteEnv := leafNodesBlock(c)
		env = append(env, remoteEnv...)
	}
	if gw := c.Spec.Gateway; gw != nil {
		bp.CredentialKeys = append(bp.CredentialKeys, KeyGatewayPassword)
		env = append(env, quotedSecretEnv(bp, gatewayPasswordEnv, KeyGatewayPassword)...)
		ports = append(ports, corev1.ContainerPort{Name: "gateway", ContainerPort: gatewayPort(gw), Protocol: corev1.ProtocolTCP})
		_, remoteEnv := gatewayBlock(c)
		env = append(env, remoteEnv...)
	}
	// The JetStream-aware health endpoints: ready once this server has caught up,
	// alive as long as JetStream answers.
	readyPath, livePath := "/healthz", "/healthz"
	if c.JetStreamEnabled() {
		readyPath, livePath = "/healthz?js-server-only=true", "/healthz?js-enabled-only=true"
	}
	bp.Container = workload.Container{
		Args:  []string{"--config", path.Join(configPath, configFile)},
		Env:   env,
		Ports: ports,
		// Lame-duck mode: the server stops taking clients, spreads their reconnects and
		// hands its JetStream leaderships over before it exits; it then ignores the
		// SIGTERM that follows the hook. The path is where both the official image and
		// ours keep the binary (no shell, no PATH in either).
		PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{
			Command: []string{"/nats-server", "--signal", "ldm=" + pidFile},
		}},
		StartupProbe:   workload.HTTPProbe(monitorPort, livePath, 2, 90),
		LivenessProbe:  workload.HTTPProbe(monitorPort, livePath, 10, 6),
		ReadinessProbe: workload.HTTPProbe(monitorPort, readyPath, 5, 3),
	}
	return bp, nil
}

// appAccountBlock is the applications' account: their user, and JetStream when on.
func appAccountBlock(c *v1alpha1.NATSCluster) block {
	b := block{{"users", []any{block{{"user", ClientUser}, {"password", envRef("NATS_PASSWORD")}}}}}
	if c.JetStreamEnabled() {
		b = append(block{{"jetstream", "enabled"}}, b...)
	}
	return b
}

// quotedSecretEnv is a Secret key as <name>_RAW and, quoted for nats-server's
// parser, as <name>, which the configuration references.
func quotedSecretEnv(bp workload.Blueprint, name, key string) []corev1.EnvVar {
	return []corev1.EnvVar{bp.SecretEnv(name+"_RAW", key), {Name: name, Value: fmt.Sprintf(`"$(%s_RAW)"`, name)}}
}

func routeEnv(ordinal int) string { return fmt.Sprintf("NATS_ROUTE_%d", ordinal) }

// serverConf is nats-server.conf: the user's parameters first, then the blocks the
// operator manages (CRD validation keeps users from setting those keys).
func serverConf(c *v1alpha1.NATSCluster) block {
	conf := parameterEntries(c.Spec.Parameters, reloadableParameter)
	conf = append(conf,
		entry{"server_name", envRef("POD_NAME")},
		entry{"listen", fmt.Sprintf("0.0.0.0:%d", clientPort)},
		entry{"http", fmt.Sprintf("0.0.0.0:%d", monitorPort)},
		entry{"pid_file", pidFile},
		// A server leaving (pod deletion, scale-down, rollout) first stops taking new
		// clients and hands its JetStream leaderships over, within the pod's grace.
		entry{"lame_duck_duration", "30s"},
		entry{"lame_duck_grace_period", "10s"},
		entry{"accounts", block{
			{systemAccount, block{{"users", []any{block{{"user", SystemUser}, {"password", envRef("NATS_SYSTEM_PASSWORD")}}}}}},
			{appAccount, appAccountBlock(c)},
		}},
		entry{"system_account", systemAccount},
	)
	// A single server has no peers; a cluster block without routes would make
	// JetStream wait for a meta group that can never form.
	if c.Spec.Replicas > 1 {
		routes := make([]any, c.Spec.Replicas)
		for i := range routes {
			routes[i] = envRef(routeEnv(i))
		}
		conf = append(conf, entry{"cluster", block{
			{"name", c.Name},
			{"listen", fmt.Sprintf("0.0.0.0:%d", clusterPort)},
			{"authorization", block{{"user", routeUser}, {"password", envRef("NATS_ROUTE_PASSWORD")}}},
			{"routes", reloadable{routes}},
		}})
	}
	if c.Spec.LeafNodes != nil {
		if ln, _ := leafNodesBlock(c); len(ln) > 0 {
			conf = append(conf, entry{"leafnodes", ln})
		}
	}
	if c.Spec.Gateway != nil {
		gw, _ := gatewayBlock(c)
		conf = append(conf, entry{"gateway", gw})
	}
	if c.JetStreamEnabled() {
		js := block{
			{"store_dir", path.Join(dataPath, "jetstream")},
			// Leave a tenth of the volume for the filesystem and compaction.
			{"max_file_store", c.Spec.Storage.Size.Value() / 10 * 9},
		}
		if m := c.Spec.JetStream.MaxMemory; m != nil {
			js = append(js, entry{"max_memory_store", m.Value()})
		}
		conf = append(conf, entry{"jetstream", js})
	}
	return conf
}

// checkCredential refuses a password of a user-supplied Secret that cannot be put in
// quotes in nats-server's configuration, or (the route password) in a route URL.
func checkCredential(key string, value []byte) error {
	v := string(value)
	if strings.ContainsAny(v, "\"\\\n") {
		return fmt.Errorf("key %s must not contain a double quote, a backslash or a newline", key)
	}
	if key == KeyRoutePassword && url.UserPassword(routeUser, v).String() != routeUser+":"+v {
		return fmt.Errorf("key %s must be usable in a URL as it is (letters, digits and -._~ are)", key)
	}
	return nil
}
