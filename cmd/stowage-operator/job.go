package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/operators/mysql"
	"github.com/stowage/stowage/operators/nats"
	"github.com/stowage/stowage/operators/redis"
	"github.com/stowage/stowage/pkg/backup"
	"github.com/stowage/stowage/pkg/backup/controller"

	// The image is scratch, without a CA bundle: jobs reaching S3 over TLS verify
	// it against Mozilla's roots compiled in (used only when the system has none).
	_ "golang.org/x/crypto/x509roots/fallback"
)

// backupEngines are the engines' backup halves, by engine name.
var backupEngines = map[string]backup.Engine{
	"mysql": mysql.BackupEngine{},
	"redis": redis.BackupEngine{},
	"nats":  nats.BackupEngine{},
}

// runJob is `stowage-operator job`: one backup or restore, as the Job's environment
// describes it. It writes its result as the pod's termination message, where the
// controller reads it, and reports progress on the Backup or Restore while it runs.
func runJob() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	spec, err := backup.ParseJobSpec(os.Getenv)
	if err != nil {
		return err
	}
	if spec.Kind == "delete" {
		target, err := spec.Target.Open(os.Getenv)
		if err != nil {
			return err
		}
		res := backup.Result{Location: spec.Location, StartedAt: time.Now().UTC()}
		err = target.Delete(ctx, spec.Location+"/")
		if err != nil {
			res.Error = err.Error()
		}
		res.CompletedAt = time.Now().UTC()
		_ = backup.WriteResult(backup.TerminationPath, res)
		return err
	}
	engine, ok := backupEngines[spec.Engine]
	if !ok {
		return fmt.Errorf("no engine %q", spec.Engine)
	}
	if spec.Kind == "restore" && engine.Name() == "redis" {
		// The member to seed reaches the job's RDB source at the pod's own address.
		if spec.Options == nil {
			spec.Options = map[string]string{}
		}
		spec.Options[redis.OptionRestoreListen] = fmt.Sprintf("0.0.0.0:%d", 6390)
		spec.Options[redis.OptionRestoreHost] = os.Getenv("POD_IP")
	}
	target, err := spec.Target.Open(os.Getenv)
	if err != nil {
		return err
	}
	progress := progressReporter(os.Getenv(controller.EnvObject))
	run := backup.RunBackup
	if spec.Kind == "restore" {
		run = backup.RunRestore
	}
	res, err := run(ctx, spec, engine, os.Getenv(backup.EnvPassword), target, progress)
	if err != nil {
		res.Error = err.Error()
	}
	if werr := backup.WriteResult(backup.TerminationPath, res); werr != nil {
		fmt.Fprintln(os.Stderr, "writing the result:", werr)
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	return err
}

// progressReporter patches status.bytes of the Backup or Restore ("backup/<name>")
// in the job's namespace; without an API server (or on any error) progress is only
// logged.
func progressReporter(object string) backup.Progress {
	kind, name, ok := strings.Cut(object, "/")
	ns, _ := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
	cfg, err := ctrl.GetConfig()
	if !ok || err != nil || len(ns) == 0 {
		return func(n int64) { fmt.Printf("%s: %d bytes\n", time.Now().Format(time.RFC3339), n) }
	}
	scheme := runtime.NewScheme()
	_ = v1alpha1.AddToScheme(scheme)
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return func(int64) {}
	}
	return func(n int64) {
		var obj client.Object = &v1alpha1.Backup{}
		if kind == "restore" {
			obj = &v1alpha1.Restore{}
		}
		obj.SetNamespace(string(ns))
		obj.SetName(name)
		patch := fmt.Sprintf(`{"status":{"bytes":%d}}`, n)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.Status().Patch(ctx, obj, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
			fmt.Fprintln(os.Stderr, "reporting progress:", err)
		}
	}
}
