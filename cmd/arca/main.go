// Command arca is the Arca key management server and its command-line client.
package main

import (
	"os"

	"github.com/arcakms/arca/internal/cli"
)

func main() { os.Exit(cli.Main()) }
