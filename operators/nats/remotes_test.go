package nats

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/stowage/stowage/api/v1alpha1"
)

func connectedCluster() *v1alpha1.NATSCluster {
	c := natsCluster(3, true, nil)
	c.Spec.LeafNodes = &v1alpha1.LeafNodesSpec{Port: ptr.To[int32](7422), Remotes: []v1alpha1.RemoteServer{
		{URLs: []string{"nats-leaf://hub-0.example:7422", "tls://hub-1.example:7422"}, CredentialsSecretRef: &corev1.LocalObjectReference{Name: "hub"}},
		{URLs: []string{"nats-leaf://open.example:7422"}},
	}}
	c.Spec.Gateway = &v1alpha1.GatewaySpec{Gateways: []v1alpha1.RemoteGateway{
		{Name: "east", RemoteServer: v1alpha1.RemoteServer{URLs: []string{"nats://east.example:7222"}, CredentialsSecretRef: &corev1.LocalObjectReference{Name: "east-gw"}}},
	}}
	return c
}

// TestLeafNodesAndGateway renders leaf nodes and a gateway, loads the file with
// nats-server's parser in the environment the pod gets, and checks what the server
// would run: remote credentials reach the URLs through the environment only.
func TestLeafNodesAndGateway(t *testing.T) {
	bp := blueprint(t, connectedCluster())
	secrets := map[string]map[string][]byte{
		bp.SecretName: {KeyPassword: []byte("p"), KeyRoutePassword: []byte("r"), KeySystemPassword: []byte("s"),
			KeyLeafPassword: []byte("leaf-secret"), KeyGatewayPassword: []byte("gw-secret")},
		"hub":     {KeyRemoteUsername: []byte("edge"), KeyRemotePassword: []byte("hub-secret")},
		"east-gw": {KeyRemoteUsername: []byte("gateway"), KeyRemotePassword: []byte("east-secret")},
	}
	env, err := memberEnv(bp, func(name string) (map[string][]byte, error) { return secrets[name], nil }, "bus-0")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	rendered := bp.Config[configFile]
	if strings.Contains(rendered, "secret") {
		t.Fatalf("a credential is in the ConfigMap:\n%s", rendered)
	}
	for _, e := range bp.Container.Env {
		if strings.Contains(e.Value, "secret") {
			t.Fatalf("a credential is in the pod spec: %s=%s", e.Name, e.Value)
		}
	}
	path := filepath.Join(t.TempDir(), configFile)
	if err := os.WriteFile(path, []byte(rendered), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("nats-server refuses the rendered config: %v\n%s", err, rendered)
	}
	ln := opts.LeafNode
	if ln.Port != 7422 || len(ln.Users) != 1 || ln.Users[0].Username != leafUser || ln.Users[0].Password != "leaf-secret" || ln.Users[0].Account.Name != appAccount {
		t.Errorf("leafnodes listener %+v users %+v", ln.Port, ln.Users)
	}
	if len(ln.Remotes) != 2 || len(ln.Remotes[0].URLs) != 2 || ln.Remotes[0].URLs[1].String() != "tls://edge:hub-secret@hub-1.example:7422" ||
		ln.Remotes[0].LocalAccount != appAccount || ln.Remotes[1].URLs[0].User != nil {
		t.Errorf("leafnode remotes %+v", ln.Remotes)
	}
	gw := opts.Gateway
	if gw.Name != "bus" || gw.Port != 7222 || gw.Username != gatewayUser || gw.Password != "gw-secret" ||
		len(gw.Gateways) != 1 || gw.Gateways[0].Name != "east" || gw.Gateways[0].URLs[0].String() != "nats://gateway:east-secret@east.example:7222" {
		t.Errorf("gateway %+v remotes %+v", gw, gw.Gateways)
	}
	var ports []string
	for _, p := range bp.Container.Ports {
		ports = append(ports, p.Name)
	}
	if !slices.Contains(ports, "leafnodes") || !slices.Contains(ports, "gateway") || len(bp.ClientPorts) != 2 {
		t.Errorf("container ports %v, service ports %v", ports, bp.ClientPorts)
	}
	if !slices.Contains(bp.CredentialKeys, KeyLeafPassword) || !slices.Contains(bp.CredentialKeys, KeyGatewayPassword) {
		t.Errorf("credential keys %v", bp.CredentialKeys)
	}
}

func TestRemoteURLWithCredentialsIsRefused(t *testing.T) {
	c := connectedCluster()
	c.Spec.LeafNodes.Remotes[1].URLs = []string{"nats-leaf://u:p@open.example:7422"}
	if _, err := NewEngine(DefaultOptions()).Blueprint(c); err == nil || !strings.Contains(err.Error(), "spec.leafNodes.remotes[1].urls[0]") {
		t.Errorf("got %v", err)
	}
}
