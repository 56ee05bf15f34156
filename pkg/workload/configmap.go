package workload

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConfigMap holds the engine's rendered configuration files.
func ConfigMap(bp Blueprint) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: bp.objectMeta(bp.Names().ConfigMap()),
		Data:       bp.Config,
	}
}

// ConfigHash is a short digest of the configuration files, independent of map order.
func ConfigHash(files map[string]string) string {
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(files[k]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// restartConfig is what the pod template's config digest covers.
func (bp Blueprint) restartConfig() map[string]string {
	if bp.RestartConfig != nil {
		return bp.RestartConfig
	}
	return bp.Config
}
