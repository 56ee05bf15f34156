//go:build e2e

// Package e2e runs against the kind cluster `make up` creates (KUBECONFIG), with the
// three samples applied in the stowage-samples namespace. `make e2e` brings the
// cluster up, runs this suite and brings it down.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/config"

	"github.com/stowage/stowage/api/v1alpha1"
)

const samplesNS = "stowage-samples"

var (
	k8s     client.Client
	timings = &timingTable{}
)

func TestMain(m *testing.M) {
	if os.Getenv("KUBECONFIG") == "" {
		fmt.Fprintln(os.Stderr, "e2e: KUBECONFIG is not set; run `make e2e`, which brings the kind cluster up")
		os.Exit(1)
	}
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1alpha1.AddToScheme(scheme)
	cfg, err := config.GetConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	if err := startClientPod(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	code := m.Run()
	timings.print()
	os.Exit(code)
}

// timingTable collects the figures printed at the end of the suite, together with the
// set-up timings cluster-up.sh recorded.
type timingTable struct {
	mu   sync.Mutex
	rows [][2]string
}

func (t *timingTable) add(name string, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rows = append(t.rows, [2]string{name, d.Round(100 * time.Millisecond).String()})
}

func (t *timingTable) print() {
	var rows [][2]string
	if raw, err := os.ReadFile(os.Getenv("STOWAGE_TIMINGS")); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(raw))
		for sc.Scan() {
			if name, d, ok := strings.Cut(sc.Text(), "\t"); ok {
				rows = append(rows, [2]string{name, d})
			}
		}
	}
	rows = append(rows, t.rows...)
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	fmt.Printf("\n| %-*s | %10s |\n|%s|%s|\n", width, "e2e timing", "duration", strings.Repeat("-", width+2), strings.Repeat("-", 12))
	for _, r := range rows {
		fmt.Printf("| %-*s | %10s |\n", width, r[0], r[1])
	}
}

func kubectl(ctx context.Context, args ...string) (string, error) {
	bin := os.Getenv("KUBECTL")
	if bin == "" {
		bin = "kubectl"
	}
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

// inPod runs a shell script in a member's engine container, whose environment holds
// the credentials, so they never appear on a command line.
func inPod(ctx context.Context, pod, container, script string) (string, error) {
	return kubectl(ctx, "-n", samplesNS, "exec", pod, "-c", container, "--", "sh", "-c", script)
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() error, poll ...time.Duration) {
	t.Helper()
	interval := time.Second
	if len(poll) > 0 {
		interval = poll[0]
	}
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(interval)
	}
	t.Fatalf("%s: not true after %s: %v", what, timeout, err)
}

func podsOf(ctx context.Context, engine, cluster string) ([]corev1.Pod, error) {
	var pods corev1.PodList
	err := k8s.List(ctx, &pods, client.InNamespace(samplesNS), client.MatchingLabels{
		"app.kubernetes.io/name": engine, "app.kubernetes.io/instance": cluster,
	})
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	return pods.Items, err
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue && p.DeletionTimestamp.IsZero()
		}
	}
	return false
}
