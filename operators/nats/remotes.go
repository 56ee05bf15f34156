package nats

import (
	"fmt"
	"net/url"

	corev1 "k8s.io/api/core/v1"

	"github.com/stowage/stowage/api/v1alpha1"
)

// Users other servers authenticate as: leaf nodes connecting to this cluster, and
// the other clusters' gateways.
const (
	leafUser    = "leaf"
	gatewayUser = "gateway"
)

// Keys of the credentials Secret for the users above (only when enabled), and of a
// remote's credentials Secret.
const (
	KeyLeafPassword    = "leaf-password"
	KeyGatewayPassword = "gateway-password"
	KeyRemoteUsername  = "username"
	KeyRemotePassword  = "password"
)

const (
	leafPasswordEnv    = "NATS_LEAF_PASSWORD"
	gatewayPasswordEnv = "NATS_GATEWAY_PASSWORD"
	defaultGatewayPort = 7222
)

// remote is a RemoteServer as the configuration and the pod see it: URLs, as
// environment references when they carry credentials, and the variables behind them.
type remote struct {
	urls []any
	env  []corev1.EnvVar
}

// remoteURLs puts the remote's credentials into each URL through environment
// variables Kubernetes expands in the container, so neither the ConfigMap nor the pod
// spec holds them. prefix names the variables (NATS_LEAF_0, NATS_GATEWAY_1).
// A URL that does not parse is passed as it is: checkRemotes refuses it first.
func remoteURLs(r v1alpha1.RemoteServer, prefix string) remote {
	var out remote
	if r.CredentialsSecretRef != nil {
		out.env = append(out.env,
			secretKeyEnv(prefix+"_USER", r.CredentialsSecretRef.Name, KeyRemoteUsername),
			secretKeyEnv(prefix+"_PASSWORD", r.CredentialsSecretRef.Name, KeyRemotePassword))
	}
	for j, raw := range r.URLs {
		u, err := url.Parse(raw)
		if err != nil || r.CredentialsSecretRef == nil {
			out.urls = append(out.urls, raw)
			continue
		}
		name := fmt.Sprintf("%s_URL_%d", prefix, j)
		out.env = append(out.env, corev1.EnvVar{Name: name,
			Value: fmt.Sprintf(`"%s://$(%s_USER):$(%s_PASSWORD)@%s%s"`, u.Scheme, prefix, prefix, u.Host, u.Path)})
		out.urls = append(out.urls, envRef(name))
	}
	return out
}

// checkRemotes refuses remote URLs the configuration cannot use (admission checks
// their shape already; this is the last line).
func checkRemotes(c *v1alpha1.NATSCluster) error {
	check := func(field string, r v1alpha1.RemoteServer) error {
		for j, raw := range r.URLs {
			if u, err := url.Parse(raw); err != nil || u.Host == "" || u.User != nil {
				return fmt.Errorf("%s.urls[%d]: %q is not a host:port URL without credentials", field, j, raw)
			}
		}
		return nil
	}
	if ln := c.Spec.LeafNodes; ln != nil {
		for i, r := range ln.Remotes {
			if err := check(fmt.Sprintf("spec.leafNodes.remotes[%d]", i), r); err != nil {
				return err
			}
		}
	}
	if gw := c.Spec.Gateway; gw != nil {
		for i, g := range gw.Gateways {
			if err := check(fmt.Sprintf("spec.gateway.gateways[%d]", i), g.RemoteServer); err != nil {
				return err
			}
		}
	}
	return nil
}

func secretKeyEnv(name, secret, key string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: secret}, Key: key}}}
}

// leafNodesBlock is the leafnodes section and the environment its remotes need.
func leafNodesBlock(c *v1alpha1.NATSCluster) (block, []corev1.EnvVar) {
	ln := c.Spec.LeafNodes
	var b block
	var env []corev1.EnvVar
	if ln.Port != nil {
		b = append(b, entry{"port", int64(*ln.Port)},
			entry{"authorization", block{{"users", []any{block{{"user", leafUser}, {"password", envRef(leafPasswordEnv)}, {"account", appAccount}}}}}})
	}
	var remotes []any
	for i, r := range ln.Remotes {
		rem := remoteURLs(r, fmt.Sprintf("NATS_LEAF_%d", i))
		env = append(env, rem.env...)
		remotes = append(remotes, block{{"urls", rem.urls}, {"account", appAccount}})
	}
	if len(remotes) > 0 {
		b = append(b, entry{"remotes", remotes})
	}
	return b, env
}

// gatewayBlock is the gateway section and the environment its remotes need.
func gatewayBlock(c *v1alpha1.NATSCluster) (block, []corev1.EnvVar) {
	gw := c.Spec.Gateway
	b := block{
		{"name", c.Name},
		{"port", int64(gatewayPort(gw))},
		{"authorization", block{{"user", gatewayUser}, {"password", envRef(gatewayPasswordEnv)}}},
	}
	var env []corev1.EnvVar
	var gateways []any
	for i, g := range gw.Gateways {
		rem := remoteURLs(g.RemoteServer, fmt.Sprintf("NATS_GATEWAY_%d", i))
		env = append(env, rem.env...)
		gateways = append(gateways, block{{"name", g.Name}, {"urls", rem.urls}})
	}
	if len(gateways) > 0 {
		b = append(b, entry{"gateways", gateways})
	}
	return b, env
}

func gatewayPort(gw *v1alpha1.GatewaySpec) int32 {
	if gw.Port == 0 {
		return defaultGatewayPort
	}
	return gw.Port
}
