package nats

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/internal/clustertest"
	"github.com/stowage/stowage/internal/testenv"
	"github.com/stowage/stowage/pkg/cluster"
	"github.com/stowage/stowage/pkg/workload"
)

// TestEnvtestInvalidConfigIsNeverApplied changes a running cluster's parameters to
// something nats-server refuses: the cluster reports Degraded with the reason
// ConfigurationInvalid and the parser's words, and the ConfigMap keeps the last good
// configuration, so no member restarts into a crash loop.
func TestEnvtestInvalidConfigIsNeverApplied(t *testing.T) {
	e := env.Get(t)
	ctx := context.Background()
	ns := e.Namespace(t)
	clustertest.StartManager(t, e, NewEngine(DefaultOptions()))
	c := natsCluster(3, true, map[string]string{"max_payload": "1048576"})
	c.Namespace, c.UID = ns, ""
	if err := e.Client.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{}
	key := client.ObjectKey{Namespace: ns, Name: workload.Names{Cluster: c.Name}.ConfigMap()}
	testenv.Eventually(t, time.Minute, "the ConfigMap", func() error { return e.Client.Get(ctx, key, cm) })
	good := cm.Data[configFile]

	if err := e.Client.Get(ctx, client.ObjectKeyFromObject(c), c); err != nil {
		t.Fatal(err)
	}
	c.Spec.Parameters["max_payload"] = "lots"
	if err := e.Client.Update(ctx, c); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, "Degraded: ConfigurationInvalid", func() error {
		got := &v1alpha1.NATSCluster{}
		if err := e.Client.Get(ctx, client.ObjectKeyFromObject(c), got); err != nil {
			return err
		}
		d := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionDegraded)
		if d == nil || d.Status != metav1.ConditionTrue || d.Reason != cluster.ReasonConfigInvalid || !strings.Contains(d.Message, "max_payload") {
			return fmt.Errorf("degraded condition %+v", d)
		}
		return nil
	})
	if err := e.Client.Get(ctx, key, cm); err != nil {
		t.Fatal(err)
	}
	if cm.Data[configFile] != good {
		t.Errorf("the refused configuration reached the ConfigMap:\n%s", cm.Data[configFile])
	}
}
