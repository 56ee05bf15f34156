// Package testenv runs the envtest tier: a real kube-apiserver and etcd with the
// Stowage CRDs installed, plus a real kube-controller-manager running the StatefulSet,
// Job, garbage-collector, PVC-protection and ServiceAccount controllers, so that pods,
// jobs, PVCs and garbage collection are real. There is no kubelet: tests mark pods ready
// themselves (MarkMembersReady).
//
// The binaries come from hack/k8s-binaries.sh through KUBEBUILDER_ASSETS; `make test`
// and `make envtest` set it.
package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/stowage/stowage/api/v1alpha1"
)

// Env is a running API server with the Stowage CRDs.
type Env struct {
	Config *rest.Config
	Client client.Client
	Scheme *k8sruntime.Scheme

	env *envtest.Environment
	kcm *exec.Cmd
	dir string
}

// Shared starts one Env per test binary on first use and stops it after the tests,
// so that `go test -short` never starts an API server.
type Shared struct {
	once sync.Once
	env  *Env
	err  error
}

// Get returns the package's Env, starting it if needed; it skips the test under -short.
func (s *Shared) Get(t *testing.T) *Env {
	t.Helper()
	if testing.Short() {
		t.Skip("envtest: skipped with -short")
	}
	s.once.Do(func() { s.env, s.err = start() })
	if s.err != nil {
		t.Fatalf("envtest: %v", s.err)
	}
	return s.env
}

// Run runs the tests and stops the Env afterwards; call it from TestMain.
func (s *Shared) Run(m *testing.M) int {
	code := m.Run()
	if s.env != nil {
		if err := s.env.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "envtest: stopping:", err)
		}
	}
	return code
}

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func start() (*Env, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return nil, fmt.Errorf("KUBEBUILDER_ASSETS is not set: run `make envtest` (it builds kube-apiserver and etcd into ~/.cache/stowage) or `go test -short` for unit tests only")
	}
	level := zapcore.ErrorLevel
	if os.Getenv("STOWAGE_TEST_VERBOSE") != "" {
		level = zapcore.DebugLevel
	}
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true), zap.Level(level), zap.StacktraceLevel(zapcore.PanicLevel)))

	scheme := k8sruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	e := &Env{Scheme: scheme, env: &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}}
	cfg, err := e.env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting kube-apiserver and etcd from %s: %w", assets, err)
	}
	e.Config = cfg
	if e.Client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		_ = e.env.Stop()
		return nil, err
	}
	if err := e.startControllerManager(assets); err != nil {
		_ = e.env.Stop()
		return nil, err
	}
	return e, nil
}

// startControllerManager runs the controllers that make StatefulSets, Jobs, PVCs and
// owner references behave as in a real cluster.
func (e *Env) startControllerManager(assets string) error {
	bin := filepath.Join(assets, "kube-controller-manager")
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("kube-controller-manager is missing from %s (hack/k8s-binaries.sh builds it): %w", assets, err)
	}
	user, err := e.env.ControlPlane.AddUser(envtest.User{Name: "kcm", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("adding a kube-controller-manager user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return err
	}
	if e.dir, err = os.MkdirTemp("", "stowage-kcm-"); err != nil {
		return err
	}
	path := filepath.Join(e.dir, "kubeconfig")
	if err := os.WriteFile(path, kubeconfig, 0o600); err != nil {
		return err
	}
	e.kcm = exec.Command(bin,
		"--kubeconfig="+path,
		"--controllers=statefulset-controller,job-controller,garbage-collector-controller,persistentvolumeclaim-protection-controller,serviceaccount-controller",
		"--leader-elect=false", "--secure-port=0", "--use-service-account-credentials=false",
		"--concurrent-statefulset-syncs=5", "-v=1")
	logPath := filepath.Join(e.dir, "kube-controller-manager.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	e.kcm.Stdout, e.kcm.Stderr = logFile, logFile
	if err := e.kcm.Start(); err != nil {
		return fmt.Errorf("starting kube-controller-manager: %w", err)
	}
	// The garbage collector needs a moment to discover resources; wait until the
	// default ServiceAccount appears as a sign the controllers are running.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		var sa corev1.ServiceAccount
		if err := e.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: "default"}, &sa); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kube-controller-manager did not start (log: %s)", logPath)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (e *Env) stop() error {
	if e.kcm != nil && e.kcm.Process != nil {
		_ = e.kcm.Process.Kill()
		_ = e.kcm.Wait()
	}
	if e.dir != "" {
		_ = os.RemoveAll(e.dir)
	}
	return e.env.Stop()
}
