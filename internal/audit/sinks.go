package audit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-json-experiment/json"
)

// Sink receives copies of audit records for other systems (a SIEM, a log
// collector). Sinks are best effort: the primary log alone decides whether
// a request may complete, and a slow or failing sink never delays one.
type Sink interface {
	// Send delivers a batch of encoded records (one JSON object each).
	Send(ctx context.Context, lines [][]byte) error
	Close() error
}

// Fanout is a Log that makes each record durable in Primary, then queues a
// copy for every sink. Each sink has a bounded buffer: when it is full the
// copy is dropped and counted (Dropped), never waited for.
type Fanout struct {
	Primary Log
	sinks   []*sinkQueue
}

type sinkQueue struct {
	sink    Sink
	ch      chan []byte
	done    chan struct{}
	dropped atomic.Int64
	failed  atomic.Int64
}

// sinkBuffer is how many records a sink may lag behind.
const sinkBuffer = 10_000

// NewFanout starts a goroutine per sink.
func NewFanout(primary Log, sinks ...Sink) *Fanout {
	f := &Fanout{Primary: primary}
	for _, s := range sinks {
		q := &sinkQueue{sink: s, ch: make(chan []byte, sinkBuffer), done: make(chan struct{})}
		go q.run()
		f.sinks = append(f.sinks, q)
	}
	return f
}

func (q *sinkQueue) run() {
	defer close(q.done)
	for first := range q.ch {
		batch := [][]byte{first}
	fill:
		for len(batch) < 512 {
			select {
			case l, ok := <-q.ch:
				if !ok {
					break fill
				}
				batch = append(batch, l)
			default:
				break fill
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := q.sink.Send(ctx, batch); err != nil {
			q.failed.Add(int64(len(batch)))
		}
		cancel()
	}
}

// Write makes r durable in the primary log, then copies it to the sinks.
func (f *Fanout) Write(ctx context.Context, r *Record) error {
	if err := f.Primary.Write(ctx, r); err != nil {
		return err
	}
	if len(f.sinks) == 0 {
		return nil
	}
	line, err := json.Marshal(r)
	if err != nil {
		return nil // the record is durable; a copy that cannot be encoded is skipped
	}
	for _, q := range f.sinks {
		select {
		case q.ch <- line:
		default:
			q.dropped.Add(1)
		}
	}
	return nil
}

// Dropped and Failed count, over all sinks, the copies dropped on a full
// buffer and those a sink failed to deliver.
func (f *Fanout) Dropped() (dropped, failed int64) {
	for _, q := range f.sinks {
		dropped += q.dropped.Load()
		failed += q.failed.Load()
	}
	return dropped, failed
}

// Checkpoint passes a signed checkpoint to the primary log.
func (f *Fanout) Checkpoint(ctx context.Context, sign Signer) error {
	if cp, ok := f.Primary.(Checkpointer); ok {
		return cp.Checkpoint(ctx, sign)
	}
	return nil
}

// Files lists the primary log's files, if it has any.
func (f *Fanout) Files() ([]string, error) {
	if fl, ok := f.Primary.(interface{ Files() ([]string, error) }); ok {
		return fl.Files()
	}
	return nil, fmt.Errorf("audit: the primary log has no files")
}

// Close drains the sinks (each gets what is queued), then closes the
// primary log.
func (f *Fanout) Close() error {
	for _, q := range f.sinks {
		close(q.ch)
		<-q.done
		_ = q.sink.Close()
	}
	return f.Primary.Close()
}

// WriterSink writes records as JSON lines to a writer, such as stdout.
type WriterSink struct {
	mu sync.Mutex
	W  io.Writer
}

// NewStdoutSink writes records to the process's standard output.
func NewStdoutSink() *WriterSink { return &WriterSink{W: os.Stdout} }

// Send writes the lines.
func (s *WriterSink) Send(_ context.Context, lines [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var buf bytes.Buffer
	for _, l := range lines {
		buf.Write(l)
		buf.WriteByte('\n')
	}
	_, err := s.W.Write(buf.Bytes())
	return err
}

// Close does nothing: the writer is not the sink's.
func (s *WriterSink) Close() error { return nil }

// SyslogSink sends records as RFC 5424 messages (facility local0, severity
// info for allowed requests, notice otherwise; the record's JSON as the
// message) over UDP, or TCP with octet-counting framing (RFC 6587).
type SyslogSink struct {
	network, addr, host string
	mu                  sync.Mutex
	conn                net.Conn
}

// NewSyslogSink prepares a sink to network ("udp" or "tcp") address addr;
// it connects on first use and reconnects after errors.
func NewSyslogSink(network, addr string) (*SyslogSink, error) {
	if network != "udp" && network != "tcp" {
		return nil, fmt.Errorf("audit: syslog network must be udp or tcp, not %q", network)
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "-"
	}
	return &SyslogSink{network: network, addr: addr, host: host}, nil
}

// Send delivers the lines, one message each.
func (s *SyslogSink) Send(ctx context.Context, lines [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		d := net.Dialer{Timeout: 5 * time.Second}
		c, err := d.DialContext(ctx, s.network, s.addr)
		if err != nil {
			return err
		}
		s.conn = c
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = s.conn.SetWriteDeadline(dl)
	}
	for _, l := range lines {
		msg := s.format(l)
		if s.network == "tcp" {
			msg = append(fmt.Appendf(nil, "%d ", len(msg)), msg...)
		}
		if _, err := s.conn.Write(msg); err != nil {
			_ = s.conn.Close()
			s.conn = nil
			return err
		}
	}
	return nil
}

// format builds one RFC 5424 message around a record's JSON.
func (s *SyslogSink) format(line []byte) []byte {
	sev := 5 // notice
	if bytes.Contains(line, []byte(`"outcome":"allowed"`)) {
		sev = 6 // info
	}
	pri := 16*8 + sev // local0
	ts := time.Now().UTC().Format(time.RFC3339Nano)
	return append(fmt.Appendf(nil, "<%d>1 %s %s arca %d audit - ", pri, ts, s.host, os.Getpid()), line...)
}

// Close closes the connection.
func (s *SyslogSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		err := s.conn.Close()
		s.conn = nil
		return err
	}
	return nil
}

// WebhookSink POSTs batches of records, as a JSON array, to a URL: the
// usual way into a SIEM's HTTP collector.
type WebhookSink struct {
	URL    string
	Header http.Header
	Client *http.Client
}

// Send posts one batch; any status other than 2xx is a failure.
func (s *WebhookSink) Send(ctx context.Context, lines [][]byte) error {
	body := append([]byte{'['}, bytes.Join(lines, []byte{','})...)
	body = append(body, ']')
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range s.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	c := s.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("audit: webhook answered %d", resp.StatusCode)
	}
	return nil
}

// Close does nothing.
func (s *WebhookSink) Close() error { return nil }

// Search passes a search to the primary log.
func (f *Fanout) Search(filter Filter, cursor, limit int) ([]Record, int, error) {
	if s, ok := f.Primary.(Searcher); ok {
		return s.Search(filter, cursor, limit)
	}
	return nil, 0, fmt.Errorf("audit: the primary log cannot be searched")
}

// Each passes a walk over matching records to the primary log.
func (f *Fanout) Each(filter Filter, fn func(*Record) error) error {
	if s, ok := f.Primary.(Searcher); ok {
		return s.Each(filter, fn)
	}
	return fmt.Errorf("audit: the primary log cannot be searched")
}

// Searcher is implemented by logs that can be searched through an index.
type Searcher interface {
	// Search returns a page of matching records, newest first.
	Search(f Filter, cursor, limit int) ([]Record, int, error)
	// Each calls fn for every matching record, newest first.
	Each(f Filter, fn func(*Record) error) error
}
