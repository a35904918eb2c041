package main

// OWNER: the LLM-rules work (package rules). This file is a placeholder kept
// small on purpose so that the rules colleague can replace its bodies without
// touching the rest of the command: wire `tracegen rules` to rules.List and
// -rules into instrument.Config once the rewriter accepts extra rules.

import (
	"fmt"
	"os"
)

// rulesCommand implements `tracegen rules`: list the built-in LLM call rules.
func (a *app) rulesCommand() error {
	a.logf("'tracegen rules' is not available yet: the LLM call rules are not wired into this build")
	return errUsage
}

// checkRulesFile validates the -rules flag before anything is loaded.
func (a *app) checkRulesFile(path string) error {
	if _, err := os.Stat(path); err != nil {
		a.logf("-rules: %v", err)
		return errUsage
	}
	a.logf("-rules %s: extra LLM call rules are not supported yet in this build (the rewriter does not accept them); remove the flag", path)
	return fmt.Errorf("%w: -rules", errUsage)
}
