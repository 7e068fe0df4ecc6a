package site

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/airgapkit/airgap/store"
)

// WriteInventory writes a CycloneDX 1.5 JSON SBOM of everything the given mirrors have
// published, as each kind lists it (Mirror.Inventory). Mirrors never published are left
// out.
func WriteInventory(ctx context.Context, w io.Writer, s store.Store, ms []Mirror) error {
	type hash struct {
		Alg     string `json:"alg"`
		Content string `json:"content"`
	}
	type prop struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	type extRef struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	}
	type cdxComponent struct {
		Type       string   `json:"type"`
		BOMRef     string   `json:"bom-ref"`
		Name       string   `json:"name"`
		Version    string   `json:"version,omitempty"`
		PURL       string   `json:"purl,omitempty"`
		Hashes     []hash   `json:"hashes"`
		ExtRefs    []extRef `json:"externalReferences,omitempty"`
		Properties []prop   `json:"properties"`
	}
	var comps []cdxComponent
	for _, m := range ms {
		list, err := m.Inventory(ctx, s)
		if errors.Is(err, store.ErrNotFound) {
			continue // never published
		}
		if err != nil {
			return fmt.Errorf("%s: %w", Ref(m), err)
		}
		for _, c := range list {
			cc := cdxComponent{
				Type: c.Type, Name: c.Name, Version: c.Version, PURL: c.PURL,
				BOMRef:     Ref(m) + ":" + c.Path,
				Hashes:     []hash{{"SHA-256", c.Digest.Hex()}},
				Properties: []prop{{"airgap:mirror", Ref(m)}, {"airgap:path", c.Path}},
			}
			if c.Upstream != "" {
				cc.ExtRefs = []extRef{{"distribution", c.Upstream}}
			}
			for _, by := range c.RequestedBy {
				cc.Properties = append(cc.Properties, prop{"airgap:requested-by", by})
			}
			if c.VouchedBy != "" {
				cc.Properties = append(cc.Properties, prop{"airgap:vouched-by", c.VouchedBy})
			} else {
				cc.Properties = append(cc.Properties, prop{"airgap:unverified", "true"})
			}
			comps = append(comps, cc)
		}
	}
	sort.Slice(comps, func(i, j int) bool { return comps[i].BOMRef < comps[j].BOMRef })
	var uuid [16]byte
	rand.Read(uuid[:])
	uuid[6] = uuid[6]&0x0f | 0x40
	uuid[8] = uuid[8]&0x3f | 0x80
	doc := map[string]any{
		"bomFormat":    "CycloneDX",
		"specVersion":  "1.5",
		"serialNumber": fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", uuid[0:4], uuid[4:6], uuid[6:8], uuid[8:10], uuid[10:]),
		"version":      1,
		"metadata": map[string]any{
			"timestamp": time.Now().UTC().Format(time.RFC3339),
			"tools":     map[string]any{"components": []map[string]string{{"type": "application", "name": "airgap"}}},
		},
		"components": comps,
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
