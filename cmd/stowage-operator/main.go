// Command stowage-operator runs the Stowage controllers: one per engine
// (MySQLCluster, RedisCluster, NATSCluster) in a single manager with health probes,
// Prometheus metrics and leader election.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/operators/mysql"
	"github.com/stowage/stowage/operators/nats"
	"github.com/stowage/stowage/operators/redis"
	"github.com/stowage/stowage/pkg/backup/controller"
	"github.com/stowage/stowage/pkg/events"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "job" {
		if err := runJob(); err != nil {
			fmt.Fprintln(os.Stderr, "stowage-operator job:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "stowage-operator:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		metricsAddr, probeAddr string
		leaderElect            bool
		namespace              string
		eventsURL, eventsAddr  string
		jobImage               string
	)
	mysqlOpts, redisOpts, natsOpts := mysql.DefaultOptions(), redis.DefaultOptions(), nats.DefaultOptions()
	flag.StringVar(&metricsAddr, "metrics-bind-address", ":8080", "Address the Prometheus metrics endpoint binds to; 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz endpoints bind to.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader so that only one replica of the operator reconciles at a time.")
	flag.StringVar(&namespace, "leader-election-namespace", "", "Namespace of the leader election lease (defaults to the operator's own).")
	flag.StringVar(&mysqlOpts.MySQLImage, "mysql-image", mysqlOpts.MySQLImage, "Image for MySQLClusters of flavor mysql that name none.")
	flag.StringVar(&mysqlOpts.MariaDBImage, "mariadb-image", mysqlOpts.MariaDBImage, "Image for MySQLClusters of flavor mariadb that name none.")
	flag.StringVar(&redisOpts.Image, "redis-image", redisOpts.Image, "Image for RedisClusters that name none.")
	flag.StringVar(&natsOpts.Image, "nats-image", natsOpts.Image, "Image for NATSClusters that name none.")
	flag.StringVar(&eventsURL, "events-url", "", "NATS URL to publish lifecycle events on (stowage.events.>); empty runs an embedded NATS server, \"none\" turns events off.")
	flag.StringVar(&eventsAddr, "events-listen", "127.0.0.1:4222", "Address of the embedded event server (with an empty --events-url).")
	flag.StringVar(&jobImage, "job-image", "", "Image of backup and restore jobs; empty uses the operator's own (read from its pod).")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))

	bus, err := eventBus(eventsURL, eventsAddr)
	if err != nil {
		return err
	}
	defer bus.Close()

	base, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress:  probeAddr,
		LeaderElection:          leaderElect,
		LeaderElectionID:        "stowage-operator.stowage.dev",
		LeaderElectionNamespace: namespace,
		// A new leader starts at once when the old one steps down cleanly.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	// Every recorder the controllers get also publishes on the bus.
	mgr := events.Manager{Manager: base, Bus: bus}
	if err := mysql.Setup(mgr, mysqlOpts); err != nil {
		return fmt.Errorf("setting up the MySQLCluster controller: %w", err)
	}
	if err := redis.Setup(mgr, redisOpts); err != nil {
		return fmt.Errorf("setting up the RedisCluster controller: %w", err)
	}
	if err := nats.Setup(mgr, natsOpts); err != nil {
		return fmt.Errorf("setting up the NATSCluster controller: %w", err)
	}
	if jobImage == "" {
		if jobImage, err = ownImage(mgr.GetAPIReader()); err != nil {
			return err
		}
	}
	profiles := map[string]controller.Profile{
		"MySQLCluster": mysql.BackupProfile(mysqlOpts),
		"RedisCluster": redis.BackupProfile(redisOpts),
		"NATSCluster":  nats.BackupProfile(natsOpts),
	}
	backups := &controller.BackupReconciler{Jobs: controller.Jobs{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorderFor("stowage-backup"),
		Profiles: profiles, Image: jobImage}}
	if err := backups.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the Backup controller: %w", err)
	}
	restores := &controller.RestoreReconciler{Jobs: controller.Jobs{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorderFor("stowage-restore"),
		Profiles: profiles, Image: jobImage}}
	if err := restores.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the Restore controller: %w", err)
	}
	schedules := &controller.ScheduleReconciler{Client: mgr.GetClient(), Recorder: mgr.GetEventRecorderFor("stowage-schedule")}
	if err := schedules.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the BackupSchedule controller: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("adding the health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("adding the readiness check: %w", err)
	}
	ctrl.Log.Info("Starting manager")
	return mgr.Start(ctrl.SetupSignalHandler())
}

// eventBus connects to the NATS server at url, or starts an embedded one on addr when
// url is empty; "none" gives no bus (publishing is then a no-op).
func eventBus(url, addr string) (*events.Bus, error) {
	switch url {
	case "none":
		return nil, nil
	case "":
		host, portText, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("--events-listen %q: %w", addr, err)
		}
		port, err := strconv.Atoi(portText)
		if err != nil {
			return nil, fmt.Errorf("--events-listen %q: the port is not a number", addr)
		}
		bus, err := events.Embedded(host, port)
		if err != nil {
			return nil, err
		}
		ctrl.Log.Info("Publishing lifecycle events on the embedded NATS server", "url", bus.URL())
		return bus, nil
	default:
		return events.Connect(url)
	}
}

// ownImage is the image of the operator's own container: jobs run the same binary.
// The pod names itself through the downward API (POD_NAME, POD_NAMESPACE).
func ownImage(c client.Reader) (string, error) {
	name, ns := os.Getenv("POD_NAME"), os.Getenv("POD_NAMESPACE")
	if name == "" || ns == "" {
		return "", fmt.Errorf("--job-image is empty and POD_NAME/POD_NAMESPACE do not name the operator's pod")
	}
	pod := &corev1.Pod{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, pod); err != nil {
		return "", fmt.Errorf("reading the operator's pod for its image: %w", err)
	}
	return pod.Spec.Containers[0].Image, nil
}
