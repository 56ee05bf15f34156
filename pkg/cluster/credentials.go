package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/stowage/stowage/api/v1alpha1"
	"github.com/stowage/stowage/pkg/apply"
	"github.com/stowage/stowage/pkg/workload"
)

// ErrCredentialsInvalid means the Secret a user named cannot serve the cluster.
var ErrCredentialsInvalid = errors.New("credentials Secret is unusable")

// ErrConfigInvalid means the configuration the spec describes would be refused by the
// server; it is never written (the members keep running the last good one).
var ErrConfigInvalid = errors.New("configuration invalid")

// reconcileCredentials makes sure the credentials Secret exists with every key the
// engine needs. A Secret the user names is only checked, never written.
func (r *Reconciler) reconcileCredentials(ctx context.Context, s *state) error {
	bp := s.blueprint
	key := client.ObjectKey{Namespace: bp.Namespace, Name: bp.SecretName}
	existing := &corev1.Secret{}
	found, err := r.getOptional(ctx, key, existing)
	if err != nil {
		return err
	}
	if !found {
		existing = nil
	}

	if !bp.UsesGeneratedSecret() {
		if existing == nil {
			return fmt.Errorf("%w: Secret %s named by spec.credentialsSecretRef does not exist", ErrCredentialsInvalid, key.Name)
		}
		if missing := missingKeys(existing.Data, bp.CredentialKeys); len(missing) > 0 {
			return fmt.Errorf("%w: Secret %s lacks the keys %v", ErrCredentialsInvalid, key.Name, missing)
		}
		if bp.CheckCredential != nil {
			for _, k := range bp.CredentialKeys {
				if err := bp.CheckCredential(k, existing.Data[k]); err != nil {
					return fmt.Errorf("%w: Secret %s: %v", ErrCredentialsInvalid, key.Name, err)
				}
			}
		}
		return nil
	}

	keepWithData := bp.Workload.Storage.RetentionPolicy.WhenDeleted != v1alpha1.VolumeDelete
	var data map[string][]byte
	if existing != nil {
		// A retained Secret has no owner to compare; its engine label tells whether
		// it belongs to a same-named cluster of another engine.
		if engine := existing.Labels[workload.LabelName]; engine != "" && engine != bp.Engine {
			return fmt.Errorf("Secret %s belongs to a %s cluster of the same name: %w", key.Name, engine, apply.ErrOwnedByOther)
		}
		data = existing.Data
		if len(missingKeys(data, bp.CredentialKeys)) == 0 && hasOwner(existing, bp.Owner) != keepWithData {
			return nil // complete and owned as the retention policy wants: nothing to write
		}
	}
	desired, err := workload.CredentialsSecret(bp, data, keepWithData, workload.GeneratePassword)
	if err != nil {
		return err
	}
	if err := apply.Object(ctx, r.Client, desired); err != nil {
		return err
	}
	if existing == nil {
		r.Recorder.Eventf(s.cluster, corev1.EventTypeNormal, "CredentialsGenerated", "Generated credentials Secret %s", desired.Name)
	}
	return nil
}

func missingKeys(data map[string][]byte, keys []string) []string {
	var missing []string
	for _, k := range keys {
		if len(data[k]) == 0 {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	return missing
}

func hasOwner(o metav1.Object, owner metav1.OwnerReference) bool {
	for _, ref := range o.GetOwnerReferences() {
		if ref.UID == owner.UID {
			return true
		}
	}
	return false
}
