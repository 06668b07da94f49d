package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
)

// The variables that configure encryption, read by the worker, the starter and the codec server.
const (
	// EnvKeys lists the keys: "id1:base64key,id2:base64key" (32-byte keys, standard base64).
	EnvKeys = "ATOMICFLOW_CODEC_KEYS"
	// EnvKeysFile names a file holding the same list, one "id:base64key" per line or comma-separated.
	EnvKeysFile = "ATOMICFLOW_CODEC_KEYS_FILE"
	// EnvPrimary is the id of the key that encrypts; the first listed key when unset.
	EnvPrimary = "ATOMICFLOW_CODEC_PRIMARY"
)

// KeySize is the length of an AES-256 key in bytes.
const KeySize = 32

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Keyring holds named AES-256-GCM keys: the primary one encrypts, every one decrypts. It keeps
// only the ciphers, and prints only key ids.
type Keyring struct {
	primary string
	ids     []string // in the order given
	aeads   map[string]cipher.AEAD
}

// NewKeyring builds a keyring from raw keys by id; primary must be one of them. Every key must be
// KeySize bytes long.
func NewKeyring(primary string, keys map[string][]byte) (*Keyring, error) {
	ids := make([]string, 0, len(keys))
	for id := range keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	entries := make([]entry, len(ids))
	for i, id := range ids {
		entries[i] = entry{id: id, key: keys[id]}
	}
	return newKeyring(primary, entries)
}

type entry struct {
	id  string
	key []byte
}

func newKeyring(primary string, entries []entry) (*Keyring, error) {
	if len(entries) == 0 {
		return nil, errors.New("no key given")
	}
	r := &Keyring{aeads: make(map[string]cipher.AEAD, len(entries))}
	for _, e := range entries {
		if !keyIDPattern.MatchString(e.id) {
			return nil, fmt.Errorf("key id %q is not valid: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. 2026-01)", e.id)
		}
		if _, dup := r.aeads[e.id]; dup {
			return nil, fmt.Errorf("key id %q is listed twice: give each key its own id", e.id)
		}
		if len(e.key) != KeySize {
			return nil, fmt.Errorf("key %q is %d bytes long; AES-256 needs exactly %d: generate one with `openssl rand -base64 32`", e.id, len(e.key), KeySize)
		}
		block, err := aes.NewCipher(e.key)
		if err != nil { // unreachable for 32-byte keys; never quotes the key
			return nil, fmt.Errorf("key %q: cannot build the cipher", e.id)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %q: cannot build the cipher", e.id)
		}
		r.aeads[e.id] = aead
		r.ids = append(r.ids, e.id)
	}
	if primary == "" {
		primary = entries[0].id
	}
	if _, ok := r.aeads[primary]; !ok {
		return nil, &primaryError{primary: primary, ids: r.ids}
	}
	r.primary = primary
	return r, nil
}

// primaryError is a primary key id that names none of the keys.
type primaryError struct {
	primary string
	ids     []string
}

func (e *primaryError) Error() string {
	return fmt.Sprintf("primary key id %q is not among the keys (%s): name one of them", e.primary, strings.Join(quoteAll(e.ids), ", "))
}

// ParseKeys parses "id1:base64key,id2:base64key" (commas or newlines between entries; blank lines
// and lines starting with # are ignored). primary names the encrypting key; the first entry when
// empty. Errors name key ids and positions, never key material.
func ParseKeys(spec, primary string) (*Keyring, error) {
	var entries []entry
	n := 0
	for line := range strings.Lines(spec) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for item := range strings.SplitSeq(line, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			n++
			id, b64, ok := strings.Cut(item, ":")
			id, b64 = strings.TrimSpace(id), strings.TrimSpace(b64)
			if !ok || id == "" || b64 == "" {
				return nil, fmt.Errorf("entry %d is not id:base64key: write entries like 2026-01:<output of openssl rand -base64 32>", n)
			}
			key, err := decodeKey(b64)
			if err != nil {
				return nil, fmt.Errorf("key %q is not base64: write the output of `openssl rand -base64 32`", id)
			}
			entries = append(entries, entry{id: id, key: key})
		}
	}
	return newKeyring(strings.TrimSpace(primary), entries)
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// ConfigError is a bad encryption setting; it names the variable and never holds key material.
type ConfigError struct {
	Variable string
	Problem  string
}

func (e *ConfigError) Error() string { return e.Variable + ": " + e.Problem }

// FromEnv reads the keyring through lookup: EnvKeys or EnvKeysFile (one of them), and
// EnvPrimary. It returns nil and no error when neither is set: encryption is off. Empty values
// count as unset.
func FromEnv(lookup func(string) (string, bool)) (*Keyring, error) {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	keys, file, primary := get(EnvKeys), get(EnvKeysFile), get(EnvPrimary)
	var (
		spec   string
		source string
	)
	switch {
	case keys != "" && file != "":
		return nil, &ConfigError{EnvKeys, "both " + EnvKeys + " and " + EnvKeysFile + " are set: keep one"}
	case keys != "":
		spec, source = keys, EnvKeys
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, &ConfigError{EnvKeysFile, "cannot read the keys file: " + describeFileError(file, err)}
		}
		spec, source = string(b), EnvKeysFile
	case primary != "":
		return nil, &ConfigError{EnvPrimary, "set, but no key is: set " + EnvKeys + " or " + EnvKeysFile + ", or unset " + EnvPrimary}
	default:
		return nil, nil
	}
	ring, err := ParseKeys(spec, primary)
	if err != nil {
		variable := source
		var pe *primaryError
		if errors.As(err, &pe) {
			variable = EnvPrimary
		}
		return nil, &ConfigError{variable, err.Error()}
	}
	return ring, nil
}

// describeFileError says what went wrong with path without the operation's noise.
func describeFileError(path string, err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return path + ": " + pe.Err.Error()
	}
	return err.Error()
}

// Primary is the id of the key that encrypts.
func (r *Keyring) Primary() string { return r.primary }

// IDs lists every key id, in the order given.
func (r *Keyring) IDs() []string { return slices.Clone(r.ids) }

// String describes the keyring by key ids only; a nil keyring is "encryption off".
func (r *Keyring) String() string {
	if r == nil {
		return "encryption off"
	}
	return fmt.Sprintf("AES-256-GCM, primary key id %q, key ids [%s]", r.primary, strings.Join(r.ids, " "))
}

// GoString keeps %#v from printing the ciphers.
func (r *Keyring) GoString() string { return r.String() }

// Format prints the description for every verb (%x and %d included), so none reaches the keys.
func (r *Keyring) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(r.String())) }
