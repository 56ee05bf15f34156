package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
)

// kube is the connection every command but `events watch` uses: the usual kubeconfig
// flags (--kubeconfig, --context, --namespace/-n, …) from client-go's clientcmd.
type kube struct {
	loading   *clientcmd.ClientConfigLoadingRules
	overrides *clientcmd.ConfigOverrides
	// connect is replaced in tests.
	connect func() (client.Client, string, error)
}

func newKube() *kube {
	k := &kube{loading: clientcmd.NewDefaultClientConfigLoadingRules(), overrides: &clientcmd.ConfigOverrides{}}
	k.connect = k.dial
	return k
}

// bind adds the kubeconfig flags to a command (and its children).
func (k *kube) bind(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&k.loading.ExplicitPath, "kubeconfig", "", "path to the kubeconfig file")
	names := clientcmd.RecommendedConfigOverrideFlags("")
	clientcmd.BindOverrideFlags(k.overrides, f, names)
}

func (k *kube) dial() (client.Client, string, error) {
	cfg := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(k.loading, k.overrides)
	rest, err := cfg.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("reading the kubeconfig: %w", err)
	}
	ns, _, err := cfg.Namespace()
	if err != nil {
		return nil, "", err
	}
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, "", err
	}
	c, err := client.New(rest, client.Options{Scheme: scheme})
	return c, ns, err
}

// clusterKinds are the kinds a cluster name may be of, with the names users type.
var clusterKinds = []struct {
	kind, alias string
	obj         func() v1alpha1.Cluster
}{
	{"MySQLCluster", "mysql", func() v1alpha1.Cluster { return &v1alpha1.MySQLCluster{} }},
	{"RedisCluster", "redis", func() v1alpha1.Cluster { return &v1alpha1.RedisCluster{} }},
	{"NATSCluster", "nats", func() v1alpha1.Cluster { return &v1alpha1.NATSCluster{} }},
}

// findCluster looks a cluster up by name among the three kinds, or in the kind
// given (MySQLCluster or mysql, …). A name held by clusters of two kinds needs --kind.
func findCluster(ctx context.Context, c client.Client, ns, name, kind string) (v1alpha1.Cluster, string, error) {
	var found []v1alpha1.Cluster
	var kinds []string
	for _, k := range clusterKinds {
		if kind != "" && !strings.EqualFold(kind, k.kind) && !strings.EqualFold(kind, k.alias) {
			continue
		}
		obj := k.obj()
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		found, kinds = append(found, obj), append(kinds, k.kind)
	}
	switch {
	case kind != "" && len(kinds) == 0 && !knownKind(kind):
		return nil, "", fmt.Errorf("--kind %q: use mysql, redis or nats", kind)
	case len(found) == 0:
		return nil, "", fmt.Errorf("no cluster named %q in namespace %q (check the name, or -n)", name, ns)
	case len(found) > 1:
		return nil, "", fmt.Errorf("%q names a %s; choose one with --kind", name, strings.Join(kinds, " and a "))
	}
	return found[0], kinds[0], nil
}

func knownKind(kind string) bool {
	for _, k := range clusterKinds {
		if strings.EqualFold(kind, k.kind) || strings.EqualFold(kind, k.alias) {
			return true
		}
	}
	return false
}

// target is a cluster a command acts on, with the client and namespace that reach it.
type target struct {
	c       client.Client
	ns      string
	cluster v1alpha1.Cluster
	kind    string
}

// find connects and looks the named cluster up (see findCluster).
func (k *kube) find(ctx context.Context, name, kind string) (target, error) {
	c, ns, err := k.connect()
	if err != nil {
		return target{}, err
	}
	cl, clusterKind, err := findCluster(ctx, c, ns, name, kind)
	return target{c: c, ns: ns, cluster: cl, kind: clusterKind}, err
}
