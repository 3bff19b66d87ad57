package secretbox

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ParseKey decodes a SECRET_KEY value into a 32-byte key. Accepted forms,
// after trimming surrounding white space: 64 hexadecimal characters, or
// base64 in the standard or URL-safe alphabet, with or without padding
// (e.g. the output of `openssl rand -base64 32` or `openssl rand -hex 32`).
// The error never contains the value itself.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("secretbox: key is empty; want 32 bytes as base64 or 64 hex characters (e.g. `openssl rand -base64 32`)")
	}
	if len(s) == 2*KeySize {
		if key, err := hex.DecodeString(s); err == nil {
			return key, nil
		}
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding,
		base64.URLEncoding, base64.RawURLEncoding,
	} {
		key, err := enc.Strict().DecodeString(s)
		if err == nil && len(key) == KeySize {
			return key, nil
		}
	}
	return nil, fmt.Errorf("secretbox: key (%d characters) is neither 64 hex characters nor base64 of exactly %d bytes (e.g. `openssl rand -base64 32`)", len(s), KeySize)
}

// LoadOrCreateKeyFile returns the key stored in the file at path (base64
// text, or any form ParseKey accepts). If the file does not exist it is
// created with a fresh random key, mode 0600, creating its parent directory
// with mode 0700 if needed.
//
// Creation is atomic and never replaces an existing file: the key is written
// and synced to a temporary file in the same directory, which is then
// hard-linked to path. If another process (or goroutine) created path first,
// the link fails and that key is read and returned instead, so concurrent
// creators agree on one key. On file systems without hard links it falls back
// to creating path with O_EXCL; readers then retry briefly while the file is
// still empty.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	key, err := readKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secretbox: creating key directory: %w", err)
	}

	newKey := make([]byte, KeySize)
	if _, err := rand.Read(newKey); err != nil {
		return nil, fmt.Errorf("secretbox: generating key: %w", err)
	}
	content := []byte(base64.StdEncoding.EncodeToString(newKey) + "\n")

	created, err := createExclusive(path, content)
	if err != nil {
		return nil, err
	}
	if created {
		syncDir(dir)
		return newKey, nil
	}
	// Somebody else won the race: use their key.
	return readKeyFile(path)
}

// createExclusive writes content to path unless path already exists. It
// reports whether this call created the file.
func createExclusive(path string, content []byte) (bool, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return false, fmt.Errorf("secretbox: creating temporary key file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after a successful link the key stays reachable through path
	if err := writeSyncClose(tmp, content); err != nil {
		return false, err
	}

	err = os.Link(tmpName, path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrExist):
		return false, nil
	}

	// No hard links here (some FUSE or network file systems): create path
	// exclusively and write it in place.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("secretbox: creating key file: %w", err)
	}
	if err := writeSyncClose(f, content); err != nil {
		return false, err
	}
	return true, nil
}

func writeSyncClose(f *os.File, content []byte) error {
	// os.CreateTemp already uses 0600; make it explicit in case of umask quirks.
	err := f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(content)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("secretbox: writing key file: %w", err)
	}
	return nil
}

// readKeyFile reads and parses a key file. A file that is still empty (being
// written by a creator using the O_EXCL fallback) is re-read for up to about
// a second.
func readKeyFile(path string) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("secretbox: reading key file: %w", err)
		}
		if len(bytes.TrimSpace(data)) == 0 && attempt < 20 {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		key, err := ParseKey(string(data))
		if err != nil {
			return nil, fmt.Errorf("%w (in key file %s)", err, path)
		}
		return key, nil
	}
}

// syncDir makes a new directory entry durable where the platform allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
