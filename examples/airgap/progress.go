package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/airgapkit/airgap/site"
	"github.com/airgapkit/airgap/store/fetch"
)

// progress shows what syncs are doing: mpb bars on a terminal, a plain line every few
// seconds otherwise (logs, CI).
type progress struct {
	out   io.Writer
	bars  *mpb.Progress // nil in plain mode
	mu    sync.Mutex
	every time.Duration
}

func newProgress(out io.Writer) *progress {
	p := &progress{out: out, every: 5 * time.Second}
	if f, ok := out.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.bars = mpb.New(mpb.WithOutput(out), mpb.WithWidth(30))
		}
	}
	return p
}

// tracker follows one mirror's sync.
type tracker struct {
	p          *progress
	name       string
	files      atomic.Int64
	bytes      atomic.Int64
	failed     atomic.Int64
	bar        *mpb.Bar
	lastReport atomic.Int64 // unix nanos
}

func (p *progress) track(name string) *tracker {
	t := &tracker{p: p, name: name}
	t.lastReport.Store(time.Now().UnixNano())
	if p.bars != nil {
		t.bar = p.bars.New(0, mpb.SpinnerStyle(),
			mpb.PrependDecorators(decor.Name(name, decor.WCSyncSpaceR)),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
				return fmt.Sprintf("%d files  %s", t.files.Load(), site.HumanBytes(t.bytes.Load()))
			})))
	}
	return t
}

// event is the fetch.Client's Progress callback: cheap and safe for concurrent use.
func (t *tracker) event(e fetch.Event) {
	if !e.Done {
		return
	}
	if e.Err != nil {
		t.failed.Add(1)
		return
	}
	t.files.Add(1)
	if e.Bytes > 0 {
		t.bytes.Add(e.Bytes)
	}
	if t.bar == nil {
		now := time.Now().UnixNano()
		last := t.lastReport.Load()
		if time.Duration(now-last) >= t.p.every && t.lastReport.CompareAndSwap(last, now) {
			t.p.printf("%s: %d files, %s so far\n", t.name, t.files.Load(), site.HumanBytes(t.bytes.Load()))
		}
	}
}

// finish reports the sync's outcome.
func (t *tracker) finish(summary string, err error) {
	if t.bar != nil {
		t.bar.SetTotal(-1, true)
		t.bar.Wait()
	}
	if err != nil {
		t.p.printf("%s: FAILED: %v\n", t.name, err)
		return
	}
	t.p.printf("%s: published: %s\n", t.name, summary)
}

func (p *progress) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bars != nil {
		fmt.Fprintf(p.bars, format, args...)
		return
	}
	fmt.Fprintf(p.out, format, args...)
}

// wait stops drawing.
func (p *progress) wait() {
	if p.bars != nil {
		p.bars.Wait()
	}
}
