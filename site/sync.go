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

// SyncAll syncs each mirror with its own fetch client (so progress is per mirror). A
// mirror whose sync fails keeps what it published before and the others still publish;
// the error is a *SyncError naming every failure. Mirrors not started when ctx ends
// count as failed. A mirror that names others to follow (helm mirrors: the helm mirrors
// configured before them) starts once those in ms are done. Each mirror's outcome is
// recorded in the store (SyncRecordRef) when all are done.
func (e *Env) SyncAll(ctx context.Context, ms []Mirror, opt SyncOptions) error {
	n := opt.Concurrency
	if n <= 0 {
		n = 4
	}
	var (
		mu     sync.Mutex
		failed = map[string]error{}
		done   = map[string]outcome{}
		wg     sync.WaitGroup
		slots  = make(chan struct{}, n)
	)
	// finished[ref] is closed when ref's sync is over, for the mirrors that follow it.
	finished := make(map[string]chan struct{}, len(ms))
	for _, m := range ms {
		finished[Ref(m)] = make(chan struct{})
	}
	for _, m := range ms {
		ref := Ref(m)
		var after []chan struct{}
		if o, ok := m.(ordered); ok {
			for _, r := range o.After() {
				if c, ok := finished[r]; ok {
					after = append(after, c)
				}
			}
		}
		if len(after) == 0 {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				mu.Lock()
				failed[ref] = ctx.Err()
				mu.Unlock()
				close(finished[ref])
				continue
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(finished[ref])
			if len(after) > 0 {
				// Takes its slot once what it follows is done, so waiting holds none.
				for _, c := range after {
					<-c
				}
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					mu.Lock()
					failed[ref] = ctx.Err()
					mu.Unlock()
					return
				}
			}
			defer func() { <-slots }()
			env := *e
			var progress func(fetch.Event)
			if opt.Progress != nil {
				progress = opt.Progress(ref)
			}
			env.Fetch = NewFetchClient(e.Store, progress, e.Logger)
			started := time.Now()
			res, err := m.Sync(ctx, &env)
			mu.Lock()
			done[ref] = outcome{started: started, finished: time.Now(), res: res, err: err}
			if err != nil {
				failed[ref] = err
			}
			mu.Unlock()
			if opt.Done != nil {
				opt.Done(ref, res, err)
			}
		}()
	}
	wg.Wait()
	// Recorded even when ctx has ended, so that a cancelled run still says what it did.
	rerr := recordSyncs(context.WithoutCancel(ctx), e.Store, done)
	if len(failed) > 0 {
		return errors.Join(&SyncError{Failed: failed, Total: len(ms)}, rerr)
	}
	return rerr
}

// ordered is implemented by mirrors that must sync after others (by ref) when those are
// synced in the same run.
type ordered interface {
	After() []string
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
