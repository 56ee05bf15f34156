package mysql

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stowage/stowage/api/v1alpha1"
)

func TestBlueprint(t *testing.T) {
	opts := Options{MySQLImage: "mysql:8.4", MariaDBImage: "mariadb:10.11"}
	cases := []struct {
		flavor             v1alpha1.MySQLFlavor
		image              string
		wantImage, wantEnv string
		wantServer         string
	}{
		{v1alpha1.FlavorMySQL, "", "mysql:8.4", "MYSQL_ROOT_PASSWORD", "mysqld"},
		{v1alpha1.FlavorMariaDB, "", "mariadb:10.11", "MARIADB_ROOT_PASSWORD", "mariadbd"},
		{v1alpha1.FlavorMariaDB, "registry.local/mariadb:11.4", "registry.local/mariadb:11.4", "MARIADB_ROOT_PASSWORD", "mariadbd"},
	}
	for _, tc := range cases {
		c := &v1alpha1.MySQLCluster{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "ns", UID: "u"}, Spec: v1alpha1.MySQLClusterSpec{
			Flavor:       tc.flavor,
			WorkloadSpec: v1alpha1.WorkloadSpec{Replicas: 3, Image: tc.image, Storage: v1alpha1.StorageSpec{Size: resource.MustParse("1Gi")}},
		}}
		bp, err := NewEngine(opts).Blueprint(c)
		if err != nil {
			t.Fatal(err)
		}
		if bp.Image != tc.wantImage || !bp.HasPrimary {
			t.Errorf("%s: image %q hasPrimary %v", tc.flavor, bp.Image, bp.HasPrimary)
		}
		env := bp.Container.Env[0]
		if env.Name != tc.wantEnv || env.ValueFrom.SecretKeyRef.Name != "db-credentials" || env.ValueFrom.SecretKeyRef.Key != KeyRootPassword {
			t.Errorf("%s: root password env %+v", tc.flavor, env)
		}
		cmd := strings.Join(bp.Container.Command, " ")
		if !strings.Contains(cmd, "docker-entrypoint.sh "+tc.wantServer) || !strings.Contains(cmd, "--server-id=$((1000 + ${POD_NAME##*-}))") {
			t.Errorf("%s: command %q", tc.flavor, cmd)
		}
		if strings.Contains(cmd, "PASSWORD") {
			t.Errorf("%s: a password reaches the command line: %q", tc.flavor, cmd)
		}
	}
}
