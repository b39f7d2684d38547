//go:build unix

package kubekms

import (
	"net"
	"sync"
	"syscall"
)

// umaskMu serialises the umask changes of listenPrivate: the umask is
// per process, and two at once would restore each other's.
var umaskMu sync.Mutex

// listenPrivate listens on a unix socket at path created with mode 0600:
// the umask is narrowed while the socket is bound, so the socket is never
// reachable by others, not even between its creation and a chmod. The
// plugin binds its socket once, at start, so the narrowed umask cannot
// affect other files.
func listenPrivate(path string) (net.Listener, error) {
	umaskMu.Lock()
	defer umaskMu.Unlock()
	old := syscall.Umask(0o177)
	defer syscall.Umask(old)
	return net.Listen("unix", path)
}
