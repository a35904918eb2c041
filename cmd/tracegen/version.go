package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
)

// version returns the module version of this binary ("(devel)" for a local build),
// with the VCS revision when the build recorded one.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " " + rev + modified
	}
	return v
}

// toolKey identifies this exact tracegen binary for the overlay cache: a
// released version is enough, but a development build ("(devel)") may change
// with every edit, so its key also covers the executable's path, size and
// modification time. A cached rewrite is reused only by the binary that made it.
var toolKey = sync.OnceValue(func() string {
	h := sha256.New()
	fmt.Fprintln(h, version())
	if bi, ok := debug.ReadBuildInfo(); !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		if exe, err := os.Executable(); err == nil {
			if fi, err := os.Stat(exe); err == nil {
				fmt.Fprintln(h, exe, fi.Size(), fi.ModTime().UnixNano())
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
})
