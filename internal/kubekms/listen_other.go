//go:build !unix

package kubekms

import "net"

// listenPrivate listens on a unix socket at path; listenSocket then
// restricts its mode, as this platform has no umask.
func listenPrivate(path string) (net.Listener, error) {
	return net.Listen("unix", path)
}
