package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	kmsapi "k8s.io/kms/apis/v2"

	"github.com/arcakms/arca/client"
	"github.com/arcakms/arca/internal/api/kmip/ttlv"
	"github.com/arcakms/arca/internal/config"
	"github.com/arcakms/arca/internal/kubekms"
)

// BenchmarkEncryptByInterface encrypts 32 bytes under one key of one server
// through each of its doors, from parallel callers, in one run: REST, the
// AWS-KMS-compatible API (SigV4), the Transit-compatible API, KMIP (mutual
// TLS, one connection per caller) and the Kubernetes KMS plugin (gRPC on a
// unix socket, then REST through the SDK). Every door is TLS; each reports
// req/s next to the others'. The audit log is fsync'd as in production.
func BenchmarkEncryptByInterface(b *testing.B) {
	dir := b.TempDir()
	ca := newTestCA(b, "bench")
	srvCert, _ := ca.issue(b, "arca", true)
	kder, _ := x509.MarshalPKCS8PrivateKey(srvCert.PrivateKey)
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.KMIP.Listen = "127.0.0.1:0"
	cfg.TLS = config.TLS{CertFile: filepath.Join(dir, "srv.pem"), KeyFile: filepath.Join(dir, "srv.key"), ClientCAFile: filepath.Join(dir, "ca.pem")}
	writePEM(b, cfg.TLS.CertFile, "CERTIFICATE", srvCert.Certificate[0])
	writePEM(b, cfg.TLS.KeyFile, "PRIVATE KEY", kder)
	if err := os.WriteFile(cfg.TLS.ClientCAFile, ca.pem, 0o600); err != nil {
		b.Fatal(err)
	}
	srv, err := Start(context.Background(), cfg, Options{Dev: true, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	cert, leaf := ca.issue(b, "bench-client", false)
	tlsCfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	root, err := client.New(srv.URL(), client.WithToken(srv.RootToken()), client.WithTLSConfig(tlsCfg))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := root.PutAccessPolicy(ctx, "bench", client.AccessPolicy{Statements: []client.PolicyStatement{{Effect: "allow", Actions: []string{"key:*"}}}}); err != nil {
		b.Fatal(err)
	}
	if _, err := root.CreateIdentity(ctx, client.CreateIdentityRequest{Name: "bench", Type: "service", Policies: []string{"bench"},
		Certificates: []string{client.CertificateFingerprint(leaf)}}); err != nil {
		b.Fatal(err)
	}
	key, err := root.CreateKey(ctx, client.CreateKeyRequest{Name: "bench-key"})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := root.CreateToken(ctx, "bench", "", "")
	if err != nil {
		b.Fatal(err)
	}
	ak, err := root.CreateAccessKey(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	plaintext := bytes.Repeat([]byte("p"), 32) // a data key: what the Kubernetes plugin carries (its ciphertexts are at most 1 KiB)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsCfg, MaxIdleConnsPerHost: 64}}
	post := func(path string, hdr map[string]string, body []byte) error {
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+path, bytes.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %d %s", path, resp.StatusCode, buf.Bytes())
		}
		return nil
	}
	restBody, _ := json.Marshal(map[string]string{"plaintext": base64.StdEncoding.EncodeToString(plaintext)})
	awsBody, _ := json.Marshal(map[string]any{"KeyId": key.ID, "Plaintext": plaintext})
	awsSum := sha256.Sum256(awsBody)
	signer := v4.NewSigner()
	run := func(b *testing.B, newCaller func() func() error) {
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			call := newCaller()
			for pb.Next() {
				if err := call(); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	}

	b.Run("rest", func(b *testing.B) {
		run(b, func() func() error {
			return func() error {
				return post("/v1/keys/bench-key/encrypt", map[string]string{"Authorization": "Bearer " + tok.Token, "Content-Type": "application/json"}, restBody)
			}
		})
	})
	b.Run("aws-kms", func(b *testing.B) {
		run(b, func() func() error {
			return func() error {
				req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/", bytes.NewReader(awsBody))
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
				req.Header.Set("X-Amz-Target", "TrentService.Encrypt")
				if err := signer.SignHTTP(ctx, aws.Credentials{AccessKeyID: ak.AccessKeyID, SecretAccessKey: ak.SecretAccessKey}, req, hex.EncodeToString(awsSum[:]), "kms", "us-east-1", time.Now()); err != nil {
					return err
				}
				resp, err := hc.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				var buf bytes.Buffer
				_, _ = buf.ReadFrom(resp.Body)
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("aws: %d %s", resp.StatusCode, buf.Bytes())
				}
				return nil
			}
		})
	})
	b.Run("transit", func(b *testing.B) {
		run(b, func() func() error {
			return func() error {
				return post("/v1/transit/encrypt/bench-key", map[string]string{"X-Vault-Token": tok.Token}, restBody)
			}
		})
	})
	b.Run("kmip", func(b *testing.B) {
		req, err := ttlv.Encode(ttlv.Struct(ttlv.TagRequestMessage,
			ttlv.Struct(ttlv.TagRequestHeader,
				ttlv.Struct(ttlv.TagProtocolVersion, ttlv.Int(ttlv.TagProtocolVersionMajor, 1), ttlv.Int(ttlv.TagProtocolVersionMinor, 4)),
				ttlv.Int(ttlv.TagBatchCount, 1)),
			ttlv.Struct(ttlv.TagBatchItem, ttlv.Enum(ttlv.TagOperation, ttlv.OperationEncrypt),
				ttlv.Struct(ttlv.TagRequestPayload, ttlv.Text(ttlv.TagUniqueIdentifier, key.ID), ttlv.Bytes(ttlv.TagData, plaintext)))))
		if err != nil {
			b.Fatal(err)
		}
		run(b, func() func() error {
			conn, err := tls.Dial("tcp", srv.KMIPAddr(), tlsCfg)
			if err != nil {
				return func() error { return err }
			}
			b.Cleanup(func() { _ = conn.Close() })
			return func() error {
				if _, err := conn.Write(req); err != nil {
					return err
				}
				msg, err := ttlv.ReadMessage(conn, 1<<20)
				if err != nil {
					return err
				}
				it, err := ttlv.Decode(msg, ttlv.Limits{})
				if err != nil {
					return err
				}
				st, _ := it.Find(ttlv.TagBatchItem, ttlv.TagResultStatus)
				if v, _ := st.Enum(); ttlv.ResultStatus(v) != ttlv.ResultStatusSuccess {
					return fmt.Errorf("kmip: %s", it)
				}
				return nil
			}
		})
	})
	b.Run("k8s-plugin", func(b *testing.B) {
		sock, err := os.MkdirTemp("", "kms")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = os.RemoveAll(sock) })
		sdk, err := client.New(srv.URL(), client.WithToken(tok.Token), client.WithTLSConfig(tlsCfg))
		if err != nil {
			b.Fatal(err)
		}
		p, err := kubekms.New(kubekms.Config{Key: "bench-key", Client: sdk, Logger: quietLogger()})
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(sock, "kms.sock")
		pctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- kubekms.Serve(pctx, path, p, quietLogger()) }()
		b.Cleanup(func() { cancel(); <-done })
		for i := 0; i < 100; i++ {
			if c, err := net.Dial("unix", path); err == nil {
				_ = c.Close()
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		gc, err := grpc.NewClient("unix://"+path, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = gc.Close() })
		kc := kmsapi.NewKeyManagementServiceClient(gc)
		run(b, func() func() error {
			return func() error {
				_, err := kc.Encrypt(ctx, &kmsapi.EncryptRequest{Plaintext: plaintext, Uid: "bench"})
				return err
			}
		})
	})
}
