package site

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/airgapkit/airgap/store"
)

// ErrNoSpace is what DiskPreflight refuses with (as a *NoSpaceError naming the numbers).
var ErrNoSpace = errors.New("not enough free space on the store")

// NoSpaceError says how much a sync or import needs, the margin kept on top, and what
// the store's file system has free.
type NoSpaceError struct {
	Path               string
	Need, Margin, Free int64
}

func (e *NoSpaceError) Error() string {
	return fmt.Sprintf("%v %s: need %s + margin %s, free %s (--force goes on)", ErrNoSpace, e.Path,
		HumanBytes(e.Need), HumanBytes(e.Margin), HumanBytes(e.Free))
}

func (e *NoSpaceError) Unwrap() error { return ErrNoSpace }

// MinMargin is the least free space DiskPreflight keeps on top of what is needed.
const MinMargin = 1 << 30

// Margin is the space kept free on top of need: 5% of it, at least MinMargin (1 GiB),
// so that the store's manifests, temporary files and the rest of the file system still
// fit.
func Margin(need int64) int64 { return max(need/20, MinMargin) }

// FreeSpace returns the bytes free for an unprivileged writer under a directory.
type FreeSpace func(dir string) (int64, error)

// StatfsFree is FreeSpace by statfs(2).
func StatfsFree(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("store %s: free space: %w", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// DiskPreflight refuses, with a *NoSpaceError, to go on when the store at location lacks
// need bytes plus Margin(need). An S3 store is not checked (its capacity is the
// provider's): that is logged. free nil is StatfsFree.
func DiskPreflight(location string, need int64, free FreeSpace, log *slog.Logger) error {
	if strings.HasPrefix(location, "s3://") {
		log.Info("disk preflight skipped: an S3 store has no free space to ask for", "store", location)
		return nil
	}
	if free == nil {
		free = StatfsFree
	}
	n, err := free(location)
	if err != nil {
		return err
	}
	if m := Margin(need); n < need+m {
		return &NoSpaceError{Path: location, Need: need, Margin: m, Free: n}
	}
	return nil
}

// ImportPreflight refuses (DiskPreflight) an import of the bundle volumes files into the
// store at location when it lacks room for all their bytes: an upper bound, as blobs the
// store already holds are not written again.
func ImportPreflight(location string, files []string, free FreeSpace, log *slog.Logger) error {
	var need int64
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return err
		}
		need += fi.Size()
	}
	return DiskPreflight(location, need, free, log)
}

// DiskCheck is the disk preflight of a SyncAll run (SyncOptions.Disk): each mirror's
// sync hands it the plan its metadata round produced, before it downloads any payload,
// and it refuses (a *NoSpaceError, the mirror then fails having published nothing) when
// the store's free space at that moment lacks what the plan fetches plus Margin. The
// free space is read per mirror, so it accounts for what the mirrors before it fetched;
// what the mirrors still syncing have planned is needed too (a blob planned twice
// counts once; what they already wrote counts twice, erring on the side of refusing). Sizes the upstream does not give are not counted: that is logged.
type DiskCheck struct {
	location string
	free     FreeSpace
	store    store.Store
	log      *slog.Logger

	mu      sync.Mutex
	tally   *store.Tally
	pending map[string]int64 // ref -> bytes planned by a mirror still syncing
}

// NewDiskCheck returns the disk check of the store s at location (free nil: StatfsFree).
// An S3 store is not checked (its capacity is the provider's): that is logged and the
// check is nil, which SyncAll skips.
func NewDiskCheck(s store.Store, location string, free FreeSpace, log *slog.Logger) *DiskCheck {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if strings.HasPrefix(location, "s3://") {
		log.Info("disk preflight skipped: an S3 store has no free space to ask for", "store", location)
		return nil
	}
	if free == nil {
		free = StatfsFree
	}
	return &DiskCheck{location: location, free: free, store: s, log: log, tally: store.NewTally(), pending: map[string]int64{}}
}

// check is ref's preflight: it counts p against the store and what other mirrors of the
// run have planned, and refuses when it does not fit. A plan that fetches nothing passes.
func (c *DiskCheck) check(ctx context.Context, ref string, p store.Plan) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, err := c.tally.Add(ctx, c.store, p)
	if err != nil {
		return err
	}
	if f.Unknown > 0 {
		c.log.Warn("disk preflight: some sizes are unknown and not counted", "mirror", ref, "unknown", f.Unknown, "known", HumanBytes(f.FetchBytes))
	}
	if f.FetchBytes == 0 {
		return nil
	}
	var others int64
	for r, n := range c.pending {
		if r != ref {
			others += n
		}
	}
	n, err := c.free(c.location)
	if err != nil {
		return err
	}
	need := f.FetchBytes + others
	if m := Margin(need); n < need+m {
		return &NoSpaceError{Path: c.location, Need: need, Margin: m, Free: n}
	}
	c.pending[ref] += f.FetchBytes
	return nil
}

// done releases what ref planned: its downloads are on the disk (or abandoned).
func (c *DiskCheck) done(ref string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, ref)
}
