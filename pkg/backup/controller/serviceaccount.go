package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/pkg/apply"
)

// JobServiceAccount is the account backup and restore jobs run as in a namespace: it
// may report progress on Backups and Restores, nothing else.
const JobServiceAccount = "stowage-jobs"

// jobAccount is the ServiceAccount, Role and RoleBinding of a namespace's jobs.
func jobAccount(namespace string) []client.Object {
	meta := metav1.ObjectMeta{Name: JobServiceAccount, Namespace: namespace,
		Labels: map[string]string{"app.kubernetes.io/managed-by": "stowage"}}
	return []client.Object{
		&corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: meta},
		&rbacv1.Role{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"}, ObjectMeta: meta,
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"backups/status", "restores/status"},
				Verbs: []string{"get", "patch"}}}},
		&rbacv1.RoleBinding{TypeMeta: metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"}, ObjectMeta: meta,
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: JobServiceAccount},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: JobServiceAccount, Namespace: namespace}}},
	}
}

func ensureJobAccount(ctx context.Context, c client.Client, namespace string) error {
	for _, o := range jobAccount(namespace) {
		if err := apply.Object(ctx, c, o); err != nil {
			return err
		}
	}
	return nil
}
