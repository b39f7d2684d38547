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
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
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

// errClosed is a call on a connection closed meanwhile (Reconnecting
// retries it on the new one).
var errClosed = fmt.Errorf("%w: the connection to the token is closed", ErrUnavailable)

// ErrNoKey means no key has the label.
var ErrNoKey = errors.New("hsm: no such key")

// HSM is an open connection to one token.
type HSM struct {
	ctx      *pkcs11.Ctx
	module   string
	slot     uint
	sessions chan pkcs11.SessionHandle
	// life is held shared by every call in flight and exclusively by
	// Close, which so waits for them before it closes their sessions and
	// finalises the module they call into.
	life   sync.RWMutex
	closed bool
	mu     sync.Mutex // guards keys
	keys   map[objectKey]pkcs11.ObjectHandle
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
	h := &HSM{ctx: ctx, module: cfg.Module, sessions: make(chan pkcs11.SessionHandle, cfg.Sessions), keys: map[objectKey]pkcs11.ObjectHandle{}}
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

// brokenCodes are the PKCS#11 results that mean the connection to the
// token, not the request, failed.
var brokenCodes = []uint{
	pkcs11.CKR_GENERAL_ERROR, pkcs11.CKR_HOST_MEMORY, pkcs11.CKR_DEVICE_ERROR, pkcs11.CKR_DEVICE_MEMORY,
	pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_TOKEN_NOT_RECOGNIZED,
	pkcs11.CKR_SESSION_CLOSED, pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_USER_NOT_LOGGED_IN,
	pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED, pkcs11.CKR_FUNCTION_FAILED,
}

// broken reports whether err means the connection to the token is unusable.
func broken(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) {
		return true
	}
	for _, c := range brokenCodes {
		if isCode(err, c) {
			return true
		}
	}
	return false
}

func isCode(err error, code uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == code
}

// Close waits for the calls in flight, closes the sessions and unloads the
// module. Calls made after it fail with ErrUnavailable.
func (h *HSM) Close() {
	h.life.Lock()
	defer h.life.Unlock()
	if h.closed {
		return
	}
	h.closed = true
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

// with runs fn on a pooled session. fn must not call with again.
func (h *HSM) with(fn func(pkcs11.SessionHandle) error) error {
	h.life.RLock()
	defer h.life.RUnlock()
	if h.closed {
		return errClosed
	}
	s := <-h.sessions
	defer func() { h.sessions <- s }()
	return fn(s)
}

// findKey returns the handle of the secret key labelled label.
func (h *HSM) findKey(s pkcs11.SessionHandle, label string) (pkcs11.ObjectHandle, error) {
	return h.findObject(s, label, pkcs11.CKO_SECRET_KEY)
}

// findObject returns the handle of the object of class labelled label,
// from the cache of handles once found.
func (h *HSM) findObject(s pkcs11.SessionHandle, label string, class uint) (pkcs11.ObjectHandle, error) {
	ck := objectKey{label, class}
	h.mu.Lock()
	k, ok := h.keys[ck]
	h.mu.Unlock()
	if ok {
		return k, nil
	}
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, class),
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
	h.keys[ck] = objs[0]
	h.mu.Unlock()
	return objs[0], nil
}

// withKey runs fn on a pooled session with the handle of the object of
// class labelled label. A cached handle the token no longer knows (another
// process destroyed the object, or the token restarted) is forgotten and
// looked up once more.
func (h *HSM) withKey(label string, class uint, fn func(pkcs11.SessionHandle, pkcs11.ObjectHandle) error) error {
	return h.with(func(s pkcs11.SessionHandle) error {
		for attempt := 0; ; attempt++ {
			k, err := h.findObject(s, label, class)
			if err != nil {
				return err
			}
			err = fn(s, k)
			if attempt == 0 && (isCode(err, pkcs11.CKR_OBJECT_HANDLE_INVALID) || isCode(err, pkcs11.CKR_KEY_HANDLE_INVALID)) {
				h.mu.Lock()
				delete(h.keys, objectKey{label, class})
				h.mu.Unlock()
				continue
			}
			return err
		}
	})
}

// objectKey indexes the cache of object handles.
type objectKey struct {
	label string
	class uint
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
			pkcs11.NewAttribute(pkcs11.CKA_SIGN, false),
			pkcs11.NewAttribute(pkcs11.CKA_VERIFY, false),
			pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
			pkcs11.NewAttribute(pkcs11.CKA_MODIFIABLE, false),
		}
		k, err := h.ctx.GenerateKey(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, tmpl)
		if err != nil {
			return fmt.Errorf("hsm: generate key %q: %w", label, err)
		}
		h.mu.Lock()
		h.keys[objectKey{label, pkcs11.CKO_SECRET_KEY}] = k
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
	ct, err := h.SealGCM(label, nonce, plaintext, aad)
	if err != nil {
		return nil, err
	}
	return append(nonce, ct...), nil
}

// ErrDecrypt means a blob did not authenticate under the key.
var ErrDecrypt = errors.New("hsm: the blob does not decrypt under this key")

// Decrypt reverses Encrypt; the plaintext is a secret the caller wipes.
func (h *HSM) Decrypt(label string, blob, aad []byte) (*secret.Bytes, error) {
	if len(blob) < gcmNonceSize+gcmTagBits/8 {
		return nil, ErrDecrypt
	}
	pt, err := h.OpenGCM(label, blob[:gcmNonceSize], blob[gcmNonceSize:], aad)
	if err != nil {
		return nil, err
	}
	return secret.New(pt), nil
}

// SealGCM has the token encrypt plaintext with AES-GCM (128-bit tag) under
// its key labelled label, with the caller's 96-bit nonce and associated
// data; it returns ciphertext || tag. The caller must never repeat a nonce
// under one key (use random nonces).
func (h *HSM) SealGCM(label string, nonce, plaintext, aad []byte) ([]byte, error) {
	if len(nonce) != gcmNonceSize {
		return nil, fmt.Errorf("hsm: AES-GCM nonce must be %d bytes", gcmNonceSize)
	}
	var out []byte
	err := h.withKey(label, pkcs11.CKO_SECRET_KEY, func(s pkcs11.SessionHandle, k pkcs11.ObjectHandle) error {
		p := pkcs11.NewGCMParams(nonce, aad, gcmTagBits)
		defer p.Free()
		if err := h.ctx.EncryptInit(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, p)}, k); err != nil {
			return fmt.Errorf("hsm: encrypt: %w", err)
		}
		var err error
		if out, err = h.ctx.Encrypt(s, plaintext); err != nil {
			return fmt.Errorf("hsm: encrypt: %w", err)
		}
		return nil
	})
	return out, err
}

// OpenGCM reverses SealGCM; a ciphertext that does not authenticate is
// ErrDecrypt. The plaintext is the caller's to wipe.
func (h *HSM) OpenGCM(label string, nonce, sealed, aad []byte) ([]byte, error) {
	if len(nonce) != gcmNonceSize || len(sealed) < gcmTagBits/8 {
		return nil, ErrDecrypt
	}
	var pt []byte
	err := h.withKey(label, pkcs11.CKO_SECRET_KEY, func(s pkcs11.SessionHandle, k pkcs11.ObjectHandle) error {
		p := pkcs11.NewGCMParams(nonce, aad, gcmTagBits)
		defer p.Free()
		if err := h.ctx.DecryptInit(s, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, p)}, k); err != nil {
			return fmt.Errorf("hsm: decrypt: %w", err)
		}
		var err error
		if pt, err = h.ctx.Decrypt(s, sealed); err != nil {
			return ErrDecrypt
		}
		return nil
	})
	return pt, err
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

// failed drops the connection after a failure that says the token or the
// session is gone, so the next use reopens it. A caller's mistake (a bad
// argument, a wrong blob, a missing key) keeps it.
func (r *Reconnecting) failed(h *HSM, err error) {
	if !broken(err) {
		return
	}
	r.mu.Lock()
	if r.h == h {
		r.h = nil
		defer h.Close()
	}
	r.mu.Unlock()
}

// use runs fn on the current connection, opening it if needed, and drops
// the connection if fn failed in a way that suggests it is broken.
func use[T any](r *Reconnecting, fn func(*HSM) (T, error)) (T, error) {
	h, err := r.get()
	if err != nil {
		var zero T
		return zero, err
	}
	out, err := fn(h)
	for range 4 {
		if !errors.Is(err, errClosed) {
			break
		}
		// Another call dropped this connection as this one started: run
		// it on the next (a few times, for a token that keeps failing).
		if h, err = r.get(); err != nil {
			var zero T
			return zero, err
		}
		out, err = fn(h)
	}
	r.failed(h, err)
	return out, err
}

// Encrypt is HSM.Encrypt on the current connection.
func (r *Reconnecting) Encrypt(label string, plaintext, aad []byte) ([]byte, error) {
	return use(r, func(h *HSM) ([]byte, error) { return h.Encrypt(label, plaintext, aad) })
}

// Decrypt is HSM.Decrypt on the current connection.
func (r *Reconnecting) Decrypt(label string, blob, aad []byte) (*secret.Bytes, error) {
	return use(r, func(h *HSM) (*secret.Bytes, error) { return h.Decrypt(label, blob, aad) })
}

// HasKey is HSM.HasKey on the current connection.
func (r *Reconnecting) HasKey(label string) (bool, error) {
	return use(r, func(h *HSM) (bool, error) { return h.HasKey(label) })
}

// GenerateAESKey is HSM.GenerateAESKey on the current connection.
func (r *Reconnecting) GenerateAESKey(label string) error {
	_, err := use(r, func(h *HSM) (struct{}, error) { return struct{}{}, h.GenerateAESKey(label) })
	return err
}

// SealGCM is HSM.SealGCM on the current connection.
func (r *Reconnecting) SealGCM(label string, nonce, plaintext, aad []byte) ([]byte, error) {
	return use(r, func(h *HSM) ([]byte, error) { return h.SealGCM(label, nonce, plaintext, aad) })
}

// OpenGCM is HSM.OpenGCM on the current connection.
func (r *Reconnecting) OpenGCM(label string, nonce, sealed, aad []byte) ([]byte, error) {
	return use(r, func(h *HSM) ([]byte, error) { return h.OpenGCM(label, nonce, sealed, aad) })
}

// GenerateKeyPair is HSM.GenerateKeyPair on the current connection.
func (r *Reconnecting) GenerateKeyPair(label string, kind PairKind) (crypto.PublicKey, error) {
	return use(r, func(h *HSM) (crypto.PublicKey, error) { return h.GenerateKeyPair(label, kind) })
}

// DestroyKey is HSM.DestroyKey on the current connection.
func (r *Reconnecting) DestroyKey(label string) error {
	_, err := use(r, func(h *HSM) (struct{}, error) { return struct{}{}, h.DestroyKey(label) })
	return err
}

// Signer is HSM.Signer on whichever connection is current at each use.
func (r *Reconnecting) Signer(label string, pub crypto.PublicKey) crypto.Signer {
	return &reconnectingSigner{r: r, label: label, pub: pub}
}

type reconnectingSigner struct {
	r     *Reconnecting
	label string
	pub   crypto.PublicKey
}

func (s *reconnectingSigner) Public() crypto.PublicKey { return s.pub }

func (s *reconnectingSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return use(s.r, func(h *HSM) ([]byte, error) { return h.Signer(s.label, s.pub).Sign(rand, digest, opts) })
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
