package mysql

import (
	"context"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/operators/mysql/dataplane"
	"github.com/stowage/stowage/pkg/backup"
	"github.com/stowage/stowage/pkg/backup/controller"
)

// BackupEngine backs MySQLClusters up with a consistent logical dump (dataplane.Dump:
// one snapshot shared by parallel readers, per-table chunks) and restores with a
// parallel load that leaves the member at the backup's GTID position.
type BackupEngine struct{}

var _ backup.Engine = BackupEngine{}

// OptionFlavor is the endpoint option naming the cluster's flavor.
const OptionFlavor = "flavor"

func (BackupEngine) Name() string { return engineName }

func (BackupEngine) Dump(ctx context.Context, src backup.Endpoint, w *backup.Writer) (string, error) {
	m, flavor, err := connect(src)
	if err != nil {
		return "", err
	}
	defer m.Close()
	w.SetMeta(OptionFlavor, string(flavor))
	return m.Dump(ctx, w, dataplane.DumpOptions{Parallel: src.Parallel})
}

func (BackupEngine) Load(ctx context.Context, dst backup.Endpoint, r *backup.Reader, force bool) error {
	m, _, err := connect(dst)
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Load(ctx, r, dataplane.LoadOptions{Parallel: dst.Parallel, Force: force})
}

// connect reaches the member as the operator's account, the only one a job holds.
func connect(e backup.Endpoint) (*dataplane.Member, v1alpha1.MySQLFlavor, error) {
	flavor := v1alpha1.MySQLFlavor(e.Options[OptionFlavor])
	if flavor == "" {
		flavor = v1alpha1.FlavorMariaDB
	}
	m, err := dataplane.Connect(e.Name, e.Addr, dataplane.FlavorFor(flavor), dataplane.NewAccounts("", e.Password, "", ""))
	return m, flavor, err
}

// BackupProfile tells the backup controllers how to run jobs for MySQLClusters.
func BackupProfile(opts Options) controller.Profile {
	return controller.Profile{Engine: NewEngine(opts), PasswordKey: KeyOperatorPassword,
		Options: func(c v1alpha1.Cluster) map[string]string {
			return map[string]string{OptionFlavor: string(c.(*v1alpha1.MySQLCluster).Spec.Flavor)}
		}}
}
