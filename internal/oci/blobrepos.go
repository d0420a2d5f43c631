package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/opencontainers/go-digest"
)

// maxReposPerBlob bounds how many repositories the index keeps per blob.
const maxReposPerBlob = 8

// blobReposFile is the on-disk form of the index.
type blobReposFile struct {
	Blobs map[digest.Digest][]string `json:"blobs"`
}

// blobRepos remembers, per layer blob, the registry repositories (full
// names such as "docker.io/library/busybox", newest first) it was pulled
// from or pushed to, so that a push can ask the registry to mount the blob
// from one of them. It is written through atomically.
type blobRepos struct {
	mu   sync.Mutex
	path string
	m    map[digest.Digest][]string
}

// loadBlobRepos reads the index; a missing or unreadable file starts an
// empty index, as the index is only an optimisation.
func loadBlobRepos(path string) (*blobRepos, error) {
	br := &blobRepos{path: path, m: map[digest.Digest][]string{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return br, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read blob repositories: %w", err)
	}
	var f blobReposFile
	if err := json.Unmarshal(data, &f); err == nil && f.Blobs != nil {
		br.m = f.Blobs
	}
	return br, nil
}

// add records that repo holds the blobs and saves the index. Blobs for
// which stored reports false (removed from the store since) are dropped.
func (br *blobRepos) add(repo string, blobs []digest.Digest, stored func(digest.Digest) bool) error {
	br.mu.Lock()
	defer br.mu.Unlock()
	for _, d := range blobs {
		list := slices.DeleteFunc(br.m[d], func(r string) bool { return r == repo })
		list = append([]string{repo}, list...)
		br.m[d] = list[:min(len(list), maxReposPerBlob)]
	}
	for d := range br.m {
		if !stored(d) {
			delete(br.m, d)
		}
	}
	data, err := json.Marshal(blobReposFile{Blobs: br.m})
	if err != nil {
		return fmt.Errorf("encode blob repositories: %w", err)
	}
	return writeFileAtomic(br.path, data)
}

// repos returns the repositories known to hold blob d, newest first.
func (br *blobRepos) repos(d digest.Digest) []string {
	br.mu.Lock()
	defer br.mu.Unlock()
	return slices.Clone(br.m[d])
}
