package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"golang.org/x/sync/errgroup"

	"github.com/airgapkit/airgap/store"
)

// DefaultPartSize is the multipart part size; blobs smaller than one part go up in one PUT.
const DefaultPartSize = 16 << 20

// Config locates a bucket and says how to reach it.
type Config struct {
	Endpoint string // host:port
	Bucket   string
	Prefix   string // optional, without leading or trailing slash
	Region   string
	// Insecure uses plain http. Only when the URL says so (?insecure=true).
	Insecure bool
	// Creds, when nil, come from the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
	// MINIO_ROOT_USER/MINIO_ROOT_PASSWORD), then ~/.aws/credentials, then IAM.
	Creds *credentials.Credentials
	// Transport for the HTTP client (custom CA via tlsutil.ClientConfig); nil: default.
	Transport http.RoundTripper
	// PartSize for multipart uploads; 0: DefaultPartSize.
	PartSize int64
	// StagingDir holds partial resumable uploads; "": <os temp dir>/airgap-s3-staging.
	StagingDir string
	// LeaseTTL is how long a writer lease lives without renewal; 0: 30 s.
	LeaseTTL time.Duration
}

// ParseURL reads s3://bucket/prefix?endpoint=host:port&region=r&insecure=true.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("s3: %w", err)
	}
	if u.Scheme != "s3" || u.Host == "" {
		return Config{}, fmt.Errorf("s3: %q: want s3://bucket/prefix?endpoint=host:port", raw)
	}
	q := u.Query()
	cfg := Config{
		Bucket:   u.Host,
		Prefix:   strings.Trim(u.Path, "/"),
		Endpoint: q.Get("endpoint"),
		Region:   q.Get("region"),
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = "s3.amazonaws.com"
	}
	switch q.Get("insecure") {
	case "", "false":
	case "true":
		cfg.Insecure = true
	default:
		return Config{}, fmt.Errorf("s3: insecure=%q: want true or false", q.Get("insecure"))
	}
	for k := range q {
		switch k {
		case "endpoint", "region", "insecure":
		default:
			return Config{}, fmt.Errorf("s3: unknown URL parameter %q", k)
		}
	}
	if cfg.Prefix != "" {
		if err := store.ValidatePath(cfg.Prefix); err != nil {
			return Config{}, fmt.Errorf("s3: prefix: %w", err)
		}
	}
	return cfg, nil
}

// Store is the S3 backend.
type Store struct {
	cfg    Config
	client *minio.Client
	core   minio.Core
	owner  string // this process's lease identity
}

var (
	_ store.Store         = (*Store)(nil)
	_ store.PartialLister = (*Store)(nil)
)

// Open connects to the bucket (which must exist).
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.PartSize <= 0 {
		cfg.PartSize = DefaultPartSize
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 30 * time.Second
	}
	if cfg.StagingDir == "" {
		cfg.StagingDir = filepath.Join(os.TempDir(), "airgap-s3-staging")
	}
	creds := cfg.Creds
	if creds == nil {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.FileAWSCredentials{}, &credentials.IAM{},
		})
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{Creds: creds, Secure: !cfg.Insecure, Region: cfg.Region, Transport: cfg.Transport})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	ok, err := c.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("s3: bucket %s: %w", cfg.Bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("s3: bucket %s: %w", cfg.Bucket, store.ErrNotFound)
	}
	host, _ := os.Hostname()
	return &Store{cfg: cfg, client: c, core: minio.Core{Client: c}, owner: fmt.Sprintf("%s/%d/%d", host, os.Getpid(), time.Now().UnixNano())}, nil
}

func (s *Store) key(parts ...string) string {
	k := strings.Join(parts, "/")
	if s.cfg.Prefix != "" {
		k = s.cfg.Prefix + "/" + k
	}
	return k
}

func (s *Store) blobKey(d store.Digest) (string, error) {
	if err := d.Validate(); err != nil {
		return "", err
	}
	return s.key("blobs", "sha256", d.Hex()), nil
}

func isNotFound(err error) bool {
	code := minio.ToErrorResponse(err).Code
	return code == "NoSuchKey" || code == "NotFound" || minio.ToErrorResponse(err).StatusCode == http.StatusNotFound
}

func isPreconditionFailed(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.StatusCode == http.StatusPreconditionFailed || r.Code == "PreconditionFailed" || r.StatusCode == http.StatusConflict
}

// Put implements store.Store: hash while uploading, complete only what matched.
func (s *Store) Put(ctx context.Context, e store.Expect, r io.Reader) (store.BlobInfo, error) {
	v, err := store.NewVerifier(e)
	if err != nil {
		return store.BlobInfo{}, err
	}
	if d := e.Digest(); d != "" {
		if info, err := s.Stat(ctx, d); err == nil && (e.Size <= 0 || e.Size == info.Size) {
			return info, nil
		}
	}
	r = store.ContextReader(ctx, r)
	first := make([]byte, s.cfg.PartSize)
	n, end, err := fill(r, first)
	if err != nil {
		return store.BlobInfo{}, fmt.Errorf("store/s3: put: %w", err)
	}
	if _, werr := v.Write(first[:n]); werr != nil {
		return store.BlobInfo{}, werr
	}
	if end { // the whole blob fits one part: verify, then one PUT
		d, err := v.Check()
		if err != nil {
			return store.BlobInfo{}, err
		}
		key, _ := s.blobKey(d)
		if _, err := s.client.PutObject(ctx, s.cfg.Bucket, key, bytes.NewReader(first[:n]), int64(n), minio.PutObjectOptions{ContentType: "application/octet-stream"}); err != nil {
			return store.BlobInfo{}, fmt.Errorf("store/s3: put: %w", err)
		}
		return store.BlobInfo{Digest: d, Size: int64(n)}, nil
	}
	return s.putMultipart(ctx, v, e.Digest(), first, r)
}

// putMultipart uploads parts while v hashes them and completes the upload only if they
// matched. When the digest is known in advance the upload goes straight to its final key
// (invisible until completed); otherwise to a staging key that is copied into place.
func (s *Store) putMultipart(ctx context.Context, v *store.Verifier, want store.Digest, first []byte, r io.Reader) (info store.BlobInfo, err error) {
	staging := s.key("tmp", fmt.Sprintf("%s-%d", strings.ReplaceAll(s.owner, "/", "-"), time.Now().UnixNano()))
	if want != "" {
		staging, _ = s.blobKey(want)
	}
	id, err := s.core.NewMultipartUpload(ctx, s.cfg.Bucket, staging, minio.PutObjectOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return store.BlobInfo{}, fmt.Errorf("store/s3: put: %w", err)
	}
	completed := false
	defer func() {
		if !completed {
			_ = s.core.AbortMultipartUpload(context.WithoutCancel(ctx), s.cfg.Bucket, staging, id)
		}
	}()
	// Parts upload concurrently (as minio-go's own PutObject does) while this goroutine
	// reads and hashes the next one; at most partsInFlight buffers exist at once.
	parts, err := s.uploadParts(ctx, staging, id, v, first, r)
	if err != nil {
		return store.BlobInfo{}, err
	}
	d, err := v.Check()
	if err != nil {
		return store.BlobInfo{}, err // deferred abort: nothing is left
	}
	if _, err := s.core.CompleteMultipartUpload(ctx, s.cfg.Bucket, staging, id, parts, minio.PutObjectOptions{}); err != nil {
		return store.BlobInfo{}, fmt.Errorf("store/s3: complete upload: %w", err)
	}
	completed = true
	key, _ := s.blobKey(d)
	if key == staging {
		return store.BlobInfo{Digest: d, Size: v.Written()}, nil
	}
	defer s.client.RemoveObject(context.WithoutCancel(ctx), s.cfg.Bucket, staging, minio.RemoveObjectOptions{})
	src := minio.CopySrcOptions{Bucket: s.cfg.Bucket, Object: staging}
	dst := minio.CopyDestOptions{Bucket: s.cfg.Bucket, Object: key}
	if _, err := s.client.ComposeObject(ctx, dst, src); err != nil {
		return store.BlobInfo{}, fmt.Errorf("store/s3: move %s into place: %w", d, err)
	}
	return store.BlobInfo{Digest: d, Size: v.Written()}, nil
}

// partsInFlight bounds concurrent part uploads (and so memory: that many PartSize buffers).
const partsInFlight = 4

// uploadParts sends first and the rest of r as parts of upload id, hashing every byte
// with v in order. It returns the parts in order for CompleteMultipartUpload.
func (s *Store) uploadParts(ctx context.Context, key, id string, v *store.Verifier, first []byte, r io.Reader) ([]minio.CompletePart, error) {
	g, gctx := errgroup.WithContext(ctx)
	free := make(chan []byte, partsInFlight)
	free <- first
	for range partsInFlight - 1 {
		free <- make([]byte, len(first))
	}
	var mu sync.Mutex
	var parts []minio.CompletePart
	n := len(first)
	buf := <-free
	for part := 1; n > 0; part++ {
		owned, body := buf, buf[:n] // buf is reassigned below: the goroutine keeps its own
		g.Go(func() error {
			defer func() { free <- owned[:cap(owned)] }()
			// Unsigned payload, as minio-go's own PutObject sends by default: the bytes were
			// hashed by the Verifier already, and a second SHA-256 per part for the request
			// signature cost a fifth of the throughput. `airgap verify` re-hashes objects.
			p, err := s.core.PutObjectPart(gctx, s.cfg.Bucket, key, id, part, bytes.NewReader(body), int64(len(body)), minio.PutObjectPartOptions{DisableContentSha256: true})
			if err != nil {
				return fmt.Errorf("store/s3: put part %d: %w", part, err)
			}
			mu.Lock()
			parts = append(parts, minio.CompletePart{PartNumber: part, ETag: p.ETag})
			mu.Unlock()
			return nil
		})
		select {
		case buf = <-free:
		case <-gctx.Done():
			return nil, g.Wait()
		}
		var err error
		if n, _, err = fill(store.ContextReader(gctx, r), buf); err != nil {
			g.Wait()
			return nil, fmt.Errorf("store/s3: put: %w", err)
		}
		if _, err := v.Write(buf[:n]); err != nil {
			g.Wait()
			return nil, err
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].PartNumber < parts[j].PartNumber })
	return parts, nil
}

// fill reads into buf until it is full or r ends (end reports a clean io.EOF); any other
// error, even io.ErrUnexpectedEOF from r, is returned as it is.
func fill(r io.Reader, buf []byte) (n int, end bool, err error) {
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if errors.Is(err, io.EOF) {
			return n, true, nil
		}
		if err != nil {
			return n, false, err
		}
	}
	return n, false, nil
}

// Open implements store.Store. The object reads lazily and seeks with Range requests.
func (s *Store) Open(ctx context.Context, d store.Digest) (store.Blob, error) {
	info, err := s.Stat(ctx, d)
	if err != nil {
		return nil, err
	}
	key, _ := s.blobKey(d)
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("store/s3: open %s: %w", d, err)
	}
	return &object{Object: obj, size: info.Size}, nil
}

type object struct {
	*minio.Object
	size int64
}

func (o *object) Size() int64 { return o.size }

// Stat implements store.Store with a HEAD request.
func (s *Store) Stat(ctx context.Context, d store.Digest) (store.BlobInfo, error) {
	key, err := s.blobKey(d)
	if err != nil {
		return store.BlobInfo{}, err
	}
	oi, err := s.client.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{})
	if isNotFound(err) {
		return store.BlobInfo{}, fmt.Errorf("%w: blob %s", store.ErrNotFound, d)
	}
	if err != nil {
		return store.BlobInfo{}, fmt.Errorf("store/s3: stat %s: %w", d, err)
	}
	return store.BlobInfo{Digest: d, Size: oi.Size}, nil
}

// Has implements store.Store.
func (s *Store) Has(ctx context.Context, d store.Digest) (bool, error) {
	_, err := s.Stat(ctx, d)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, d store.Digest) error {
	key, err := s.blobKey(d)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
		return fmt.Errorf("store/s3: delete %s: %w", d, err)
	}
	return nil
}

// Walk implements store.Store by listing blobs/sha256/.
func (s *Store) Walk(ctx context.Context, fn func(store.BlobInfo) error) error {
	prefix := s.key("blobs", "sha256") + "/"
	for oi := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if oi.Err != nil {
			return fmt.Errorf("store/s3: list: %w", oi.Err)
		}
		d, err := store.DigestFromHex(strings.TrimPrefix(oi.Key, prefix))
		if err != nil {
			continue // not ours
		}
		if err := fn(store.BlobInfo{Digest: d, Size: oi.Size}); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// readSmall reads a small object and its ETag; exists is false when it is absent.
func (s *Store) readSmall(ctx context.Context, key string) (body []byte, etag string, exists bool, err error) {
	rc, oi, _, err := s.core.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if isNotFound(err) {
		return nil, "", false, nil
	}
	if err != nil {
		return nil, "", false, err
	}
	defer rc.Close()
	body, err = io.ReadAll(io.LimitReader(rc, 1<<16))
	return body, oi.ETag, true, err
}

// putIf writes a small object only if it still has etag ("" = only if absent).
func (s *Store) putIf(ctx context.Context, key string, body []byte, etag string) error {
	opts := minio.PutObjectOptions{ContentType: "text/plain"}
	if etag == "" {
		opts.SetMatchETagExcept("*")
	} else {
		opts.SetMatchETag(etag)
	}
	_, err := s.client.PutObject(ctx, s.cfg.Bucket, key, bytes.NewReader(body), int64(len(body)), opts)
	if isPreconditionFailed(err) {
		return store.ErrConflict
	}
	return err
}

// Ref implements store.Store. An empty ref object is a deleted ref.
func (s *Store) Ref(ctx context.Context, name string) (store.Digest, error) {
	if err := store.ValidatePath(name); err != nil {
		return "", err
	}
	body, _, exists, err := s.readSmall(ctx, s.key("refs", name))
	if err != nil {
		return "", fmt.Errorf("store/s3: ref %s: %w", name, err)
	}
	if !exists || len(bytes.TrimSpace(body)) == 0 {
		return "", fmt.Errorf("%w: ref %s", store.ErrNotFound, name)
	}
	return store.ParseDigest(strings.TrimSpace(string(body)))
}

// SwapRef implements store.Store with a conditional PUT; deleting writes an empty object,
// so that deletion is a compare-and-swap too.
func (s *Store) SwapRef(ctx context.Context, name string, old, new store.Digest) error {
	if err := store.ValidatePath(name); err != nil {
		return err
	}
	if new != "" {
		if err := new.Validate(); err != nil {
			return err
		}
	}
	key := s.key("refs", name)
	body, etag, _, err := s.readSmall(ctx, key)
	if err != nil {
		return fmt.Errorf("store/s3: ref %s: %w", name, err)
	}
	if cur := store.Digest(strings.TrimSpace(string(body))); cur != old {
		return fmt.Errorf("%w: ref %s is %q, expected %q", store.ErrConflict, name, cur, old)
	}
	content := []byte{}
	if new != "" {
		content = []byte(string(new) + "\n")
	}
	if err := s.putIf(ctx, key, content, etag); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("%w: ref %s moved meanwhile", store.ErrConflict, name)
		}
		return fmt.Errorf("store/s3: ref %s: %w", name, err)
	}
	return nil
}

// Refs implements store.Store.
func (s *Store) Refs(ctx context.Context) ([]string, error) {
	prefix := s.key("refs") + "/"
	var names []string
	for oi := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if oi.Err != nil {
			return nil, fmt.Errorf("store/s3: list refs: %w", oi.Err)
		}
		if oi.Size == 0 {
			continue // deleted
		}
		names = append(names, strings.TrimPrefix(oi.Key, prefix))
	}
	sort.Strings(names)
	return names, nil
}
