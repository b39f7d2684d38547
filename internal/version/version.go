// Package version holds the Arca version, set at build time with
// -ldflags "-X github.com/arcakms/arca/internal/version.Version=...".
package version

// Version is the server and CLI version.
var Version = "0.1.0-dev"
