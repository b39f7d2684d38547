// Package hsm talks to a hardware security module through PKCS#11
// (miekg/pkcs11): it finds the token, logs in, keeps a pool of sessions
// safe for concurrent use, and uses AES-256 keys that live in the token,
// generated there as sensitive and non-extractable, so their value never
// leaves it. Arca's PKCS#11 seal wraps the keyring key with such a key
// (AES-GCM, performed by the token).
//
// Any PKCS#11 module works; the tests use SoftHSM2.
package hsm

import (
	"crypto/rand"
	"errors"
	"fmt"
	"sync"

	"github.com/miekg/pkcs11"

	"github.com/arcakms/arca/internal/secret"
)

// Config locates the token and the key.
type Config struct {
	// Module is the path of the PKCS#11 library.
	Module string
	// TokenLabel selects the token by label; Slot by slot id when
	// TokenLabel is empty.
	TokenLabel string
	Slot       uint
	// PIN is the user PIN. It comes from the environment or a file, never
	// from the configuration file.
	PIN string
	// Sessions bounds the session pool (default 8).
	Sessions int
}

// ErrUnavailable means the module, the token or the login failed: the HSM
// cannot be used now (the seal stays closed and is retried).
var ErrUnavailable = errors.New("hsm: unavailable")

// ErrNoKey means no key has the label.
var ErrNoKey = errors.New("hsm: no such key")

// HSM is an open connection to one token.
type HSM struct {
	ctx      *pkcs11.Ctx
	module   string
	slot     uint
	sessions chan pkcs11.SessionHandle
	mu       sync.Mutex
	keys     map[string]pkcs11.ObjectHandle
	closed   bool
}

// Open loads the module, finds the token, opens the session pool and logs
// in. Failures wrap ErrUnavailable and never include the PIN.
func Open(cfg Config) (*HSM, error) {
	if cfg.Sessions <= 0 {
		cfg.Sessions = 8
	}
	ctx, err := loadModule(cfg.Module)
	if err != nil {
		return nil, err
	}
	h := &HSM{ctx: ctx, module: cfg.Module, sessions: make(chan pkcs11.SessionHandle, cfg.Sessions), keys: map[string]pkcs11.ObjectHandle{}}
	fail := func(err error) (*HSM, error) {
		h.Close()
		return nil, err
	}
	slot, err := findSlot(ctx, cfg)
	if err != nil {
		return fail(err)
	}
	h.slot = slot
	for i := range cfg.Sessions {
		s, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
		if err != nil {
			return fail(fmt.Errorf("%w: open session: %v", ErrUnavailable, err))
		}
		if i == 0 {
			// The login holds for every session of this application.
			if err := ctx.Login(s, pkcs11.CKU_USER, cfg.PIN); err != nil && !isCode(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
				ctx.CloseSession(s) //nolint:errcheck // failing anyway
				return fail(fmt.Errorf("%w: log in to the token: %v", ErrUnavailable, err))
			}
		}
		h.sessions <- s
	}
	return h, nil
}

func findSlot(ctx *pkcs11.Ctx, cfg Config) (uint, error) {
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("%w: list slots: %v", ErrUnavailable, err)
	}
	for _, s := range slots {
		if cfg.TokenLabel == "" {
			if s == cfg.Slot {
				return s, nil
			}
			continue
		}
		info, err := ctx.GetTokenInfo(s)
		if err == nil && info.Label == cfg.TokenLabel {
			return s, nil
		}
	}
	if cfg.TokenLabel != "" {
		return 0, fmt.Errorf("%w: no token labelled %q", ErrUnavailable, cfg.TokenLabel)
	}
	return 0, fmt.Errorf("%w: no token in slot %d", ErrUnavailable, cfg.Slot)
}

func isCode(err error, code uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == code
}

// Close logs out, closes the sessions and unloads the module.
func (h *HSM) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	h.mu.Unlock()
	// No logout: the login belongs to every user of the module in this
	// process, and ends when the last one finalises it.
	for len(h.sessions) > 0 {
		_ = h.ctx.CloseSession(<-h.sessions)
	}
	unloadModule(h.module)
}

// A module is initialised once per process however many HSMs use it
// (C_Initialize may not be called twice), and finalised with the last.
var (
	modulesMu sync.Mutex
	modules   = map[string]*moduleRef{}
)

type moduleRef struct {
	ctx  *pkcs11.Ctx
	refs int
}

func loadModule(path string) (*pkcs11.Ctx, error) {
	modulesMu.Lock()
	defer modulesMu.Unlock()
	if m, ok := modules[path]; ok {
		m.refs++
		return m.ctx, nil
	}
	ctx := pkcs11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("%w: cannot load the PKCS#11 module %s", ErrUnavailable, path)
	}
	if err := ctx.Initialize(); err != nil && !isCode(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		ctx.Destroy()
		return nil, fmt.Errorf("%w: initialise %s: %v", ErrUnavailable, path, err)
	}
	modules[path] = &moduleRef{ctx: ctx, refs: 1}
	return ctx, nil
}

func unloadModule(path string) {
	modulesMu.Lock()
	defer modulesMu.Unlock()
	m, ok := modules[path]
	if !ok {
		return
	}
	if m.refs--; m.refs > 0 {
		return
	}
	delete(modules, path)
	_ = m.ctx.Finalize()
	m.ctx.Destroy()
}

// with runs fn on a pooled session.
func (h *HSM) with(fn func(pkcs11.SessionHandle) error) error {
	s := <-h.sessions
	defer func() { h.sessions <- s }()
	return fn(s)
}

// findKey returns the handle of the secret key labelled label.
func (h *HSM) findKey(s pkcs11.SessionHandle, label string) (pkcs11.ObjectHandle, error) {
	h.mu.Lock()
	k, ok := h.keys[label]
	h.mu.Unlock()
	if ok {
		return k, nil
	}
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	}
	if err := h.ctx.FindObjectsInit(s, tmpl); err != nil {
		return 0, fmt.Errorf("%w: find key: %v", ErrUnavailable, err)
	}
	objs, _, err := h.ctx.FindObjects(s, 2)
	_ = h.ctx.FindObjectsFinal(s)
	if err != nil {
		return 0, fmt.Errorf("%w: find key: %v", ErrUnavailable, err)
	}
	switch len(objs) {
	case 0:
		return 0, fmt.Errorf("%w: %q", ErrNoKey, label)
	case 1:
	default:
		return 0, fmt.Errorf("hsm: %d keys are labelled %q; labels must be unique", len(objs), label)
	}
	h.mu.Lock()
	h.keys[label] = objs[0]
	h.mu.Unlock()
	return objs[0], nil
}

// HasKey reports whether a secret key labelled label exists.
func (h *HSM) HasKey(label string) (bool, error) {
	err := h.with(func(s pkcs11.SessionHandle) error {
		_, err := h.findKey(s, label)
		return err
	})
	if errors.Is(err, ErrNoKey) {
		return false, nil
	}
	return err == nil, err
}

// GenerateAESKey creates, inside the token, a persistent AES-256 key
// labelled label that is sensitive and never extractable, usable only to
// encrypt and decrypt; it fails if the label is taken.
func (h *HSM) GenerateAESKey(label string) error {
	if ok, err := h.HasKey(label); err != nil || ok {
		if ok {
			return fmt.Errorf("hsm: a key labelled %q exists already", label)
		}
		return err
	}
	return h.with(func(s pkcs11.SessionHandle) error {
		tmpl := []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
			pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
			pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true),
			pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
			pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
		}
		k, err := h.ctx.GenerateKey(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, tmpl)
		if err != nil {
			return fmt.Errorf("hsm: generate key %q: %w", label, err)
		}
		h.mu.Lock()
		h.keys[label] = k
		h.mu.Unlock()
		return nil
	})
}

// gcmNonceSize and gcmTagBits are the AES-GCM parameters used.
const (
	gcmNonceSize = 12
	gcmTagBits   = 128
)

// Encrypt encrypts plaintext with AES-256-GCM under the token's key
// labelled label, binding aad; it returns nonce || ciphertext || tag. The
// nonce is random (crypto/rand), 96 bits.
func (h *HSM) Encrypt(label string, plaintext, aad []byte) ([]byte, error) {
	nonce := make([]byte, gcmNonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	var out []byte
	err := h.with(func(s pkcs11.SessionHandle) error {
		k, err := h.findKey(s, label)
		if err != nil {
			return err
		}
		p := pkcs11.NewGCMParams(nonce, aad, gcmTagBits)
		defer p.Free()
		if err := h.ctx.EncryptInit(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, p)}, k); err != nil {
			return fmt.Errorf("hsm: encrypt: %w", err)
		}
		ct, err := h.ctx.Encrypt(s, plaintext)
		if err != nil {
			return fmt.Errorf("hsm: encrypt: %w", err)
		}
		out = append(append(out, nonce...), ct...)
		return nil
	})
	return out, err
}

// ErrDecrypt means a blob did not authenticate under the key.
var ErrDecrypt = errors.New("hsm: the blob does not decrypt under this key")

// Decrypt reverses Encrypt; the plaintext is a secret the caller wipes.
func (h *HSM) Decrypt(label string, blob, aad []byte) (*secret.Bytes, error) {
	if len(blob) < gcmNonceSize+gcmTagBits/8 {
		return nil, ErrDecrypt
	}
	var pt []byte
	err := h.with(func(s pkcs11.SessionHandle) error {
		k, err := h.findKey(s, label)
		if err != nil {
			return err
		}
		p := pkcs11.NewGCMParams(blob[:gcmNonceSize], aad, gcmTagBits)
		defer p.Free()
		if err := h.ctx.DecryptInit(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, p)}, k); err != nil {
			return fmt.Errorf("hsm: decrypt: %w", err)
		}
		if pt, err = h.ctx.Decrypt(s, blob[gcmNonceSize:]); err != nil {
			return ErrDecrypt
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return secret.New(pt), nil
}

// KeyValue asks the token for the value of the key labelled label; a token
// that protects it refuses (the tests use it to prove that).
func (h *HSM) KeyValue(label string) ([]byte, error) {
	var v []byte
	err := h.with(func(s pkcs11.SessionHandle) error {
		k, err := h.findKey(s, label)
		if err != nil {
			return err
		}
		attrs, err := h.ctx.GetAttributeValue(s, k, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
		if err != nil {
			return err
		}
		v = attrs[0].Value
		return nil
	})
	return v, err
}

// Reconnecting opens the token on first use and again after it became
// unavailable, so a server started while its HSM is away, or whose HSM
// restarts, recovers by itself. It is safe for concurrent use.
type Reconnecting struct {
	cfg Config
	mu  sync.Mutex
	h   *HSM
}

// NewReconnecting returns a Reconnecting for cfg; nothing is opened yet.
func NewReconnecting(cfg Config) *Reconnecting { return &Reconnecting{cfg: cfg} }

// get returns the open token, opening it if needed.
func (r *Reconnecting) get() (*HSM, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.h != nil {
		return r.h, nil
	}
	h, err := Open(r.cfg)
	if err != nil {
		return nil, err
	}
	r.h = h
	return h, nil
}

// failed drops the connection after a failure other than a wrong blob or
// a missing key, so the next use reopens it.
func (r *Reconnecting) failed(h *HSM, err error) {
	if err == nil || errors.Is(err, ErrDecrypt) || errors.Is(err, ErrNoKey) {
		return
	}
	r.mu.Lock()
	if r.h == h {
		r.h = nil
		defer h.Close()
	}
	r.mu.Unlock()
}

// Encrypt is HSM.Encrypt on the current connection.
func (r *Reconnecting) Encrypt(label string, plaintext, aad []byte) ([]byte, error) {
	h, err := r.get()
	if err != nil {
		return nil, err
	}
	out, err := h.Encrypt(label, plaintext, aad)
	r.failed(h, err)
	return out, err
}

// Decrypt is HSM.Decrypt on the current connection.
func (r *Reconnecting) Decrypt(label string, blob, aad []byte) (*secret.Bytes, error) {
	h, err := r.get()
	if err != nil {
		return nil, err
	}
	out, err := h.Decrypt(label, blob, aad)
	r.failed(h, err)
	return out, err
}

// HasKey is HSM.HasKey on the current connection.
func (r *Reconnecting) HasKey(label string) (bool, error) {
	h, err := r.get()
	if err != nil {
		return false, err
	}
	ok, err := h.HasKey(label)
	r.failed(h, err)
	return ok, err
}

// GenerateAESKey is HSM.GenerateAESKey on the current connection.
func (r *Reconnecting) GenerateAESKey(label string) error {
	h, err := r.get()
	if err != nil {
		return err
	}
	err = h.GenerateAESKey(label)
	r.failed(h, err)
	return err
}

// Close closes the current connection, if any.
func (r *Reconnecting) Close() {
	r.mu.Lock()
	h := r.h
	r.h = nil
	r.mu.Unlock()
	if h != nil {
		h.Close()
	}
}
