package workload

import (
	"crypto/rand"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// passwordAlphabet avoids characters that need quoting in any engine's configuration.
const passwordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// GeneratePassword returns 32 characters drawn uniformly from passwordAlphabet with
// crypto/rand (≈190 bits).
func GeneratePassword() (string, error) {
	const n = 32
	// 256 is not a multiple of 62: bytes at or above the largest multiple are
	// rejected so that every character is equally likely.
	limit := byte(256 - 256%len(passwordAlphabet))
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("reading random bytes: %w", err)
		}
		for _, c := range buf {
			if c < limit && len(out) < n {
				out = append(out, passwordAlphabet[int(c)%len(passwordAlphabet)])
			}
		}
	}
	return string(out), nil
}

// CredentialsSecret is the generated credentials Secret. Keys already present in
// existing are kept as they are, so the Secret never changes a password members use;
// only missing keys are generated. keepWithData drops the owner reference so that the
// Secret outlives the cluster together with the retained volumes it unlocks.
func CredentialsSecret(bp Blueprint, existing map[string][]byte, keepWithData bool, generate func() (string, error)) (*corev1.Secret, error) {
	data := make(map[string][]byte, len(bp.CredentialKeys))
	for _, k := range bp.CredentialKeys {
		if v, ok := existing[k]; ok && len(v) > 0 {
			data[k] = v
			continue
		}
		p, err := generate()
		if err != nil {
			return nil, fmt.Errorf("generating %s: %w", k, err)
		}
		data[k] = []byte(p)
	}
	meta := bp.objectMeta(bp.Names().Secret())
	if keepWithData {
		meta.OwnerReferences = nil
	}
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: meta,
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}, nil
}
