package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// maxInput bounds what is read from a file or stdin. It is well above the
// API's per-item limits (48 KiB of plaintext) so that the server, not the
// CLI, reports oversized data, while keeping memory use bounded.
const maxInput = 1 << 20

// inputSource is where a command takes its data from: an inline flag value,
// a file given with --in ("-" is stdin), or stdin.
type inputSource struct {
	inlineFlag string // name of the inline flag, e.g. "plaintext"
	inline     string
	file       string
}

// read returns the command's input. Giving both the inline flag and --in is
// a usage error.
func (s *inputSource) read(cmd *cobra.Command, what string) ([]byte, error) {
	inlineSet := cmd.Flags().Changed(s.inlineFlag)
	if inlineSet && s.file != "" {
		return nil, usageErrorf(cmd, "give either --%s or --in, not both", s.inlineFlag)
	}
	if inlineSet {
		return []byte(s.inline), nil
	}
	if s.file != "" && s.file != "-" {
		f, err := os.Open(s.file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readLimited(f, s.file)
	}
	in := cmd.InOrStdin()
	if isTerminal(in) {
		fmt.Fprintf(cmd.ErrOrStderr(), "Reading %s from stdin; end with Ctrl-D.\n", what)
	}
	return readLimited(in, "stdin")
}

// readLimited reads all of r, failing beyond maxInput bytes.
func readLimited(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(b) > maxInput {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, maxInput)
	}
	return b, nil
}

// readLine reads one line from r without its line ending and surrounding
// spaces.
func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, maxInput)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	return strings.TrimSpace(line), nil
}

// isTerminal reports whether r is an interactive terminal (a character
// device), in which case prompts are shown.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
