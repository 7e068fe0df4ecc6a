package site

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/airgapkit/airgap/store"
	"github.com/airgapkit/airgap/store/fetch"
	"github.com/airgapkit/airgap/store/fetch/getter"
)

// NewFetchClient is the fetch client a site syncs with: fetch's defaults, go-getter for
// the files kind's URLs, progress events to progress (when set).
func NewFetchClient(s store.Store, progress func(fetch.Event), log *slog.Logger) *fetch.Client {
	return &fetch.Client{Store: s, Getter: getter.New(), Progress: progress, Logger: log}
}

// SyncOptions tune SyncAll.
type SyncOptions struct {
	// Concurrency is how many mirrors sync at once (default 4). Each publishes on its
	// own; a slow or dead upstream holds up only its mirror.
	Concurrency int
	// Progress, when set, gives the fetch progress callback for one mirror's sync.
	Progress func(ref string) func(fetch.Event)
	// Done, when set, is called as each mirror finishes, with its result or error (it may
	// be called from several goroutines at once).
	Done func(ref string, res Result, err error)
	// Disk, when set, checks each mirror's plan against the store's free space between
	// the mirror's metadata round and its downloads (see DiskCheck).
	Disk *DiskCheck
}

// SyncError lists the mirrors whose sync failed; the others published.
type SyncError struct {
	Failed map[string]error // ref -> what its Sync returned
	Total  int
}

func (e *SyncError) Error() string {
	refs := make([]string, 0, len(e.Failed))
	for r := range e.Failed {
		refs = append(refs, r)
	}
	sort.Strings(refs)
	return fmt.Sprintf("%d of %d mirrors failed: %s", len(e.Failed), e.Total, strings.Join(refs, ", "))
}

// Unwrap returns the failures, so that errors.Is and errors.As see them (a
// *NoSpaceError, say).
func (e *SyncError) Unwrap() []error {
	out := make([]error, 0, len(e.Failed))
	for _, err := range e.Failed {
		out = append(out, err)
	}
	return out
}

// SyncAll syncs each mirror with its own fetch client (so progress is per mirror). A
// mirror whose sync fails keeps what it published before and the others still publish;
// the error is a *SyncError naming every failure. Mirrors not started when ctx ends
// count as failed. Each mirror's outcome is recorded in the store (SyncRecordRef) when
// all are done.
//
// An oci mirror that image providers name (ImagesTo) starts after those of them in ms
// finish, and copies the images every configured provider's published tree requests,
// also of providers not in ms (so syncing the oci mirror alone keeps the charts'
// images). A provider that failed still hands over what it published before. Likewise a
// mirror that names others to follow (helm mirrors: the helm mirrors configured before
// them) starts once those in ms are done.
func (e *Env) SyncAll(ctx context.Context, ms []Mirror, opt SyncOptions) error {
	n := opt.Concurrency
	if n <= 0 {
		n = 4
	}
	all := ms
	if e.all != nil {
		all = e.all()
	}
	fed := feeds(all)
	var (
		mu     sync.Mutex
		failed = map[string]error{}
		synced = map[string]outcome{}
		wg     sync.WaitGroup
		slots  = make(chan struct{}, n)
		done   = map[string]chan struct{}{}
	)
	var unique []Mirror // a mirror named twice syncs once
	for _, m := range ms {
		if _, dup := done[Ref(m)]; !dup {
			done[Ref(m)] = make(chan struct{})
			unique = append(unique, m)
		}
	}
	// finish notes a mirror's end; started is zero when it never began to sync (which
	// is not recorded as a sync).
	finish := func(ref string, started time.Time, res Result, err error) {
		mu.Lock()
		if !started.IsZero() {
			synced[ref] = outcome{started: started, finished: time.Now(), res: res, err: err}
		}
		if err != nil {
			failed[ref] = err
		}
		mu.Unlock()
		if opt.Done != nil {
			opt.Done(ref, res, err)
		}
	}
	for _, m := range unique {
		ref := Ref(m)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[ref])
			for _, after := range follows(m, fed[ref]) {
				if ch, ok := done[after]; ok {
					select {
					case <-ch:
					case <-ctx.Done():
						finish(ref, time.Time{}, Result{}, ctx.Err())
						return
					}
				}
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				finish(ref, time.Time{}, Result{}, ctx.Err())
				return
			}
			defer func() { <-slots }()
			env := *e
			var progress func(fetch.Event)
			if opt.Progress != nil {
				progress = opt.Progress(ref)
			}
			env.Fetch = NewFetchClient(e.Store, progress, e.Logger)
			if ps := fed[ref]; len(ps) > 0 {
				var err error
				if env.requested, err = requestedImages(ctx, e.Store, ps); err != nil {
					finish(ref, time.Time{}, Result{}, err)
					return
				}
			}
			started := time.Now()
			res, err := env.syncChecked(ctx, m, opt.Disk)
			finish(ref, started, res, err)
		}()
	}
	wg.Wait()
	// Recorded even when ctx has ended, so that a cancelled run still says what it did.
	rerr := recordSyncs(context.WithoutCancel(ctx), e.Store, synced)
	if len(failed) > 0 {
		return errors.Join(&SyncError{Failed: failed, Total: len(unique)}, rerr)
	}
	return rerr
}

// preflighted is a Planner whose Sync hands the plan of its own metadata round to
// Env.preflight before it downloads anything.
type preflighted interface {
	Planner
	preflights()
}

// syncChecked syncs m, checked by disk (when set) between its metadata round and its
// downloads: inside m's Sync when m is preflighted; else a Planner is planned first (a
// metadata round of its own), and a mirror that cannot plan is not checked.
func (e *Env) syncChecked(ctx context.Context, m Mirror, disk *DiskCheck) (Result, error) {
	if disk == nil {
		return m.Sync(ctx, e)
	}
	ref := Ref(m)
	defer disk.done(ref)
	check := func(ctx context.Context, p store.Plan) error {
		if err := disk.check(ctx, ref, p); err != nil {
			return fmt.Errorf("%s: %w", ref, err)
		}
		return nil
	}
	if _, ok := m.(preflighted); !ok {
		if pl, ok := m.(Planner); ok {
			p, err := pl.Plan(ctx, e)
			if err != nil {
				return Result{}, err
			}
			if err := check(ctx, p); err != nil {
				return Result{}, err
			}
		}
		return m.Sync(ctx, e)
	}
	e.preflight = check
	return m.Sync(ctx, e)
}

// ordered is implemented by mirrors that must sync after others (by ref) when those are
// synced in the same run.
type ordered interface {
	After() []string
}

// follows are the refs m starts after: the image providers that feed it, and those an
// ordered mirror names.
func follows(m Mirror, providers []ImageProvider) []string {
	var refs []string
	for _, p := range providers {
		refs = append(refs, Ref(p))
	}
	if o, ok := m.(ordered); ok {
		refs = append(refs, o.After()...)
	}
	return refs
}

// WriteEndpoints lists each mirror's upstream URLs, then the distinct host:port pairs
// (for outbound firewall rules and audits).
func WriteEndpoints(w io.Writer, ms []Mirror) {
	hosts := map[string]bool{}
	for _, m := range ms {
		fmt.Fprintf(w, "%s:\n", Ref(m))
		for _, e := range m.Endpoints() {
			fmt.Fprintf(w, "  %s\n", e)
			if u, err := url.Parse(stripForcedGetter(e)); err == nil && u.Host != "" {
				port := u.Port()
				if port == "" {
					port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
				}
				hosts[u.Hostname()+":"+port] = true
			}
		}
	}
	list := make([]string, 0, len(hosts))
	for h := range hosts {
		list = append(list, h)
	}
	sort.Strings(list)
	fmt.Fprintln(w, "hosts:")
	for _, h := range list {
		fmt.Fprintf(w, "  %s\n", h)
	}
}
