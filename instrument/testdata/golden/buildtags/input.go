//go:build !windows && !tracegen_never

// Package buildtags has a build constraint that must stay first.
package buildtags

//trace:span
func Unix() string { return "unix" }
