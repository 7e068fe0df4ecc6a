package bundle

import (
	"fmt"
	"io"
	"os"
)

// VolumeWriter writes a stream into files of at most Size bytes each, named
// <prefix>.000, <prefix>.001, ... so that a bundle fits the media that carry it across.
type VolumeWriter struct {
	prefix string
	size   int64
	cur    *os.File
	n      int64
	paths  []string
}

// CreateVolumes starts writing volumes of size bytes under prefix. size <= 0 writes a
// single file named prefix.
func CreateVolumes(prefix string, size int64) *VolumeWriter {
	return &VolumeWriter{prefix: prefix, size: size}
}

// Write implements io.Writer, opening the next volume when the current one is full.
func (v *VolumeWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if v.cur == nil || (v.size > 0 && v.n >= v.size) {
			if err := v.rotate(); err != nil {
				return written, err
			}
		}
		chunk := p
		if v.size > 0 && int64(len(chunk)) > v.size-v.n {
			chunk = chunk[:v.size-v.n]
		}
		k, err := v.cur.Write(chunk)
		written += k
		v.n += int64(k)
		if err != nil {
			return written, err
		}
		p = p[k:]
	}
	return written, nil
}

func (v *VolumeWriter) rotate() error {
	if err := v.closeCurrent(); err != nil {
		return err
	}
	name := v.prefix
	if v.size > 0 {
		name = fmt.Sprintf("%s.%03d", v.prefix, len(v.paths))
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	v.cur, v.n = f, 0
	v.paths = append(v.paths, name)
	return nil
}

func (v *VolumeWriter) closeCurrent() error {
	if v.cur == nil {
		return nil
	}
	err := v.cur.Sync()
	if cerr := v.cur.Close(); err == nil {
		err = cerr
	}
	v.cur = nil
	return err
}

// Close syncs and closes the last volume.
func (v *VolumeWriter) Close() error {
	if v.cur == nil && len(v.paths) == 0 {
		if err := v.rotate(); err != nil { // an empty stream still makes one file
			return err
		}
	}
	return v.closeCurrent()
}

// Paths lists the volumes written, in order.
func (v *VolumeWriter) Paths() []string { return v.paths }

// OpenVolumes concatenates volumes, in the order given, into one stream.
func OpenVolumes(paths ...string) (io.ReadCloser, error) {
	files := make([]*os.File, 0, len(paths))
	readers := make([]io.Reader, 0, len(paths))
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			for _, f := range files {
				f.Close()
			}
			return nil, err
		}
		files = append(files, f)
		readers = append(readers, f)
	}
	return &multiFile{Reader: io.MultiReader(readers...), files: files}, nil
}

type multiFile struct {
	io.Reader
	files []*os.File
}

func (m *multiFile) Close() error {
	var err error
	for _, f := range m.files {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
