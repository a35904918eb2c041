//go:build race

package pii

func init() { raceEnabled = true }
