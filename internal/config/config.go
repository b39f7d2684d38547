// Package config loads the server configuration from defaults, a YAML file,
// environment variables and flags, in that order of precedence (later wins).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the server configuration.
type Config struct {
	// Listen is the address of the REST API, host:port.
	Listen string `yaml:"listen"`
	// TLS enables HTTPS when both files are set.
	TLS TLS `yaml:"tls"`
	// Storage selects and configures the storage backend.
	Storage Storage `yaml:"storage"`
	// Audit configures the audit log.
	Audit Audit `yaml:"audit"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// PolicyFile is the crypto policy (YAML); empty means the permissive
	// default policy.
	PolicyFile string `yaml:"policy_file"`
	// Approvals puts actions under dual control (quorum approval): none
	// by default. See docs/access.md.
	Approvals []Approval `yaml:"approvals"`
	// RateLimit bounds each identity's requests; none by default.
	RateLimit RateLimit `yaml:"rate_limit"`
	// SeparationOfDuties lists pairs of built-in roles no identity may
	// hold on overlapping scopes; absent means the built-in rules
	// (docs/access.md), an empty list means none.
	SeparationOfDuties *[]SoDRule `yaml:"separation_of_duties"`
	// SchedulerInterval is how often the leader looks for due background
	// work: scheduled rotation, activation, deactivation and destruction
	// (default one minute).
	SchedulerInterval time.Duration `yaml:"scheduler_interval"`
	// Node names this server in audit records and health (default: the
	// host name); give each node of a cluster its own.
	Node string `yaml:"node"`
	// Backup configures scheduled backups (none by default).
	Backup Backup `yaml:"backup"`
	// Seal says where the root key lives: "shamir" (default: shares held
	// by operators) or "pkcs11" (an HSM). A Shamir seal with seal.pkcs11
	// set also opens that HSM, for HSM-protected keys and to migrate the
	// seal into it.
	Seal Seal `yaml:"seal"`
	// AWSKMS configures the AWS-KMS-compatible API on the listener (on by
	// default; it answers only requests signed with an access key).
	AWSKMS AWSKMS `yaml:"aws_kms"`
	// KMIP serves the KMIP protocol on its own port (off unless listen is
	// set); it needs tls.cert_file, tls.key_file and tls.client_ca_file.
	KMIP KMIP `yaml:"kmip"`
	// Transit serves the Vault-Transit-compatible API on the listener (on
	// by default, at /v1/transit/).
	Transit Transit `yaml:"transit"`
}

// Transit configures the Vault-Transit-compatible API.
type Transit struct {
	// Disabled turns the API off.
	Disabled bool `yaml:"disabled"`
	// Mounts are the paths it answers under /v1/ (default ["transit"]).
	Mounts []string `yaml:"mounts"`
}

// KMIP configures the KMIP server.
type KMIP struct {
	// Enabled turns KMIP on (also implied by Listen).
	Enabled bool `yaml:"enabled"`
	// Listen is host:port (default DefaultKMIPListen, KMIP's port on
	// loopback).
	Listen string `yaml:"listen"`
}

// DefaultKMIPListen is where KMIP listens when enabled without an address.
const DefaultKMIPListen = "127.0.0.1:5696"

// On reports whether KMIP is served.
func (k KMIP) On() bool { return k.Enabled || k.Listen != "" }

// Addr is the address KMIP listens on.
func (k KMIP) Addr() string {
	if k.Listen == "" {
		return DefaultKMIPListen
	}
	return k.Listen
}

// AWSKMS configures the AWS-KMS-compatible API.
type AWSKMS struct {
	// Disabled turns the API off: requests with an X-Amz-Target header
	// then reach the REST API, which refuses them.
	Disabled bool `yaml:"disabled"`
	// Account is the 12-digit account id in ARNs (default 000000000000).
	Account string `yaml:"account"`
	// Region, if set, is the only region accepted in signatures;
	// otherwise ARNs carry the region each request was signed for.
	Region string `yaml:"region"`
}

// Seal configures the root of the key hierarchy.
type Seal struct {
	Type   string `yaml:"type"`
	PKCS11 PKCS11 `yaml:"pkcs11"`
}

// PKCS11 locates the HSM token and its seal key. The PIN is never in this
// file: it comes from ARCA_PKCS11_PIN or from PINFile.
type PKCS11 struct {
	// Module is the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so.
	Module string `yaml:"module"`
	// TokenLabel selects the token; Slot selects it by slot id instead.
	TokenLabel string `yaml:"token_label"`
	Slot       *uint  `yaml:"slot"`
	// KeyLabel names the token's AES-256 seal key (default arca-root).
	KeyLabel string `yaml:"key_label"`
	// PINFile holds the user PIN (mode 0600 advised).
	PINFile string `yaml:"pin_file"`
}

// Backup makes the leader write a backup into Dir every Interval, keeping
// the newest Keep.
type Backup struct {
	Dir      string        `yaml:"dir"`
	Interval time.Duration `yaml:"interval"`
	Keep     int           `yaml:"keep"`
}

// SoDRule forbids holding two roles together, with the reason shown in
// refusals.
type SoDRule struct {
	Roles  []string `yaml:"roles"`
	Reason string   `yaml:"reason"`
}

// RateLimit is a per-identity token bucket: RequestsPerSecond on average,
// bursts of Burst. Zero RequestsPerSecond means no limit.
type RateLimit struct {
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	Burst             int     `yaml:"burst"`
}

// Approval is one dual-control rule: requests for Action wait for
// Approvers approvals by other identities, within TTL (a Go duration or
// days, e.g. "24h", "2d").
type Approval struct {
	Action    string `yaml:"action"`
	Approvers int    `yaml:"approvers"`
	TTL       string `yaml:"ttl"`
}

// TLS holds the server certificate and key files (PEM).
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ClientCAFile (PEM) enables client certificate authentication (mTLS):
	// certificates signed by these CAs authenticate the identity bound to
	// their public key.
	ClientCAFile string `yaml:"client_ca_file"`
	// RequireClientCert refuses TLS connections without a valid client
	// certificate (bearer tokens then work only alongside one).
	RequireClientCert bool `yaml:"require_client_cert"`
}

// Enabled reports whether TLS is configured.
func (t TLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// Storage configures the storage backend.
type Storage struct {
	// Type is the backend: "bolt" (embedded, the default) or "postgres"
	// (shared by several nodes).
	Type string `yaml:"type"`
	// Path is the bbolt database file.
	Path string `yaml:"path"`
	// DSN is the PostgreSQL connection string. It may hold a password:
	// prefer ARCA_STORAGE_DSN, or a password file (PGPASSFILE).
	DSN string `yaml:"dsn"`
	// Schema is the PostgreSQL schema of Arca's tables (default "arca").
	Schema string `yaml:"schema"`
	// Timeout bounds each PostgreSQL transaction (default 5s); past it the
	// request fails with 503 storage_unavailable.
	Timeout time.Duration `yaml:"timeout"`
	// OutageGrace lets encryption, decryption and the other operations with
	// keys already cached go on this long into a PostgreSQL outage, for
	// credentials authenticated shortly before it (default 0: off). During
	// it, a token revoked or an identity disabled elsewhere is not seen by
	// this node: see docs/operations.md before turning it on.
	OutageGrace time.Duration `yaml:"outage_grace"`
}

// Audit configures the primary audit log.
type Audit struct {
	// Path is the audit log file (JSON lines).
	Path string `yaml:"path"`
	// NoSync disables fsync of audit records. Records then do not survive a
	// power loss; never set it in production.
	NoSync bool `yaml:"no_sync"`
	// MaxSizeMB rotates the audit file when it reaches this size (0:
	// never); rotated files continue the hash chain.
	MaxSizeMB int `yaml:"max_size_mb"`
	// CheckpointInterval is how often a signed checkpoint is appended when
	// records were written since the last one (default one minute; one is
	// also written at shutdown). Records after the last checkpoint are the
	// ones a rewrite of the log's tail could change unseen.
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
	// Sinks receive copies of every record, best effort (the file alone
	// gates requests).
	Sinks []AuditSink `yaml:"sinks"`
}

// AuditSink is one copy of the audit trail: Type "stdout"; "syslog" with
// Network ("udp" or "tcp") and Address; or "webhook" with URL.
type AuditSink struct {
	Type    string `yaml:"type"`
	Network string `yaml:"network"`
	Address string `yaml:"address"`
	URL     string `yaml:"url"`
}

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		Listen:   "127.0.0.1:8200",
		Storage:  Storage{Type: "bolt", Path: "arca-data/arca.db"},
		Audit:    Audit{Path: "arca-data/audit.log", CheckpointInterval: time.Minute},
		LogLevel: "info",
		// The scheduler's pass is cheap: it reads only the keys' schedule.
		SchedulerInterval: time.Minute,
	}
}

// LoadFile merges the YAML file at path into c. Unknown keys are errors, so
// a typo cannot silently leave a setting at its default.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: read %s: %w", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config: parse %s: %w", path, err)
	}
	return nil
}

// envVars maps environment variables to the settings they override.
var envVars = []struct {
	name string
	set  func(c *Config, v string) error
}{
	{"ARCA_LISTEN", func(c *Config, v string) error { c.Listen = v; return nil }},
	{"ARCA_TLS_CERT_FILE", func(c *Config, v string) error { c.TLS.CertFile = v; return nil }},
	{"ARCA_TLS_KEY_FILE", func(c *Config, v string) error { c.TLS.KeyFile = v; return nil }},
	{"ARCA_TLS_CLIENT_CA_FILE", func(c *Config, v string) error { c.TLS.ClientCAFile = v; return nil }},
	{"ARCA_STORAGE_TYPE", func(c *Config, v string) error { c.Storage.Type = v; return nil }},
	{"ARCA_STORAGE_PATH", func(c *Config, v string) error { c.Storage.Path = v; return nil }},
	{"ARCA_STORAGE_DSN", func(c *Config, v string) error { c.Storage.DSN = v; return nil }},
	{"ARCA_AUDIT_PATH", func(c *Config, v string) error { c.Audit.Path = v; return nil }},
	{"ARCA_AUDIT_NO_SYNC", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		c.Audit.NoSync = b
		return err
	}},
	{"ARCA_LOG_LEVEL", func(c *Config, v string) error { c.LogLevel = v; return nil }},
	{"ARCA_NODE", func(c *Config, v string) error { c.Node = v; return nil }},
	{"ARCA_POLICY_FILE", func(c *Config, v string) error { c.PolicyFile = v; return nil }},
}

// EnvNames lists the environment variables LoadEnv reads.
func EnvNames() []string {
	names := make([]string, len(envVars))
	for i, e := range envVars {
		names[i] = e.name
	}
	return names
}

// LoadEnv applies the ARCA_* environment variables found by lookup.
func (c *Config) LoadEnv(lookup func(string) (string, bool)) error {
	for _, e := range envVars {
		if v, ok := lookup(e.name); ok && v != "" {
			if err := e.set(c, v); err != nil {
				return fmt.Errorf("config: %s: %w", e.name, err)
			}
		}
	}
	return nil
}

// Validate checks the configuration, including the rule that plain HTTP is
// only served on a loopback address.
func (c *Config) Validate() error {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("config: listen %q: %w", c.Listen, err)
	}
	if c.TLS.Enabled() && (c.TLS.CertFile == "" || c.TLS.KeyFile == "") {
		return errors.New("config: tls needs both cert_file and key_file")
	}
	if (c.TLS.ClientCAFile != "" || c.TLS.RequireClientCert) && !c.TLS.Enabled() {
		return errors.New("config: tls.client_ca_file and tls.require_client_cert need tls.cert_file and tls.key_file")
	}
	if c.TLS.RequireClientCert && c.TLS.ClientCAFile == "" {
		return errors.New("config: tls.require_client_cert needs tls.client_ca_file")
	}
	if !c.TLS.Enabled() && !IsLoopback(host) {
		return fmt.Errorf("config: refusing plain HTTP on %q: without TLS Arca listens only on a loopback address (configure tls.cert_file and tls.key_file)", c.Listen)
	}
	switch c.Storage.Type {
	case "bolt":
		if c.Storage.Path == "" {
			return errors.New("config: storage.path is required for the bolt backend")
		}
	case "postgres":
		if c.Storage.DSN == "" {
			return errors.New("config: storage.dsn (or ARCA_STORAGE_DSN) is required for the postgres backend")
		}
		if c.Storage.Timeout < 0 {
			return errors.New("config: storage.timeout must not be negative")
		}
		if c.Storage.OutageGrace < 0 || c.Storage.OutageGrace > 24*time.Hour {
			return errors.New("config: storage.outage_grace must be between 0 (off) and 24h")
		}
	default:
		return fmt.Errorf("config: unsupported storage type %q (supported: bolt, postgres)", c.Storage.Type)
	}
	if c.Audit.Path == "" {
		return errors.New("config: audit.path is required")
	}
	p := c.Seal.PKCS11
	switch c.Seal.Type {
	case "", "shamir":
		if p.Module != "" && p.TokenLabel == "" && p.Slot == nil {
			return errors.New("config: seal.pkcs11 needs token_label or slot with module")
		}
	case "pkcs11":
		if p.Module == "" || (p.TokenLabel == "" && p.Slot == nil) {
			return errors.New("config: seal.pkcs11 needs module, and token_label or slot")
		}
	default:
		return fmt.Errorf("config: seal.type %q must be shamir or pkcs11", c.Seal.Type)
	}
	if c.KMIP.On() && (c.TLS.CertFile == "" || c.TLS.KeyFile == "" || c.TLS.ClientCAFile == "") {
		return errors.New("config: kmip needs tls.cert_file, tls.key_file and tls.client_ca_file (KMIP is mutual TLS)")
	}
	if a := c.AWSKMS.Account; a != "" && (len(a) != 12 || strings.Trim(a, "0123456789") != "") {
		return errors.New("config: aws_kms.account must be 12 digits")
	}
	if c.Backup.Dir != "" && (c.Backup.Interval < time.Minute || c.Backup.Keep < 1) {
		return errors.New("config: backup needs interval (1m or more) and keep (1 or more) with dir")
	}
	if c.SchedulerInterval < time.Second || c.SchedulerInterval > time.Hour {
		return errors.New("config: scheduler_interval must be between 1s and 1h")
	}
	if c.Audit.MaxSizeMB < 0 {
		return errors.New("config: audit.max_size_mb must be 0 (no rotation) or more")
	}
	if c.Audit.CheckpointInterval < time.Second || c.Audit.CheckpointInterval > 24*time.Hour {
		return errors.New("config: audit.checkpoint_interval must be between 1s and 24h")
	}
	if c.RateLimit.RequestsPerSecond < 0 || c.RateLimit.Burst < 0 || (c.RateLimit.RequestsPerSecond > 0 && c.RateLimit.Burst < 1) {
		return errors.New("config: rate_limit needs requests_per_second > 0 and burst >= 1 (or requests_per_second 0 for no limit)")
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: log_level %q must be debug, info, warn or error", c.LogLevel)
	}
	return nil
}

// IsLoopback reports whether host (a listen host) is a loopback address.
// An empty host means every interface and is not loopback.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
