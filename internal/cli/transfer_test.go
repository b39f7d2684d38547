package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/arcakms/arca/client"
	"github.com/arcakms/arca/internal/api/rest"
	"github.com/arcakms/arca/internal/audit"
	"github.com/arcakms/arca/internal/crypto"
	"github.com/arcakms/arca/internal/kms"
	"github.com/arcakms/arca/internal/secret"
	"github.com/arcakms/arca/internal/storage/bolt"
)

// liveServer is a real Arca behind the REST API: a kms.Service over a bbolt
// file and an audit file, served on a loopback httptest server and
// dev-initialised. The CLI talks to it over HTTP like to any server.
type liveServer struct {
	addr, token string
	auditPath   string
}

func startLiveServer(t *testing.T) *liveServer {
	t.Helper()
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := bolt.Open(filepath.Join(dir, "arca.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	auditPath := filepath.Join(dir, "audit.log")
	al, err := audit.OpenFile(auditPath, audit.FileOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = al.Close() })
	ctx := context.Background()
	svc, err := kms.New(ctx, kms.Options{Store: st, Audit: al, Logger: logger, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	tok, err := svc.InitDev(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rest.New(svc, rest.Options{Logger: logger}))
	t.Cleanup(srv.Close) // runs first: no request is in flight when the service closes
	return &liveServer{addr: srv.URL, token: tok, auditPath: auditPath}
}

// run runs the CLI against the server.
func (s *liveServer) run(t *testing.T, args ...string) result {
	t.Helper()
	return runCLI(t, "", append([]string{"--addr", s.addr, "--token", s.token}, args...)...)
}

func describe(args []string, r result) string {
	return fmt.Sprintf("arca %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
}

// ok runs the CLI and fails the test unless it exits 0.
func (s *liveServer) ok(t *testing.T, args ...string) result {
	t.Helper()
	r := s.run(t, args...)
	if r.code != 0 {
		t.Fatal(describe(args, r))
	}
	return r
}

// okJSON runs the CLI with -o json and decodes its output into v.
func (s *liveServer) okJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	args = append(args, "-o", "json")
	r := s.ok(t, args...)
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("%s\nstdout is not the expected JSON: %v", describe(args, r), err)
	}
}

// fails runs the CLI and fails the test unless it exits with code and
// stderr contains want.
func (s *liveServer) fails(t *testing.T, code int, want string, args ...string) result {
	t.Helper()
	r := s.run(t, args...)
	if r.code != code || !strings.Contains(r.stderr, want) {
		t.Fatalf("want exit %d and %q in stderr; got %s", code, want, describe(args, r))
	}
	return r
}

var (
	cliMsg     = "move this key, not its secrets"
	cliContext = map[string]string{"tenant": "t1"}
)

// cliUse is what one use of a key through the CLI produced.
type cliUse struct {
	keyID      string
	version    int
	ciphertext string // encrypt and asymmetric-encrypt keys
	mac        []byte // mac keys
	signature  []byte // sign keys
}

// use runs the key's main operation once, through the CLI.
func (s *liveServer) use(t *testing.T, key string, alg crypto.Algorithm) cliUse {
	t.Helper()
	var u cliUse
	switch alg.Purpose() {
	case crypto.PurposeMAC:
		var r client.MACResponse
		s.okJSON(t, &r, "mac", key, "--data", cliMsg)
		u = cliUse{keyID: r.KeyID, version: r.KeyVersion, mac: r.MAC}
		if len(r.MAC) == 0 {
			t.Fatalf("mac %s: empty MAC", key)
		}
	case crypto.PurposeSign:
		var r client.SignResponse
		s.okJSON(t, &r, "sign", key, "--message", cliMsg)
		u = cliUse{keyID: r.KeyID, version: r.KeyVersion, signature: r.Signature}
		if len(r.Signature) == 0 {
			t.Fatalf("sign %s: empty signature", key)
		}
	default:
		var r client.EncryptResponse
		s.okJSON(t, &r, "encrypt", key, "--plaintext", cliMsg, "--context", "tenant=t1")
		u = cliUse{keyID: r.KeyID, version: r.KeyVersion, ciphertext: r.Ciphertext}
		if !strings.HasPrefix(r.Ciphertext, "arca:v1:") {
			t.Fatalf("encrypt %s: ciphertext %q", key, r.Ciphertext)
		}
	}
	if u.keyID == "" || u.version < 1 {
		t.Fatalf("%s: use gave key %q version %d", key, u.keyID, u.version)
	}
	return u
}

// check verifies through the CLI that u still holds for its version: the
// ciphertext decrypts, the MAC or signature verifies under --version.
func (s *liveServer) check(t *testing.T, key string, u cliUse) {
	t.Helper()
	v := strconv.Itoa(u.version)
	switch {
	case u.mac != nil:
		if r := s.ok(t, "verify-mac", key, "--mac", base64.StdEncoding.EncodeToString(u.mac), "--data", cliMsg, "--version", v); r.stdout != "valid\n" {
			t.Fatalf("verify-mac %s v%s: stdout %q", key, v, r.stdout)
		}
	case u.signature != nil:
		if r := s.ok(t, "verify", key, "--signature", base64.StdEncoding.EncodeToString(u.signature), "--message", cliMsg, "--version", v); r.stdout != "valid\n" {
			t.Fatalf("verify %s v%s: stdout %q", key, v, r.stdout)
		}
	default:
		var r client.DecryptResponse
		s.okJSON(t, &r, "decrypt", key, "--ciphertext", u.ciphertext, "--context", "tenant=t1")
		if string(r.Plaintext) != cliMsg || r.KeyVersion != u.version || r.KeyID != u.keyID {
			t.Fatalf("decrypt %s: got %q from key %s v%d, want %q from %s v%d", key, r.Plaintext, r.KeyID, r.KeyVersion, cliMsg, u.keyID, u.version)
		}
		// Without the context the binding does not hold.
		s.fails(t, 1, "decryption_failed", "decrypt", key, "--ciphertext", u.ciphertext)
	}
}

// checkNotUnder verifies through the CLI that a MAC or signature of u does
// not verify under another version of the key: --version is really used.
func (s *liveServer) checkNotUnder(t *testing.T, key string, u cliUse, version int) {
	t.Helper()
	v := strconv.Itoa(version)
	switch {
	case u.mac != nil:
		s.fails(t, 1, "does not match", "verify-mac", key, "--mac", base64.StdEncoding.EncodeToString(u.mac), "--data", cliMsg, "--version", v)
	case u.signature != nil:
		s.fails(t, 1, "not valid", "verify", key, "--signature", base64.StdEncoding.EncodeToString(u.signature), "--message", cliMsg, "--version", v)
	}
}

// matchMaterial checks, without the server, that material is the key
// version that produced u: it decrypts u's ciphertext, recomputes its MAC or
// verifies its signature.
func matchMaterial(alg crypto.Algorithm, material []byte, u cliUse) error {
	id, err := uuid.Parse(u.keyID)
	if err != nil {
		return fmt.Errorf("key id %q: %v", u.keyID, err)
	}
	vk, err := crypto.NewVersionKey(id, uint32(u.version), alg, secret.New(bytes.Clone(material)))
	if err != nil {
		return fmt.Errorf("the material does not build a %s key: %v", alg, err)
	}
	switch {
	case u.mac != nil:
		m, err := vk.MAC([]byte(cliMsg))
		if err != nil {
			return err
		}
		if !bytes.Equal(m, u.mac) {
			return errors.New("the material gives another MAC")
		}
	case u.signature != nil:
		ok, err := vk.Verify([]byte(cliMsg), u.signature, crypto.MessageRaw, "")
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("the material does not verify the signature")
		}
	default:
		c, err := crypto.Parse(u.ciphertext)
		if err != nil {
			return fmt.Errorf("the CLI's ciphertext does not parse: %v", err)
		}
		pt, err := vk.Open(c, crypto.Binding{Context: cliContext})
		if err != nil {
			return fmt.Errorf("the material does not decrypt the ciphertext: %v", err)
		}
		if string(pt) != cliMsg {
			return fmt.Errorf("the material decrypts the ciphertext to %q", pt)
		}
	}
	return nil
}

// mustMatch fails the test unless material produced u; mustNotMatch
// unless it did not.
func mustMatch(t *testing.T, what string, alg crypto.Algorithm, material []byte, u cliUse) {
	t.Helper()
	if err := matchMaterial(alg, material, u); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func mustNotMatch(t *testing.T, what string, alg crypto.Algorithm, material []byte, u cliUse) {
	t.Helper()
	if err := matchMaterial(alg, material, u); err == nil {
		t.Fatalf("%s: other material also matches the result: the offline check proves nothing", what)
	}
}

// wrappingKey is the caller's own export wrapping key pair for one scheme.
type wrappingKey struct {
	scheme  string
	private []byte
	pubFile string
}

// pkcs8Material reports whether keys of alg import and export PKCS#8 DER
// private keys (else raw bytes or a seed).
func pkcs8Material(alg crypto.Algorithm) bool {
	switch alg {
	case crypto.MLDSA44, crypto.MLDSA65, crypto.MLDSA87, crypto.MLKEM768, crypto.MLKEM1024, crypto.X25519MLKEM768:
		return false
	}
	p := alg.Purpose()
	return p == crypto.PurposeSign || p == crypto.PurposeAsymmetric
}

// checkMaterialFormat checks exported material has the documented format.
func checkMaterialFormat(t *testing.T, alg crypto.Algorithm, m []byte) {
	t.Helper()
	want := 0
	switch alg {
	case crypto.MLDSA44, crypto.MLDSA65, crypto.MLDSA87, crypto.X25519MLKEM768:
		want = 32
	case crypto.MLKEM768, crypto.MLKEM1024:
		want = 64
	default:
		if pkcs8Material(alg) {
			if _, err := x509.ParsePKCS8PrivateKey(m); err != nil {
				t.Fatalf("%s: exported material is not PKCS#8 DER: %v", alg, err)
			}
			return
		}
		want = alg.KeySize()
	}
	if len(m) != want {
		t.Fatalf("%s: exported material is %d bytes, want %d", alg, len(m), want)
	}
}

// writeMaterial writes material for --material: PKCS#8 keys as a PEM
// "PRIVATE KEY" block when asPEM, else the bytes as they are.
func writeMaterial(t *testing.T, path string, m []byte, asPEM bool) {
	t.Helper()
	if asPEM {
		m = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: m})
	}
	if err := os.WriteFile(path, m, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestEveryKeyTypeThroughTheCLI runs, for every algorithm and only through
// the CLI against a real server: create an exportable key, use it, rotate,
// use it again, check the old version's result; export both versions
// wrapped to the test's own wrapping key (the two schemes alternate across
// algorithms) and check offline that the material is each version's; bring
// the first version's material into a new key (--material, as PEM or DER
// for PKCS#8 kinds), use it and check offline; rotate it by importing the
// second version; check that it neither rotates by generation nor exports.
// Asymmetric encryption keys also encrypt offline to their public key.
func TestEveryKeyTypeThroughTheCLI(t *testing.T) {
	clearEnv(t)
	s := startLiveServer(t)
	wdir := t.TempDir()

	// The caller's wrapping keys, generated once (RSA generation is slow).
	schemes := []string{client.SchemeRSAAESKeyWrap, client.SchemeMLKEM768HPKE}
	var wks []wrappingKey
	for _, sc := range schemes {
		priv, pub, err := client.GenerateWrappingKey(sc)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(wdir, sc+".pem")
		if err := os.WriteFile(f, []byte(pub), 0o600); err != nil {
			t.Fatal(err)
		}
		wks = append(wks, wrappingKey{scheme: sc, private: priv, pubFile: f})
	}

	var exported [][]byte // every material that left the server, for the audit check
	pkcs8Seen := 0
	done := 0 // algorithms whose subtest got to the end
	for i, alg := range crypto.Algorithms() {
		wk := wks[i%len(wks)]
		asPEM := false
		if pkcs8Material(alg) {
			asPEM = pkcs8Seen%2 == 0
			pkcs8Seen++
		}
		t.Run(string(alg), func(t *testing.T) {
			dir := t.TempDir()
			src, dst := "src-"+string(alg), "dst-"+string(alg)

			// 1. A generated, exportable key: use, rotate, use.
			var k client.Key
			s.okJSON(t, &k, "key", "create", src, "--algorithm", string(alg), "--exportable")
			if k.Algorithm != string(alg) || k.Origin != "arca" || !k.Exportable || k.PrimaryVersion != 1 {
				t.Fatalf("created key: %+v", k)
			}
			r1 := s.use(t, src, alg)
			var rk client.Key
			s.okJSON(t, &rk, "key", "rotate", src)
			if rk.PrimaryVersion != 2 {
				t.Fatalf("rotated key: primary version %d", rk.PrimaryVersion)
			}
			r2 := s.use(t, src, alg)
			if r1.keyID != k.ID || r2.keyID != k.ID || r1.version != 1 || r2.version != 2 {
				t.Fatalf("uses: %s v%d and %s v%d, want %s v1 and v2", r1.keyID, r1.version, r2.keyID, r2.version, k.ID)
			}
			s.check(t, src, r1)
			s.check(t, src, r2)
			s.checkNotUnder(t, src, r1, 2)

			// 2. Export both versions wrapped to our key; check offline.
			var material [2][]byte
			for j, r := range []cliUse{r1, r2} {
				var x client.ExportedKey
				s.okJSON(t, &x, "key", "export", src, "--version", strconv.Itoa(r.version), "--wrapping-key", wk.pubFile, "--scheme", wk.scheme)
				if x.KeyID != k.ID || x.KeyVersion != r.version || x.Algorithm != string(alg) || x.Scheme != wk.scheme || len(x.WrappedMaterial) == 0 {
					t.Fatalf("export v%d: %+v", r.version, x)
				}
				m, err := client.UnwrapExport(&x, wk.private)
				if err != nil {
					t.Fatalf("export v%d (%s) does not unwrap with our key: %v", r.version, wk.scheme, err)
				}
				material[j] = bytes.Clone(m)
				exported = append(exported, material[j])
				checkMaterialFormat(t, alg, material[j])
				mustMatch(t, fmt.Sprintf("exported v%d vs the CLI's v%d result", r.version, r.version), alg, material[j], r)
			}
			if bytes.Equal(material[0], material[1]) {
				t.Fatal("rotation kept the material: v1 and v2 export the same bytes")
			}
			mustNotMatch(t, "exported v1 vs the CLI's v2 result", alg, material[0], r2)
			// The default text output is the wrapped material in base64;
			// without --version it is the primary's.
			txt := s.ok(t, "key", "export", src, "--wrapping-key", wk.pubFile, "--scheme", wk.scheme)
			w, err := base64.StdEncoding.DecodeString(strings.TrimSpace(txt.stdout))
			if err != nil {
				t.Fatalf("text export is not base64: %v\n%s", err, txt.stdout)
			}
			m, err := client.UnwrapExport(&client.ExportedKey{Scheme: wk.scheme, WrappedMaterial: w}, wk.private)
			if err != nil || !bytes.Equal(m, material[1]) {
				t.Fatalf("text export (primary) does not unwrap to the v2 material: %v", err)
			}

			// 3. Bring your own key: v1's material into a new key.
			f1, f2 := filepath.Join(dir, "v1.key"), filepath.Join(dir, "v2.key")
			writeMaterial(t, f1, material[0], asPEM)
			writeMaterial(t, f2, material[1], pkcs8Material(alg) && !asPEM)
			var ik client.Key
			s.okJSON(t, &ik, "key", "create", dst, "--algorithm", string(alg), "--material", f1, "--scheme", wk.scheme)
			if ik.Origin != "external" || ik.Exportable || ik.PrimaryVersion != 1 || ik.Algorithm != string(alg) || ik.ID == k.ID {
				t.Fatalf("imported key: %+v", ik)
			}
			var shown client.Key
			s.okJSON(t, &shown, "key", "show", dst)
			if shown.Origin != "external" || shown.ID != ik.ID {
				t.Fatalf("key show %s: origin %q id %s", dst, shown.Origin, shown.ID)
			}
			i1 := s.use(t, dst, alg)
			if i1.keyID != ik.ID || i1.version != 1 {
				t.Fatalf("imported key use: %s v%d", i1.keyID, i1.version)
			}
			mustMatch(t, "v1 material vs the imported key's v1 result", alg, material[0], i1)
			if r1.mac != nil && !bytes.Equal(i1.mac, r1.mac) {
				t.Fatal("the imported HMAC key gives another MAC than its source's v1")
			}
			s.fails(t, 1, "unsupported_operation", "key", "rotate", dst)
			// Material that is no key of the algorithm is refused and
			// changes nothing.
			junk := filepath.Join(dir, "junk.key")
			writeMaterial(t, junk, bytes.Repeat([]byte{0x5a}, 16), false)
			s.fails(t, 1, "invalid_import", "key", "import", dst, "--material", junk, "--scheme", wk.scheme)

			var ik2 client.Key
			s.okJSON(t, &ik2, "key", "import", dst, "--material", f2, "--scheme", wk.scheme)
			if ik2.PrimaryVersion != 2 || ik2.Origin != "external" || ik2.ID != ik.ID {
				t.Fatalf("key import: %+v", ik2)
			}
			i2 := s.use(t, dst, alg)
			if i2.version != 2 {
				t.Fatalf("after import the primary version is %d", i2.version)
			}
			mustMatch(t, "v2 material vs the imported key's v2 result", alg, material[1], i2)
			mustNotMatch(t, "v1 material vs the imported key's v2 result", alg, material[0], i2)
			s.check(t, dst, i1)
			s.check(t, dst, i2)
			s.checkNotUnder(t, dst, i1, 2)
			var vs client.ListVersionsResponse
			s.okJSON(t, &vs, "key", "versions", dst)
			if len(vs.Versions) != 2 {
				t.Fatalf("versions of %s: %+v", dst, vs)
			}
			for _, v := range vs.Versions {
				if v.Provenance.Generator != "import" {
					t.Fatalf("version %d of %s: provenance %+v, want generator import", v.Version, dst, v.Provenance)
				}
			}
			s.fails(t, 1, "key_not_exportable", "key", "export", dst, "--wrapping-key", wk.pubFile, "--scheme", wk.scheme)

			// 4. Asymmetric encryption: encrypt offline to the public key.
			if alg.Purpose() != crypto.PurposeAsymmetric {
				done++
				return
			}
			for _, tc := range []struct {
				key      string
				version  int
				material []byte
			}{{src, 2, material[1]}, {src, 1, material[0]}, {dst, 2, material[1]}} {
				args := []string{"key", "public-key", tc.key, "-o", "json"}
				if tc.version == 1 {
					args = append(args, "--version", "1")
				}
				pr := s.ok(t, args...)
				var pub client.PublicKey
				if err := json.Unmarshal([]byte(pr.stdout), &pub); err != nil || pub.KeyVersion != tc.version || pub.Algorithm != string(alg) || len(pub.Raw) == 0 {
					t.Fatalf("%s\npublic key: %+v %v", describe(args, pr), pub, err)
				}
				pubFile := filepath.Join(dir, fmt.Sprintf("%s-v%d.json", tc.key, tc.version))
				if err := os.WriteFile(pubFile, []byte(pr.stdout), 0o600); err != nil {
					t.Fatal(err)
				}
				secretText := "offline secret for " + tc.key
				// No server: the address is unreachable and no token is given.
				off := []string{"--addr", "http://127.0.0.1:1", "encrypt", "--public-key", pubFile, "--plaintext", secretText, "--context", "tenant=t1"}
				er := runCLI(t, "", off...)
				if er.code != 0 || !strings.HasPrefix(er.stdout, "arca:v1:") {
					t.Fatal(describe(off, er))
				}
				ct := strings.TrimSpace(er.stdout)
				if d := s.ok(t, "decrypt", tc.key, "--ciphertext", ct, "--context", "tenant=t1"); d.stdout != secretText {
					t.Fatalf("decrypt of the offline ciphertext to %s v%d: %q, want %q", tc.key, tc.version, d.stdout, secretText)
				}
				if d := s.ok(t, "decrypt", "--in", writeTemp(t, dir, ct), "--context", "tenant=t1", "-o", "json"); !strings.Contains(d.stdout, fmt.Sprintf(`"key_version": %d`, tc.version)) {
					t.Fatalf("decrypt without KEY of the offline ciphertext: %s", d.stdout)
				}
				// The offline ciphertext is the version's: its material opens it.
				c, err := crypto.Parse(ct)
				if err != nil {
					t.Fatal(err)
				}
				vk, err := crypto.NewVersionKey(uuid.MustParse(pub.KeyID), uint32(tc.version), alg, secret.New(bytes.Clone(tc.material)))
				if err != nil {
					t.Fatal(err)
				}
				if pt, err := vk.Open(c, crypto.Binding{Context: cliContext}); err != nil || string(pt) != secretText {
					t.Fatalf("v%d material does not open the offline ciphertext to %s: %q %v", tc.version, tc.key, pt, err)
				}
				s.fails(t, 1, "decryption_failed", "decrypt", tc.key, "--ciphertext", ct, "--context", "tenant=t2")
			}
			done++
		})
	}

	// Usage errors of the transfer commands.
	s.fails(t, 2, "--wrapping-key is required", "key", "export", "src-hmac-sha256")
	s.fails(t, 2, "give either --material", "key", "import", "dst-hmac-sha256", "--material", "f", "--import-token", "x")
	s.fails(t, 2, "give --material", "key", "import", "dst-hmac-sha256", "--wrapped-material", "f")
	s.fails(t, 2, "--scheme applies to --material", "key", "create", "no-material", "--scheme", client.SchemeMLKEM768HPKE)

	// The audit log has the transfers and none of the material.
	checkTransferAudit(t, s.auditPath, done, exported)
}

func writeTemp(t *testing.T, dir, content string) string {
	t.Helper()
	f, err := os.CreateTemp(dir, "ct-*.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content + "\n"); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// readAudit returns the records of an audit log file.
func readAudit(t *testing.T, path string) ([]audit.Record, []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []audit.Record
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec audit.Record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("audit line is not a record: %v\n%s", err, sc.Text())
		}
		recs = append(recs, rec)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs, raw
}

// checkTransferAudit checks the audit log records the imports, exports and
// import tokens of n algorithms' subtests, the refused ones with their
// code, and never the material.
func checkTransferAudit(t *testing.T, path string, n int, materials [][]byte) {
	t.Helper()
	recs, raw := readAudit(t, path)
	counts := map[string]int{}
	for _, rec := range recs {
		counts[rec.Operation+" "+rec.Outcome+" "+rec.ErrorCode]++
	}
	for k, min := range map[string]int{
		kms.OpKeyExport + " allowed ":                  3 * n,
		kms.OpKeyExport + " failed key_not_exportable": n,
		kms.OpImportToken + " allowed ":                3 * n,
		kms.OpKeyImport + " allowed ":                  n,
		kms.OpKeyImport + " failed invalid_import":     n,
	} {
		if counts[k] < min {
			t.Errorf("audit log: %d records %q, want at least %d (all: %v)", counts[k], k, min, counts)
		}
	}
	for _, m := range materials {
		for _, enc := range []string{base64.StdEncoding.EncodeToString(m), base64.RawURLEncoding.EncodeToString(m), hex.EncodeToString(m)} {
			if bytes.Contains(raw, []byte(enc)) {
				t.Fatal("the audit log holds exported key material")
			}
		}
	}
}

// wrapFile gets an import token of scheme through the CLI, wraps material
// under its public key locally, and writes the wrapped material to a file
// (base64, or binary). It returns the file and the token id.
func (s *liveServer) wrapFile(t *testing.T, dir, scheme string, material []byte, binary bool) (string, string) {
	t.Helper()
	var tok client.ImportToken
	s.okJSON(t, &tok, "key", "import-token", "--scheme", scheme)
	if tok.ID == "" || tok.Scheme != scheme || !strings.Contains(tok.PublicKey, "BEGIN PUBLIC KEY") {
		t.Fatalf("import token %+v", tok)
	}
	im, err := client.WrapForImport(&tok, material)
	if err != nil {
		t.Fatal(err)
	}
	data := im.WrappedMaterial
	if !binary {
		data = []byte(base64.StdEncoding.EncodeToString(data) + "\n")
	}
	f, err := os.CreateTemp(dir, "wrapped-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	return f.Name(), tok.ID
}

// TestKeyTransferRulesThroughTheCLI checks the documented rules of import
// tokens, imports and exports (docs/api.md, "Import and export") through
// the CLI against a real server.
func TestKeyTransferRulesThroughTheCLI(t *testing.T) {
	clearEnv(t)
	s := startLiveServer(t)
	dir := t.TempDir()
	hpke := client.SchemeMLKEM768HPKE
	key32 := bytes.Repeat([]byte{0x42}, 32)

	t.Run("token ttl", func(t *testing.T) {
		for _, ttl := range []string{"1m", "10m", "1d", "24h"} {
			var tok client.ImportToken
			s.okJSON(t, &tok, "key", "import-token", "--scheme", hpke, "--ttl", ttl)
		}
		for _, ttl := range []string{"30s", "25h", "2d", "soon"} {
			s.fails(t, 1, "invalid_argument", "key", "import-token", "--scheme", hpke, "--ttl", ttl)
		}
		s.fails(t, 1, "invalid_argument", "key", "import-token", "--scheme", "aes-kw")
		r := s.ok(t, "key", "import-token", "--scheme", hpke)
		for _, want := range []string{"Import token: ", "Scheme: ml-kem-768-hpke", "Expires: ", "BEGIN PUBLIC KEY"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("import-token text output lacks %q:\n%s", want, r.stdout)
			}
		}
	})

	t.Run("a refused import does not spend the token", func(t *testing.T) {
		s.ok(t, "key", "create", "taken", "--algorithm", "hmac-sha256")
		w, tok := s.wrapFile(t, dir, hpke, key32, true)
		// Wrong material for the algorithm (32 bytes for a 64-byte key).
		s.fails(t, 1, "invalid_import", "key", "create", "siv", "--algorithm", "aes-256-siv", "--wrapped-material", w, "--import-token", tok)
		// A taken name.
		s.fails(t, 1, "key_exists", "key", "create", "taken", "--algorithm", "hmac-sha256", "--wrapped-material", w, "--import-token", tok)
		// A generated key does not take imported versions.
		s.fails(t, 1, "unsupported_operation", "key", "import", "taken", "--wrapped-material", w, "--import-token", tok)
		// The token still imports, once.
		var k client.Key
		s.okJSON(t, &k, "key", "create", "byok", "--algorithm", "hmac-sha256", "--wrapped-material", w, "--import-token", tok)
		if k.Origin != "external" {
			t.Fatalf("origin %q", k.Origin)
		}
		// The import that spent the token names it in its audit record.
		recs, _ := readAudit(t, s.auditPath)
		var found bool
		for _, r := range recs {
			if r.Operation == kms.OpKeyCreate && r.KeyID == k.ID && r.Outcome == audit.OutcomeAllowed {
				found = r.Resource == tok
				if !found {
					t.Errorf("audit record of the import: resource %q, want the token %s", r.Resource, tok)
				}
			}
		}
		if !found {
			t.Errorf("no audit record of the import names token %s", tok)
		}
		s.fails(t, 1, "import_token_not_found", "key", "create", "byok-2", "--algorithm", "hmac-sha256", "--wrapped-material", w, "--import-token", tok)
		s.fails(t, 1, "import_token_not_found", "key", "import", "byok", "--wrapped-material", w, "--import-token", tok)
		s.fails(t, 1, "import_token_not_found", "key", "import", "byok", "--wrapped-material", w, "--import-token", uuid.NewString())
		s.fails(t, 1, "import_token_not_found", "key", "import", "byok", "--wrapped-material", w, "--import-token", "not-a-token")
		// Material wrapped for another token does not unwrap under this one.
		w2, tok2 := s.wrapFile(t, dir, hpke, key32, false)
		_, tok3 := s.wrapFile(t, dir, hpke, key32, false)
		s.fails(t, 1, "invalid_import", "key", "import", "byok", "--wrapped-material", w2, "--import-token", tok3)
		var k2 client.Key
		s.okJSON(t, &k2, "key", "import", "byok", "--wrapped-material", w2, "--import-token", tok2)
		if k2.PrimaryVersion != 2 {
			t.Fatalf("import: primary version %d", k2.PrimaryVersion)
		}
	})

	t.Run("material formats", func(t *testing.T) {
		// A symmetric key of the right size imports under any algorithm of that size.
		f := filepath.Join(dir, "k32")
		writeMaterial(t, f, key32, false)
		for _, alg := range []string{"aes-256-gcm", "chacha20-poly1305", "xchacha20-poly1305", "hmac-sha256"} {
			s.ok(t, "key", "create", "any-"+alg, "--algorithm", alg, "--material", f, "--scheme", hpke)
		}
		a := s.ok(t, "mac", "any-hmac-sha256", "--data", "x")
		b := s.ok(t, "mac", "byok", "--data", "x") // byok's v2 is key32 too
		if a.stdout != b.stdout {
			t.Errorf("the same HMAC material gives different MACs: %q %q", a.stdout, b.stdout)
		}
		// A raw key file must not end in a newline.
		nl := filepath.Join(dir, "k32nl")
		writeMaterial(t, nl, append(bytes.Clone(key32), '\n'), false)
		s.fails(t, 1, "invalid_import", "key", "create", "nl", "--algorithm", "aes-256-gcm", "--material", nl, "--scheme", hpke)
		// Imported keys can still be created exportable, and then export.
		var k client.Key
		s.okJSON(t, &k, "key", "create", "movable", "--algorithm", "aes-256-gcm", "--material", f, "--scheme", hpke, "--exportable")
		if k.Origin != "external" || !k.Exportable {
			t.Fatalf("imported exportable key: %+v", k)
		}
		priv, pub, err := client.GenerateWrappingKey(hpke)
		if err != nil {
			t.Fatal(err)
		}
		pubFile := filepath.Join(dir, "w.pem")
		if err := os.WriteFile(pubFile, []byte(pub), 0o600); err != nil {
			t.Fatal(err)
		}
		var x client.ExportedKey
		s.okJSON(t, &x, "key", "export", "movable", "--wrapping-key", pubFile, "--scheme", hpke)
		if m, err := client.UnwrapExport(&x, priv); err != nil || !bytes.Equal(m, key32) {
			t.Fatalf("export of an imported key: %v", err)
		}
		// The wrong wrapping key kind for the scheme, and unknown versions.
		s.fails(t, 1, "invalid_argument", "key", "export", "movable", "--wrapping-key", pubFile)
		s.fails(t, 1, "invalid_argument", "key", "export", "movable", "--wrapping-key", f, "--scheme", hpke)
		s.fails(t, 1, "key_version_not_found", "key", "export", "movable", "--wrapping-key", pubFile, "--scheme", hpke, "--version", "2")
		s.fails(t, 1, "key_not_found", "key", "export", "nope", "--wrapping-key", pubFile, "--scheme", hpke)
	})

	t.Run("export lifecycle", func(t *testing.T) {
		priv, pub, err := client.GenerateWrappingKey(hpke)
		if err != nil {
			t.Fatal(err)
		}
		pubFile := filepath.Join(dir, "lc.pem")
		if err := os.WriteFile(pubFile, []byte(pub), 0o600); err != nil {
			t.Fatal(err)
		}
		export := func(key string, extra ...string) result {
			return s.run(t, append([]string{"key", "export", key, "--wrapping-key", pubFile, "--scheme", hpke}, extra...)...)
		}
		s.ok(t, "key", "create", "lc", "--exportable")
		s.ok(t, "key", "rotate", "lc")
		s.ok(t, "key", "rotate", "lc")
		s.ok(t, "key", "update", "lc", "--min-decryption-version", "2")
		if r := export("lc", "--version", "1"); r.code != 1 || !strings.Contains(r.stderr, "version_below_minimum") {
			t.Errorf("export below the minimum decryption version: %+v", r)
		}
		s.ok(t, "key", "lifecycle", "lc", "compromise", "--version", "2")
		if r := export("lc", "--version", "2"); r.code != 1 || !strings.Contains(r.stderr, "compromised") {
			t.Errorf("export of a compromised version: %+v", r)
		}
		s.ok(t, "key", "lifecycle", "lc", "suspend")
		if r := export("lc"); r.code != 1 || !strings.Contains(r.stderr, "suspended") {
			t.Errorf("export of a suspended key: %+v", r)
		}
		s.ok(t, "key", "lifecycle", "lc", "resume")
		s.ok(t, "key", "lifecycle", "lc", "deactivate")
		r := s.run(t, "key", "export", "lc", "--wrapping-key", pubFile, "--scheme", hpke, "-o", "json")
		var x client.ExportedKey
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &x) != nil || x.KeyVersion != 3 {
			t.Fatalf("export of a deactivated key: %+v", r)
		}
		if _, err := client.UnwrapExport(&x, priv); err != nil {
			t.Fatal(err)
		}
		// A suspended external key takes no import.
		w, tok := s.wrapFile(t, dir, hpke, key32, false)
		s.ok(t, "key", "lifecycle", "byok", "suspend")
		s.fails(t, 1, "suspended", "key", "import", "byok", "--wrapped-material", w, "--import-token", tok)
		s.ok(t, "key", "lifecycle", "byok", "resume")
		s.ok(t, "key", "import", "byok", "--wrapped-material", w, "--import-token", tok)
	})
}

// TestOfflineEncryptHonoursOutput: encrypt --public-key obeys -o like the
// server path does, and refuses an unknown output format.
func TestOfflineEncryptHonoursOutput(t *testing.T) {
	dir := t.TempDir()
	pub := filepath.Join(dir, "pub.json")
	// A throwaway ML-KEM-768 public key: the seed's public half, in the
	// JSON form "arca key public-key -o json" prints.
	k, err := crypto.NewVersionKey([16]byte{1}, 1, crypto.MLKEM768, secret.New(make([]byte, 64)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := k.Public()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(client.PublicKey{KeyID: "01000000-0000-0000-0000-000000000000", KeyVersion: 1, Algorithm: "ml-kem-768", Raw: p.Raw})
	if err := os.WriteFile(pub, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "", "encrypt", "--public-key", pub, "--plaintext", "x", "-o", "json")
	var out client.EncryptResponse
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || out.KeyVersion != 1 || !strings.HasPrefix(out.Ciphertext, "arca:v1:") {
		t.Fatalf("-o json: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, "", "encrypt", "--public-key", pub, "--plaintext", "x", "-o", "yaml"); r.code == 0 {
		t.Fatalf("-o yaml accepted: %q", r.stdout)
	}
}
