package audit

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSinksGetEveryRecordWithoutSecrets sends records through a Fanout to
// a writer, a UDP and a TCP syslog receiver and an HTTP webhook, all real
// and on loopback, and checks each got every record, in its format, and
// nothing that looks like a secret the records never hold.
func TestSinksGetEveryRecordWithoutSecrets(t *testing.T) {
	t.Parallel()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	var mu sync.Mutex
	var webhook [][]byte
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		webhook = append(webhook, b)
		mu.Unlock()
	}))
	defer hook.Close()

	udpGot := make(chan string, 100)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := udp.ReadFrom(buf)
			if err != nil {
				return
			}
			udpGot <- string(buf[:n])
		}
	}()
	tcpGot := make(chan string, 100)
	go func() {
		c, err := tcp.Accept()
		if err != nil {
			return
		}
		r := bufio.NewReader(c)
		for {
			var n int
			if _, err := fmt.Fscanf(r, "%d ", &n); err != nil {
				return
			}
			msg := make([]byte, n)
			if _, err := io.ReadFull(r, msg); err != nil {
				return
			}
			tcpGot <- string(msg)
		}
	}()

	primary, err := OpenFile(filepath.Join(t.TempDir(), "audit.log"), FileOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	su, _ := NewSyslogSink("udp", udp.LocalAddr().String())
	st, _ := NewSyslogSink("tcp", tcp.Addr().String())
	f := NewFanout(primary, &WriterSink{W: &out}, su, st, &WebhookSink{URL: hook.URL})
	const n = 20
	for i := range n {
		r := &Record{Time: time.Now(), RequestID: fmt.Sprintf("req-%02d", i), Operation: "key.decrypt", Outcome: OutcomeAllowed,
			ContextHMAC: map[string]string{"tenant": strings.Repeat("ab", 32)}}
		if i%2 == 1 {
			r.Outcome, r.ErrorCode = OutcomeDenied, "forbidden"
		}
		if err := f.Write(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if d, failed := f.Dropped(); d != 0 || failed != 0 {
		t.Fatalf("dropped %d, failed %d", d, failed)
	}
	collect := func(ch chan string) []string {
		var got []string
		deadline := time.After(5 * time.Second)
		for len(got) < n {
			select {
			case m := <-ch:
				got = append(got, m)
			case <-deadline:
				return got
			}
		}
		return got
	}
	for name, msgs := range map[string][]string{"udp": collect(udpGot), "tcp": collect(tcpGot)} {
		if len(msgs) != n {
			t.Fatalf("%s syslog got %d messages, want %d", name, len(msgs), n)
		}
		if !strings.HasPrefix(msgs[0], "<134>1 ") || !strings.HasPrefix(msgs[1], "<133>1 ") || !strings.Contains(msgs[0], ` arca `) || !strings.Contains(msgs[0], `{"time":`) {
			t.Fatalf("%s syslog message: %q / %q", name, msgs[0], msgs[1])
		}
	}
	if c := bytes.Count(out.Bytes(), []byte("\n")); c != n {
		t.Fatalf("writer sink got %d lines", c)
	}
	mu.Lock()
	total := 0
	for _, b := range webhook {
		total += bytes.Count(b, []byte(`"request_id"`))
	}
	mu.Unlock()
	if total != n {
		t.Fatalf("webhook got %d records", total)
	}
}

// TestAFailingSinkNeverBlocksRequests: a sink that fails, or one that
// cannot keep up, costs records in that sink only.
func TestAFailingSinkNeverBlocksRequests(t *testing.T) {
	t.Parallel()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer hook.Close()
	f := NewFanout(Discard{}, &WebhookSink{URL: hook.URL})
	for range 10 {
		if err := f.Write(context.Background(), &Record{Operation: "key.encrypt", Outcome: OutcomeAllowed}); err != nil {
			t.Fatal(err)
		}
	}
	_ = f.Close()
	if _, failed := f.Dropped(); failed != 10 {
		t.Fatalf("failed deliveries: %d, want 10", failed)
	}
}
