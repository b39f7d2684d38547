// Package cli implements the arca command-line tool: an operator and
// developer front end to the Arca REST API, built on the public client SDK
// (github.com/arcakms/arca/client).
//
// Exit codes: 0 success, 1 error, 2 usage error (and, for
// "arca operator status", a sealed server).
package cli
