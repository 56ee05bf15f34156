// Package apply writes desired objects with server-side apply, so the operator owns
// only the fields it sets: labels, annotations and fields that users or other
// controllers add to the same objects survive every reconcile.
package apply

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// FieldOwner is the field manager of everything the operator applies.
const FieldOwner = client.FieldOwner("stowage-operator")

// ErrOwnedByOther means an object with the desired name exists and is controlled by
// something else; the operator refuses to take it over.
var ErrOwnedByOther = errors.New("object exists and is controlled by another owner")

// Object applies desired, which must be a complete description of the fields the
// operator owns. An existing object controlled by a different owner than desired's
// controller reference is left alone and ErrOwnedByOther returned, so that two clusters
// with colliding names cannot fight over one object.
func Object(ctx context.Context, c client.Client, desired client.Object) error {
	gvk, err := apiutil.GVKForObject(desired, c.Scheme())
	if err != nil {
		return fmt.Errorf("finding the kind of %T: %w", desired, err)
	}
	desired.GetObjectKind().SetGroupVersionKind(gvk)
	key := client.ObjectKeyFromObject(desired)

	if owner := metav1.GetControllerOf(desired); owner != nil {
		existing, err := c.Scheme().New(gvk)
		if err != nil {
			return fmt.Errorf("creating an empty %s: %w", gvk.Kind, err)
		}
		existingObj := existing.(client.Object)
		switch err := c.Get(ctx, key, existingObj); {
		case apierrors.IsNotFound(err):
		case err != nil:
			return fmt.Errorf("reading %s %s: %w", gvk.Kind, key, err)
		default:
			if cur := metav1.GetControllerOf(existingObj); cur != nil && cur.UID != owner.UID {
				return fmt.Errorf("%s %s (controlled by %s %s): %w", gvk.Kind, key, cur.Kind, cur.Name, ErrOwnedByOther)
			}
		}
	}

	desired.SetManagedFields(nil)
	desired.SetResourceVersion("")
	//nolint:staticcheck // typed objects are the builders' output; apply configurations would duplicate them.
	if err := c.Patch(ctx, desired, client.Apply, FieldOwner, client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s: %w", gvk.Kind, key, err)
	}
	return nil
}
