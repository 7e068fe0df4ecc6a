package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/airgapkit/airgap/store"
)

// component is one entry of the inventory: a package, image, collection, snap or file.
type component struct {
	Type     string // CycloneDX type: library, application, container, file, operating-system, data
	Name     string
	Version  string
	PURL     string
	Digest   store.Digest
	Path     string // path in the mirror
	Upstream string // where it came from
	Vouched  string // the upstream signature or index that vouched for it
}

// inventorier is implemented by kinds that know what their files are (packages with
// names and versions); the others are listed file by file.
type inventorier interface {
	Inventory(ctx context.Context, rt *runtime) ([]component, error)
}

func (a *app) inventoryCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "inventory [MIRROR...]",
		Short: "Write a CycloneDX JSON SBOM of everything published",
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(a.configPath)
			if err != nil {
				return err
			}
			ms, err := cfg.Mirrors.selectMirrors(args)
			if err != nil {
				return err
			}
			s, err := openStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if out != "" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			return writeInventory(cmd.Context(), w, a.runtime(cfg, s, nil), ms)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write (default: stdout)")
	return cmd
}

func writeInventory(ctx context.Context, w io.Writer, rt *runtime, ms []mirror) error {
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
		list, err := inventoryOf(ctx, rt, m)
		if errors.Is(err, store.ErrNotFound) {
			continue // never published
		}
		if err != nil {
			return fmt.Errorf("%s: %w", ref(m), err)
		}
		for _, c := range list {
			cc := cdxComponent{
				Type: c.Type, Name: c.Name, Version: c.Version, PURL: c.PURL,
				BOMRef:     ref(m) + ":" + c.Path,
				Hashes:     []hash{{"SHA-256", c.Digest.Hex()}},
				Properties: []prop{{"airgap:mirror", ref(m)}, {"airgap:path", c.Path}},
			}
			if c.Upstream != "" {
				cc.ExtRefs = []extRef{{"distribution", c.Upstream}}
			}
			if c.Vouched != "" {
				cc.Properties = append(cc.Properties, prop{"airgap:vouched-by", c.Vouched})
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

// inventoryOf asks the kind, or lists the published files.
func inventoryOf(ctx context.Context, rt *runtime, m mirror) ([]component, error) {
	if inv, ok := m.(inventorier); ok {
		return inv.Inventory(ctx, rt)
	}
	snap, _, err := store.OpenPublished(ctx, rt.store, ref(m))
	if err != nil {
		return nil, err
	}
	out := make([]component, 0, len(snap.Files))
	for _, p := range snap.Paths() {
		f := snap.Files[p]
		out = append(out, component{Type: "file", Name: p, Digest: f.Digest, Path: p, Upstream: snap.Annotations["source:"+p]})
	}
	return out, nil
}
