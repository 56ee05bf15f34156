package cluster_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/clustertest"
	"github.com/stowage/stowage/internal/testenv"
	"github.com/stowage/stowage/operators/mysql"
	"github.com/stowage/stowage/operators/redis"
)

var env testenv.Shared

func TestMain(m *testing.M) { os.Exit(env.Run(m)) }

// TestEnvtestNameConflict: a RedisCluster named like an existing MySQLCluster must not
// take over its objects; it reports the conflict instead.
func TestEnvtestNameConflict(t *testing.T) {
	e := env.Get(t)
	ctx := context.Background()
	ns := e.Namespace(t)
	clustertest.StartManager(t, e, mysql.NewEngine(mysql.DefaultOptions()))
	clustertest.StartManager(t, e, redis.NewEngine(redis.DefaultOptions()))
	storage := v1alpha1.StorageSpec{Size: resource.MustParse("1Gi")}
	my := &v1alpha1.MySQLCluster{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec: v1alpha1.MySQLClusterSpec{Flavor: v1alpha1.FlavorMariaDB, WorkloadSpec: v1alpha1.WorkloadSpec{Replicas: 1, Storage: storage}}}
	if err := e.Client.Create(ctx, my); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the MySQLCluster's objects exist", func() error {
		return e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop-config"}, &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}})
	})
	rd := &v1alpha1.RedisCluster{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: ns},
		Spec: v1alpha1.RedisClusterSpec{WorkloadSpec: v1alpha1.WorkloadSpec{Replicas: 1, Storage: storage}}}
	if err := e.Client.Create(ctx, rd); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 30*time.Second, "the RedisCluster reports the conflict", func() error {
		if err := e.Client.Get(ctx, client.ObjectKeyFromObject(rd), rd); err != nil {
			return err
		}
		d := meta.FindStatusCondition(rd.Status.Conditions, v1alpha1.ConditionDegraded)
		if d == nil || d.Reason != "NameConflict" {
			return fmt.Errorf("degraded %+v", d)
		}
		return nil
	})
	var secret = &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}}
	if err := e.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "shop-credentials"}, secret); err != nil {
		t.Fatal(err)
	}
	if secret.Labels["app.kubernetes.io/name"] != "mysql" {
		t.Errorf("the MySQLCluster's Secret was taken over: labels %v", secret.Labels)
	}
}
