package s3

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/airgapkit/airgap/store"
)

// lease is the content of the lock object.
type lease struct {
	Owner   string    `json:"owner"`
	Expires time.Time `json:"expires"`
}

// Lock implements store.Store: it takes the writer lease, polling until ctx is done.
func (s *Store) Lock(ctx context.Context) (func() error, error) {
	for {
		unlock, err := s.TryLock(ctx)
		if !errors.Is(err, store.ErrLocked) {
			return unlock, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("store/s3: waiting for lease: %w: %w", store.ErrLocked, ctx.Err())
		case <-time.After(s.cfg.LeaseTTL / 10):
		}
	}
}

// TryLock implements store.Store. The lease is created with If-None-Match: *, or taken
// over with If-Match from a holder whose lease expired. While held, it is renewed every
// third of its TTL by a goroutine that the returned unlock stops.
func (s *Store) TryLock(ctx context.Context) (func() error, error) {
	key := s.key("lock")
	body, etag, exists, err := s.readSmall(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("store/s3: lease: %w", err)
	}
	if exists && len(body) > 0 {
		var cur lease
		if json.Unmarshal(body, &cur) == nil && time.Now().Before(cur.Expires) {
			return nil, fmt.Errorf("%w: lease held by %s until %s", store.ErrLocked, cur.Owner, cur.Expires.Format(time.RFC3339))
		}
	}
	if !exists {
		etag = ""
	}
	if err := s.putIf(ctx, key, s.leaseBody(), etag); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("%w: lease taken meanwhile", store.ErrLocked)
		}
		return nil, fmt.Errorf("store/s3: lease: %w", err)
	}
	_, etag, _, err = s.readSmall(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("store/s3: lease: %w", err)
	}
	return s.hold(key, etag), nil
}

func (s *Store) leaseBody() []byte {
	b, _ := json.Marshal(lease{Owner: s.owner, Expires: time.Now().Add(s.cfg.LeaseTTL).UTC()})
	return b
}

// hold renews the lease until the returned func is called, which then releases it by
// writing an empty lease (conditional on still holding it).
func (s *Store) hold(key, etag string) func() error {
	stop := make(chan struct{})
	done := make(chan struct{})
	var mu sync.Mutex
	go func() {
		defer close(done)
		t := time.NewTicker(s.cfg.LeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				mu.Lock()
				ctx, cancel := context.WithTimeout(context.Background(), s.cfg.LeaseTTL/3)
				if err := s.putIf(ctx, key, s.leaseBody(), etag); err == nil {
					if _, e, _, err := s.readSmall(ctx, key); err == nil {
						etag = e
					}
				}
				cancel()
				mu.Unlock()
			}
		}
	}()
	var once sync.Once
	return func() error {
		var err error
		once.Do(func() {
			close(stop)
			<-done
			mu.Lock()
			defer mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err = s.putIf(ctx, key, nil, etag)
			if errors.Is(err, store.ErrConflict) {
				err = fmt.Errorf("store/s3: lease was lost before release: %w", store.ErrConflict)
			}
		})
		return err
	}
}
