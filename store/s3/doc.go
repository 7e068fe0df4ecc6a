// Package s3 is a store.Store on S3-compatible object storage (MinIO, Ceph RGW, AWS S3),
// for mirrors larger than one disk and for several sites serving from one bucket.
//
// Layout under the configured prefix:
//
//	blobs/sha256/<64 hex>   verified blobs
//	refs/<name>             the digest a ref points at (empty: deleted)
//	lock                    the writer lease
//
// A blob becomes visible under its digest only after it matched: small blobs are hashed
// in memory before a single PUT, large ones are uploaded as multipart parts while hashing
// and the upload is completed only if every checksum and the size match (it is aborted
// otherwise, leaving nothing). Refs move by conditional PUT (If-Match on the ETag read, or
// If-None-Match: * when creating), so of two writers exactly one wins and the other gets
// store.ErrConflict. The writer lock is a lease object with an expiry that the holder
// renews; a writer that crashes stops renewing and its lease can be taken over once it
// expires, so a dead process never wedges the store. Resumable uploads are staged in a
// local directory, since object storage cannot append.
package s3
