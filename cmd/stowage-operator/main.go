// Command stowage-operator runs the Stowage controllers: one per engine
// (MySQLCluster, RedisCluster, NATSCluster) in a single manager with health probes,
// Prometheus metrics and leader election.
package main

import (
	"flag"
	"fmt"
	"os"

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
)

func main() {
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
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1alpha1.AddToScheme(scheme))

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
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
	if err := mysql.Setup(mgr, mysqlOpts); err != nil {
		return fmt.Errorf("setting up the MySQLCluster controller: %w", err)
	}
	if err := redis.Setup(mgr, redisOpts); err != nil {
		return fmt.Errorf("setting up the RedisCluster controller: %w", err)
	}
	if err := nats.Setup(mgr, natsOpts); err != nil {
		return fmt.Errorf("setting up the NATSCluster controller: %w", err)
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
